"""Calibration speed benchmark: one simulated history, compiled vs the general engine, side by side.

Run from the repository root::

    python benchmarks/bench_calibration.py            # five repeats (about half a minute)
    python benchmarks/bench_calibration.py --quick    # one repeat

The calibration of ``simbench validate`` simulates the same uniform GRPO
history (the shipped log's run: 1,209 prompts, batch 128, n = 8, here 13
appearances, 124 steps) thousands of times.  This times one history with the
format gate and KL pull on, at feature dimensions 4, 16 and 64, through

1. ``RecordingCell`` (the general engine, ``Cell.run_step`` once per step), and
2. ``compiled_counts`` (the whole history in one numba call on the same streams),

after a warm-up of each (numba compilation excluded), checks that both give the
same counts, and prints the ratio.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout's simbench, not an installed copy

import numpy as np  # noqa: E402

from simbench.worlds.replay.population_fit import PopulationFit  # noqa: E402
from simbench.worlds.replay.simulate import (  # noqa: E402
    CalibrationParams,
    LogAlgorithm,
    RecordingCell,
    build_scenario,
    compiled_counts,
)

ALGO = LogAlgorithm(n=8, batch=128, prompts=1209)
APPEARANCES = 13
INIT = PopulationFit((0.6, 0.4), (0.3, 2.0), (1.2, 1.0), 0.0, 0)  # about the shipped log's first appearance
PARAMS = CalibrationParams(lr_shared=0.03, lr_prompt=6.0, skill_shape=2.2, idio_scale=0.55, grad_noise=10.5, kl_coef=1e-4,
                           format_fail=0.066, lr_format=3.7)


def best_time(run, repeats: int) -> tuple[float, object]:
    out = run()  # warm-up: numba compilation and caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed repeat instead of five")
    args = parser.parse_args()
    repeats = 1 if args.quick else 5
    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}, python {sys.version.split()[0]}, numpy {np.__version__}")
    print(f"one history: uniform GRPO, {ALGO.prompts} prompts, batch {ALGO.batch}, n = {ALGO.n}, {APPEARANCES} appearances, "
          f"format gate and KL on; best of {repeats}")
    ratios = []
    for dim in (4, 16, 64):
        sc = build_scenario(INIT, dataclasses.replace(PARAMS, dim=dim), ALGO, APPEARANCES, seed=0)
        t_engine, (Ke, Ne) = best_time(lambda: RecordingCell(sc, APPEARANCES).run_until_done(), repeats)
        t_comp, (Kc, Nc) = best_time(lambda: compiled_counts(sc, APPEARANCES), repeats)
        same = np.array_equal(Ke, Kc) and np.array_equal(Ne, Nc)
        steps = sc.engine.steps
        ratios.append(t_engine / t_comp)
        print(f"  d = {dim:2d}: engine {t_engine * 1e3:7.1f} ms ({t_engine / steps * 1e6:5.0f} us/step), compiled "
              f"{t_comp * 1e3:6.1f} ms ({t_comp / steps * 1e6:4.0f} us/step): {ratios[-1]:5.1f}x; identical counts: {'yes' if same else 'NO'}")
        if not same:
            print("the compiled history differs from the engine's", file=sys.stderr)
            return 1
    print(f"RESULT calibration: compiled history {min(ratios):.1f}-{max(ratios):.1f}x faster than the general engine "
          "(d = 4-64, identical counts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
