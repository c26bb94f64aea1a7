"""Sweep scale: wall time on 1 and 2 workers, and peak memory of reading and reporting a large store.

1. A sweep of 8 strategies x 16 seeds x 300 steps on a 512-prompt pool (batch 64), run into a fresh
   store with 1 worker and then with 2; prints both wall times and the speedup (target >= 1.8x).
2. A store of 1,000 units x 10,000 rows (synthetic rows with the real column set) written straight
   to disk; then, in a fresh process, ``simbench report`` on it; prints that process's peak RSS
   (target < 1 GB).

Each part ends with a line ``RESULT <name>: ...`` for ``benchmarks/run_all.py``.  ``--quick``: 8 seeds x 150
steps, and a store of 250 units.

    python benchmarks/bench_sweep.py [--quick] [--skip-scaling] [--skip-memory]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

STRATEGIES = [
    {"allocator": {"kind": "uniform", "n": 8}},
    {"name": "uniform-16", "allocator": {"kind": "uniform", "n": 16}},
    {"allocator": {"kind": "dapo", "n": 8, "on_exhausted": "train"}},
    {"allocator": {"kind": "reinforce_ada"}},
    {"allocator": {"kind": "gvm"}},
    {"allocator": {"kind": "knapsack", "solver": "greedy"}},
    {"allocator": {"kind": "speed_rl"}},
    {"name": "thompson", "selector": "thompson", "allocator": {"kind": "uniform", "n": 8}},
]


def scaling(tmp: Path, seeds: int = 16, steps: int = 300) -> None:
    data = {"name": "bench_sweep", "seeds": seeds, "population": {"train_prompts": 512, "test_prompts": 256},
            "engine": {"steps": steps, "batch_prompts": 64}, "strategies": STRATEGIES}
    size = f"8 strategies x {seeds} seeds x {steps} steps x 512 prompts"
    path = tmp / "sweep.toml"
    path.write_text(tomli_w.dumps(data))
    times = {}
    for workers in (1, 2):
        out = tmp / f"out{workers}"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simbench.cli", "run", str(path), "--out", str(out), "--workers", str(workers),
                        "--quiet"], check=True)
        times[workers] = time.perf_counter() - t0
        print(f"{size}, {workers} worker(s): {times[workers]:.1f} s", flush=True)
    same = pd.read_parquet(tmp / "out1" / "results.parquet").equals(pd.read_parquet(tmp / "out2" / "results.parquet"))
    print(f"speedup 1 -> 2 workers, whole command (incl. start-up, loading and the serial report): "
          f"{times[1] / times[2]:.2f}x (target >= 1.8x); identical results: {same}")
    # the parallel part alone: the units, executed in this process's pool, no store or report
    from simbench.core.runner import execute, units_of
    from simbench.worlds import parse_scenario

    todo = units_of("base", parse_scenario(data), {})
    phase = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        execute(todo, None, workers=workers, progress=False)
        phase[workers] = time.perf_counter() - t0
    print(f"units only: 1 worker {phase[1]:.1f} s, 2 workers {phase[2]:.1f} s, speedup {phase[1] / phase[2]:.2f}x "
          f"(os.cpu_count() = {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f})")
    print(f"RESULT sweep: {size}, the units alone: {phase[1]:.1f} s on 1 worker, {phase[2]:.1f} s on 2: "
          f"{phase[1] / phase[2]:.2f}x (target >= 1.8x); the whole command {times[1]:.1f} s vs {times[2]:.1f} s: "
          f"{times[1] / times[2]:.2f}x; identical results: {same}")


def memory(tmp: Path, units: int = 1000, rows: int = 10_000) -> None:
    store = tmp / "big"
    (store / "units").mkdir(parents=True)
    rng = np.random.default_rng(0)
    allocs = [f"alloc{i}" for i in range(8)]
    steps = np.arange(rows)
    t0 = time.perf_counter()
    for u in range(units):
        a, seed = allocs[u % 8], u // 8
        df = pd.DataFrame({
            "allocator": a, "seed": seed, "step": steps, "samples": 512, "tokens": 500_000,
            "cum_samples": 512 * steps, "cum_tokens": 500_000 * steps, "prompts": 64, "trained_prompts": 64,
            "trained_samples": 512, "waves": 1, "groups_all_pass": rng.integers(0, 20, rows), "groups_all_fail": rng.integers(0, 20, rows),
            "groups_mixed": rng.integers(20, 40, rows), "effective_ratio": rng.random(rows),
            "train_pass": 0.3 + 0.3 * steps / rows, "test_pass": 0.3 + 0.3 * steps / rows + rng.normal(0, 0.01, rows),
            "test_pass_at_8": rng.random(rows),
        })
        df.to_parquet(store / "units" / f"base__{u % 8:03d}-{a}__seed{seed:04d}.parquet", index=False)
    from simbench.core.store import write_manifest

    write_manifest(store, {"world": "rl", "title": "big", "command": "", "swept": [], "cells": [{"id": "base", "params": {}}],
                           "baseline": "alloc0", "target_test_pass": None})
    print(f"wrote {units} units x {rows} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    code = ("import resource, time, sys; t=time.perf_counter(); from simbench.cli import main; "
            f"rc = main(['report', {str(store)!r}, '--baseline', 'alloc0']); "
            "print('%.1f %.0f' % (time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds, mb = map(float, done.stdout.split()[-2:])
    print(f"report: {seconds:.0f} s, peak RSS {mb:.0f} MB")
    print(f"RESULT report_memory: `simbench report` on {units:,} units x {rows:,} rows (at most 1,000 steps read per unit): "
          f"{seconds:.0f} s, peak RSS {mb / 1024:.2f} GB (target < 1 GB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="8 seeds x 150 steps, and a store of 250 units")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_scaling:
            scaling(tmp, *((8, 150) if args.quick else (16, 300)))
        if not args.skip_memory:
            memory(tmp, units=250 if args.quick else 1000)


if __name__ == "__main__":
    main()
