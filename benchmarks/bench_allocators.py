"""Planning time per step of every registered sample allocator, at 512 and 65,536 prompts.

Each allocator (default parameters) plans wave 0 and wave 1 of a step on a random
view (``simbench.testing.make_view``) with a budget of 8 samples per prompt.
Prints the median over repeats of one ``allocate`` call, measured on this machine, and
a last line ``RESULT allocators: ...`` (wave 0 at both sizes) for ``benchmarks/run_all.py``.

    python benchmarks/bench_allocators.py [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import simbench.registry as reg
from simbench.testing import make_view


def plan_time(cls, n_slots: int, wave: int, repeats: int) -> float:
    probe = cls()
    view = make_view(
        np.random.default_rng(0), n_slots, wave=wave, budget=8.0 * n_slots, history_steps=2,
        with_truth=probe.uses_oracle, with_grad_norms=probe.needs_grad_norms,
    )
    times = []
    for r in range(repeats + 1):
        alloc = cls()
        alloc.reset(view.info, np.random.default_rng(r))
        t0 = time.perf_counter()
        alloc.allocate(view)
        times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]))  # the first call may compile a kernel


def _ms(seconds: float) -> str:
    """Milliseconds to 3 significant digits, without an exponent."""
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="median of 5 and 3 calls instead of 9 and 5")
    repeats = (5, 3) if ap.parse_args().quick else (9, 5)
    print(f"{'allocator':<28} {'wave':>4} {'512 prompts':>14} {'65,536 prompts':>16}")
    first = []
    for name, cls in reg.registry("allocator").items():
        for wave in (0, 1):
            small = plan_time(cls, 512, wave, repeats[0])
            large = plan_time(cls, 65_536, wave, repeats[1])
            print(f"{name:<28} {wave:>4} {small * 1e3:>11.3f} ms {large * 1e3:>13.2f} ms", flush=True)
            if wave == 0:
                first.append(f"{name} {_ms(small)} / {_ms(large)}")
    print(f"RESULT allocators: planning one step (wave 0, median of {repeats[0]} / {repeats[1]} calls) at 512 / 65,536 prompts, "
          f"ms: {'; '.join(first)}")


if __name__ == "__main__":
    main()
