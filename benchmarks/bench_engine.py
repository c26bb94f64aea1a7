"""Engine speed and memory benchmark: prints what it measures on this machine.

Run from the repository root::

    python benchmarks/bench_engine.py            # full benchmark (about a minute)
    python benchmarks/bench_engine.py --quick    # fewer repeats

1. ns per simulated sample of the engine on uniform GRPO (512 prompts x 16
   samples x 200 steps), timing ``run_cell`` after a warm-up run so that numba
   compilation is excluded;
2. the raw cost of numpy ``Generator.random`` per number (bulk, into a
   preallocated buffer) and of ``Generator.standard_normal``, measured in the
   same process; one simulated sample needs one uniform (its reward) and one
   normal (its length), so both ratios are printed;
3. the peak memory (max RSS) of one run over a 1,000,000-prompt train pool,
   measured in a fresh subprocess.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout's simbench, not an installed copy

import numpy as np  # noqa: E402

from simbench.worlds import parse_scenario  # noqa: E402
from simbench.worlds.rl.engine import run_cell  # noqa: E402

SPEED_SCENARIO = {
    "name": "bench-speed",
    "seeds": 1,
    "population": {"train_prompts": 512, "test_prompts": 512},
    "engine": {"steps": 200, "batch_prompts": 512},
    "strategies": [{"allocator": {"kind": "uniform", "n": 16}}],
}

MEMORY_SCENARIO = {
    "name": "bench-memory",
    "seeds": 1,
    "population": {"train_prompts": 1_000_000, "test_prompts": 512},
    "engine": {"steps": 10, "batch_prompts": 512},
    "strategies": [{"allocator": {"kind": "uniform", "n": 16}}],
}


def engine_ns_per_sample(repeats: int) -> tuple[list[float], int]:
    sc = parse_scenario(SPEED_SCENARIO)
    run_cell(sc, 0, 0)  # warm-up: numba compilation and caches
    times, samples = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        rows = run_cell(sc, 0, 0)
        times.append(time.perf_counter() - t0)
        samples = sum(r["samples"] for r in rows)
    return [t / samples * 1e9 for t in times], samples


def draw_kernel_ns_per_sample(steps: int = 200) -> float:
    """The outcome kernel alone on the same shape (512 slots x 16): the floor the engine cannot go below."""
    import math

    from simbench.worlds.rl import kernels

    rng = np.random.default_rng(1)
    n = np.full(512, 16, np.int64)
    p, mean_len = rng.random(512), rng.uniform(300, 900, 512)
    kernels.draw_wave(rng, n, p, mean_len, 1.3, 0.4, 3072, math.inf)
    t0 = time.perf_counter()
    for _ in range(steps):
        kernels.draw_wave(rng, n, p, mean_len, 1.3, 0.4, 3072, math.inf)
    return (time.perf_counter() - t0) / (steps * 512 * 16) * 1e9


def rng_ns_per_number(method: str, total: int = 20_000_000, chunk: int = 1 << 16, repeats: int = 5) -> list[float]:
    """Bulk draws into a preallocated buffer (no allocation or page faults in the timing)."""
    rng = np.random.default_rng(0)
    buf = np.empty(chunk)
    draw = getattr(rng, method)
    draw(out=buf)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(total // chunk):
            draw(out=buf)
        out.append((time.perf_counter() - t0) / ((total // chunk) * chunk) * 1e9)
    return out


def peak_memory_subprocess() -> dict:
    code = (
        "import json, resource, sys, time\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from simbench.worlds.rl.engine import Cell\n"
        "from simbench.worlds import parse_scenario\n"
        f"sc = parse_scenario(json.loads({json.dumps(json.dumps(MEMORY_SCENARIO))}))\n"
        "t0 = time.perf_counter()\n"
        "cell = Cell(sc, 0, 0)\n"
        "t1 = time.perf_counter()\n"
        "stamps = []\n"
        "rows = cell.run(progress=lambda k: stamps.append(time.perf_counter()))\n"
        "print(json.dumps({'max_rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'build_s': t1 - t0,"
        " 'first_s': stamps[0] - t1, 'rest_s': (stamps[-1] - stamps[0]) / (len(stamps) - 1), 'steps': rows[-1]['step']}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def kernel_line(ns: float) -> str:
    return f"{ns:.1f} ns per sample (one uniform, one normal, one exp, rounding and stores)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed engine run instead of five")
    args = parser.parse_args()
    repeats = 1 if args.quick else 5

    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}, python {sys.version.split()[0]}, numpy {np.__version__}")
    eng, samples = engine_ns_per_sample(repeats)
    uni = rng_ns_per_number("random")
    nrm = rng_ns_per_number("standard_normal")
    kern = min(draw_kernel_ns_per_sample() for _ in range(3))
    e, u, z = min(eng), min(uni), min(nrm)
    print(f"engine, uniform GRPO 512 prompts x 16 samples x 200 steps ({samples:,} samples), best of {repeats}:")
    print(f"  {e:8.1f} ns per simulated sample   (runs: {', '.join(f'{t:.1f}' for t in eng)})")
    print(f"  of which the outcome kernel draw_wave alone costs {kernel_line(kern)}")
    print(f"numpy Generator.random, bulk into a preallocated buffer, best of {len(uni)}:")
    print(f"  {u:8.2f} ns per number            (runs: {', '.join(f'{t:.2f}' for t in uni)})")
    print("numpy Generator.standard_normal, same way:")
    print(f"  {z:8.2f} ns per number            (runs: {', '.join(f'{t:.2f}' for t in nrm)})")
    print(f"ratio engine / Generator.random per number:            {e / u:6.1f}x  (target: within 4x)")
    print(f"ratio engine / (random + standard_normal) per sample:  {e / (u + z):6.1f}x  "
          "(the raw random-number cost of one sample: a uniform for its reward, a normal for its length)")
    print(f"ratio draw_wave kernel alone / Generator.random:       {kern / u:6.1f}x")

    mem = peak_memory_subprocess()
    gb = mem["max_rss_kb"] / 1024**2
    print(f"peak memory (max RSS, fresh subprocess), 1,000,000-prompt train pool (512 test prompts), {mem['steps']} steps x 512 prompts x 16:")
    print(f"  {gb:.3f} GB   (target: < 2 GB; building the pools took {mem['build_s']:.2f} s, "
          f"first step {mem['first_s'] * 1e3:.0f} ms")
    print(f"   (numba cache load, epoch shuffle), then {mem['rest_s'] * 1e3:.1f} ms per step, mostly recomputing the"
          " 1M train pass rates for the metrics row)")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"(this process's own max RSS: {own:.3f} GB)")
    print(f"RESULT engine: uniform GRPO 512 prompts x 16 samples, {e:.1f} ns per simulated sample: {e / (u + z):.1f}x the raw "
          f"random numbers a sample needs (a uniform and a normal), {e / u:.0f}x one Generator.random; peak memory with "
          f"1,000,000 prompts {gb:.2f} GB (target < 2 GB), {mem['rest_s'] * 1e3:.0f} ms per step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
