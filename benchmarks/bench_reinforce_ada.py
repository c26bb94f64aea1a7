"""Reinforce-Ada in simbench vs a pure-Python transcription of the reference per-uid loop.

Both plan one step of 512 prompts (4 rounds of 8, keep 4, balanced) on a
Beta(0.349, 0.707) population.  simbench's time is a whole engine step
(allocation waves, outcome draws, downsampling, advantages, the learner's
update); the reference loop is timed on outcomes drawn beforehand, so it only
does the bookkeeping: the comparison is conservative.  The last line,
``RESULT reinforce_ada: ...``, sums it up for ``benchmarks/run_all.py``.

    python benchmarks/bench_reinforce_ada.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from reference_ada import reference_ada  # noqa: E402

from simbench.worlds import parse_scenario  # noqa: E402
from simbench.worlds.rl.engine import Cell  # noqa: E402


def main(prompts: int = 512, steps: int = 20) -> None:
    data = {"name": "bench", "seeds": 1, "population": {"train_prompts": 4096, "test_prompts": 64,
            "pass_rate": {"kind": "beta", "a": 0.349, "b": 0.707}},
            "engine": {"steps": steps, "batch_prompts": prompts},
            "strategies": [{"allocator": {"kind": "reinforce_ada"}}]}
    cell = Cell(parse_scenario(data), 0, 0)
    cell.run_step(1, np.inf)  # compile
    t0 = time.perf_counter()
    for step in range(2, steps + 2):
        v, keep, adv, w = cell.run_step(step, np.inf)
        cell.record(v, keep)
    ours = (time.perf_counter() - t0) / steps
    rng = np.random.default_rng(0)
    p = rng.beta(0.349, 0.707, prompts)
    streams = [list((rng.random(32) < pi).astype(int)) for pi in p]
    t0 = time.perf_counter()
    for _ in range(steps):
        reference_ada(streams)
    ref = (time.perf_counter() - t0) / steps
    print(f"simbench engine step (reinforce_ada, {prompts} prompts): {ours * 1e3:.2f} ms")
    print(f"pure-Python reference loop (bookkeeping only):        {ref * 1e3:.2f} ms")
    # planning alone: the allocator's four rounds and the downsampler, on the last step's final view
    import dataclasses

    alloc, down = cell.allocator, cell.downsampler
    t0 = time.perf_counter()
    reps = 200
    for _ in range(reps):
        for wave in range(4):
            alloc.allocate(dataclasses.replace(v, wave=wave))
        down.keep(v)
    plan = (time.perf_counter() - t0) / reps
    print(f"simbench planning only (4 allocate calls + keep):     {plan * 1e3:.3f} ms")
    print(f"ratio reference / simbench whole step: {ref / ours:.1f}x; reference / planning only: {ref / plan:.0f}x (target >= 100x)")
    print(f"RESULT reinforce_ada: {prompts} prompts, planning (4 rounds + downsampling) {plan * 1e3:.3f} ms vs the pure-Python "
          f"reference loop {ref * 1e3:.1f} ms: {ref / plan:.0f}x (target >= 100x); a whole engine step {ours * 1e3:.2f} ms: "
          f"{ref / ours:.1f}x")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 timed steps instead of 20")
    main(steps=5 if ap.parse_args().quick else 20)
