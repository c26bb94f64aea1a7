"""The engine step of this checkout against an earlier revision, side by side in one run.

    python benchmarks/ab_engine.py --base 577ae5a              # uniform GRPO at 64 x 8 and 512 x 16
    python benchmarks/ab_engine.py --base main --rounds 7 --size 4096x8x4096

The base revision is exported with ``git archive`` into a temporary folder; each round
runs one fresh process per tree (base, then this checkout), which times ``Cell.run`` of
each size (CPU time of the process, one BLAS thread, best of 3 runs) and hashes the rows
of a short run.  The best time of each tree over the rounds is kept, so a load that
comes and goes hits both alike; the ratio is base / this checkout.  ``identical`` says
whether both trees gave the same rows, bit for bit.  Not part of ``run_all.py``: it
needs a revision to compare with.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import hashlib, json, os, sys, time
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
sys.path.insert(0, {tree!r})
from simbench.worlds import parse_scenario
from simbench.worlds.rl.engine import Cell, run_cell

def scenario(batch, n, train, steps, every=None):
    engine = {{"steps": steps, "batch_prompts": batch, **({{"eval_every": every}} if every else {{}})}}
    return parse_scenario({{"name": "ab-engine", "seeds": 1, "population": {{"train_prompts": train, "test_prompts": 512}},
                           "engine": engine, "strategies": [{{"allocator": {{"kind": "uniform", "n": n}}}}]}})

def per_step(sc):
    cell = Cell(sc, 0, 0)
    t0 = time.process_time()
    cell.run()
    return (time.process_time() - t0) / sc.engine.steps

out = []
for batch, n, train, every in {sizes!r}:
    steps = max(10, 250_000 // (batch * n))
    per_step(scenario(batch, n, train, 2))  # compiled kernels loaded outside the clock
    out.append(min(per_step(scenario(batch, n, train, steps, every)) for _ in range(3)))
rows = run_cell(scenario(16, 4, 256, 12), 0, 0)
print(json.dumps({{"seconds": out, "rows": hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()}}))
"""


def parse_size(text: str) -> tuple[int, int, int, int | None]:
    """``BATCHxNxTRAIN`` or ``BATCHxNxTRAINxEVERY`` (prompts per step, samples per prompt, train pool, eval interval)."""
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (3, 4) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"--size {text!r}: expected BATCHxNxTRAIN[xEVERY], positive integers, e.g. 64x8x1024")
    return (*parts, None) if len(parts) == 3 else tuple(parts)


def export(rev: str, folder: Path) -> Path:
    """The tree of ``rev`` (any git revision) in ``folder``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev], capture_output=True)
    if archive.returncode:
        raise SystemExit(f"ab_engine: --base {rev!r}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def measure(tree: Path, sizes: list) -> dict:
    import json

    code = CHILD.format(tree=str(tree), sizes=sizes)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(tree),
                          env={**os.environ, "PYTHONPATH": str(tree)})
    if proc.returncode:
        raise SystemExit(f"ab_engine: the run in {tree} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the git revision to compare with (e.g. main, a commit)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; the best time of each tree is kept")
    parser.add_argument("--size", type=parse_size, action="append", dest="sizes",
                        help="BATCHxNxTRAIN[xEVERY], repeatable (default: 64x8x1024, 64x8x1024 evaluating only at "
                             "the ends, 512x16x512)")
    args = parser.parse_args()
    sizes = args.sizes or [(64, 8, 1024, None), (64, 8, 1024, 10**6), (512, 16, 512, None)]
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ab_engine_") as tmp:
        trees = {"base": export(args.base, Path(tmp)), "this": REPO}
        best = {name: [float("inf")] * len(sizes) for name in trees}
        rows = {}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                got = measure(tree, sizes)
                best[name] = [min(a, b) for a, b in zip(best[name], got["seconds"])]
                rows[name] = got["rows"]
    print(f"base {args.base} vs this checkout, uniform GRPO, CPU us per step, best of {args.rounds} alternating rounds; "
          f"load average before {load0[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    for (batch, n, train, every), b, t in zip(sizes, best["base"], best["this"]):
        label = f"{batch} x {n}, {train:,} prompts" + (f", eval_every {every:,}" if every else "")
        print(f"  {label:46s} base {b * 1e6:9.1f}   this {t * 1e6:9.1f}   base/this {b / t:5.2f}x")
    print(f"identical rows: {rows['base'] == rows['this']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
