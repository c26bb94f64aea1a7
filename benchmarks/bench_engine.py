"""Engine speed and memory benchmark: prints what it measures on this machine, ratios side by side.

Run from the repository root::

    python benchmarks/bench_engine.py            # full benchmark (a few minutes)
    python benchmarks/bench_engine.py --quick    # fewer steps and repeats

1. per-step and per-sample cost of the engine on uniform GRPO at 64 x 8, 512 x 16
   and 4096 x 8 (prompts x samples), against the yardstick (``yardstick_numpy.py``,
   the same model in plain vectorised numpy on the same pools) and against the raw
   random numbers a sample needs (one ``Generator.random`` and one
   ``Generator.standard_normal``, bulk into a preallocated buffer).  Repeats are
   interleaved (engine, yardstick, random numbers, engine, ...) and the best of each
   is kept, so a load that comes and goes hits all three alike; times are CPU time
   of this process, with one BLAS thread; and the 64 x 8 step without the default
   per-step evaluation of the pool-wide pass rates;
2. the per-step cost over a 10,000- and a 1,000,000-prompt train pool, same batch,
   over one epoch of the large pool with ``engine.eval_every = EVAL_EVERY``, and the
   cost of one evaluation of the pool-wide pass rates (what the default, every step, adds);
3. the peak memory (max RSS) of a run over the 1,000,000-prompt pool, in a fresh subprocess.

The last line, ``RESULT engine: ...``, sums it up for ``benchmarks/run_all.py``.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread: CPU time then measures work, not spinning threads

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout's simbench, not an installed copy
sys.path.insert(0, str(REPO / "benchmarks"))

import numpy as np  # noqa: E402
import yardstick_numpy  # noqa: E402

from simbench.worlds import parse_scenario  # noqa: E402
from simbench.worlds.rl.engine import Cell  # noqa: E402

SIZES = ((64, 8, 1024), (512, 16, 512), (4096, 8, 4096))  # prompts per step, samples per prompt, train pool
EVAL_EVERY = 100


def scenario(batch: int, n: int, train: int, steps: int, eval_every: int | None = None, test: int = 512):
    engine = {"steps": steps, "batch_prompts": batch, **({"eval_every": eval_every} if eval_every else {})}
    return parse_scenario({"name": "bench-engine", "seeds": 1, "population": {"train_prompts": train, "test_prompts": test},
                           "engine": engine, "strategies": [{"allocator": {"kind": "uniform", "n": n}}]})


def cpu(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def engine_step(sc) -> float:
    """CPU seconds per step of one run (the pools are built before the clock starts)."""
    cell = Cell(sc, 0, 0)
    return cpu(cell.run) / sc.engine.steps


def yardstick_step(sc) -> float:
    cell = Cell(sc, 0, 0)  # the same pools as the engine's
    e = sc.engine
    n = sc.strategies[0].allocator["n"]
    return cpu(lambda: yardstick_numpy.from_population(cell.learner.train, cell.learner.test, e.steps, e.batch_prompts, n)) / e.steps


def rng_per_sample(samples: int, chunk: int = 1 << 16) -> float:
    """CPU seconds of one uniform plus one normal, drawn in bulk into preallocated buffers."""
    rng = np.random.default_rng(0)
    buf = np.empty(chunk)
    reps = max(samples // chunk, 8)

    def draw():
        for _ in range(reps):
            rng.random(out=buf)
            rng.standard_normal(out=buf)
    return cpu(draw) / (reps * chunk)


def best_of(repeats: int, fns: dict) -> dict:
    """Interleaved repeats of every function; the best (smallest) time of each."""
    out = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            out[k] = min(out[k], fn())
    return out


def pool_steps(steps: int, repeats: int) -> dict:
    """CPU time per step over a 10k and a 1M train pool, 512 x 16, evaluating every EVAL_EVERY steps;
    and the CPU time of one evaluation of the pool-wide pass rates (what evaluating every step adds)."""
    steps_fns, eval_fns = {}, {}
    for train in (10_000, 1_000_000):
        sc = scenario(512, 16, train, steps, EVAL_EVERY)
        steps_fns[train] = lambda sc=sc: engine_step(sc)
        cell = Cell(sc, 0, 0)
        cell.eval_due = True
        eval_fns[train] = lambda cell=cell: min(cpu(lambda: cell.pool_metrics(0)) for _ in range(5))
    return {"step": best_of(repeats, steps_fns), "eval": best_of(repeats, eval_fns)}


def peak_memory_subprocess() -> float:
    code = (
        "import json, resource, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from simbench.worlds.rl.engine import run_cell\n"
        "from simbench.worlds import parse_scenario\n"
        f"sc = parse_scenario(json.loads({json.dumps(json.dumps(scenario(512, 16, 1_000_000, 10).to_dict()))}))\n"
        "run_cell(sc, 0, 0)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(proc.stdout.strip().splitlines()[-1]) / 1024**2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    args = parser.parse_args()
    repeats, scale = (3, 0.25) if args.quick else (7, 1.0)
    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}, python {sys.version.split()[0]}, "
          f"numpy {np.__version__}; CPU time of this process, one BLAS thread, best of {repeats} interleaved repeats")
    print(f"{'prompts x n':>12} {'engine':>18} {'numpy yardstick':>18} {'raw RNG':>10} {'engine/RNG':>11} {'yardstick/engine':>17}")
    figures = {}
    for batch, n, train in SIZES:
        samples = batch * n
        steps = max(10, int(scale * 1_000_000 / samples))
        sc = scenario(batch, n, train, steps)
        engine_step(scenario(batch, n, train, 2))  # numba caches and imports, outside the clock
        t = best_of(repeats, {"engine": lambda: engine_step(sc), "yardstick": lambda: yardstick_step(sc),
                              "rng": lambda: rng_per_sample(samples * steps)})
        e, y, r = t["engine"] / samples, t["yardstick"] / samples, t["rng"]
        figures[batch, n] = (t["engine"], e / r, y / e)
        print(f"{f'{batch} x {n}':>12} {t['engine'] * 1e6:8.1f} us/step {e * 1e9:5.1f} ns "
              f"{y * 1e9:12.1f} ns {r * 1e9:7.2f} ns {e / r:10.2f}x {y / e:16.2f}x")
    print("  (per-sample figures: a step's cost over its samples; raw RNG: one uniform + one normal)")
    batch, n, train = SIZES[0]
    steps = max(10, int(scale * 1_000_000 / (batch * n)))
    no_eval = scenario(batch, n, train, steps, eval_every=steps + 1)  # evaluated at step 0 and the last step only
    t = best_of(repeats, {"every": lambda: engine_step(scenario(batch, n, train, steps)), "none": lambda: engine_step(no_eval)})
    figures["no_eval"] = t["none"]
    print(f"{batch} x {n} without the per-step pool-wide evaluation: {t['none'] * 1e6:.1f} us/step "
          f"(with it, the default: {t['every'] * 1e6:.1f} us/step)")

    epoch = 1_000_000 // 512  # one epoch of the large pool: its shuffle is paid once per epoch
    pool = pool_steps(epoch if not args.quick else epoch // 4, max(2, repeats // 3))
    step, one_eval = pool["step"], pool["eval"]
    print(f"train pool 10,000 vs 1,000,000 prompts, 512 x 16 per step (same batch), {epoch if not args.quick else epoch // 4} steps, "
          "CPU time:")
    print(f"  per step, engine.eval_every = {EVAL_EVERY}:                {step[10_000] * 1e3:7.3f} ms vs {step[1_000_000] * 1e3:7.3f} ms: "
          f"{step[1_000_000] / step[10_000]:5.2f}x")
    print(f"  one evaluation of the pool-wide pass rates:     {one_eval[10_000] * 1e3:7.3f} ms vs {one_eval[1_000_000] * 1e3:7.3f} ms "
          "(what evaluating every step, the default, adds to each step)")
    gb = peak_memory_subprocess()
    print(f"peak memory (max RSS, fresh subprocess), 1,000,000-prompt train pool, 10 steps of 512 x 16: {gb:.3f} GB (target < 2 GB)")
    every_step = (step[1_000_000] + one_eval[1_000_000]) / (step[10_000] + one_eval[10_000])
    print(f"RESULT engine: step 64x8 {figures[64, 8][0] * 1e6:.0f} us, {figures['no_eval'] * 1e6:.0f} us without the per-step "
          f"pool-wide evaluation (target < 100); 512x16 {figures[512, 16][1]:.2f}x the raw RNG "
          f"(target <= 3x); numpy yardstick / engine {figures[512, 16][2]:.2f}x at 512x16, {figures[4096, 8][2]:.2f}x at 4096x8 "
          f"(target >= 2x); 1M / 10k pool per step {step[1_000_000] / step[10_000]:.2f}x with eval_every={EVAL_EVERY} "
          f"({every_step:.1f}x evaluating every step); peak {gb:.2f} GB; load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
