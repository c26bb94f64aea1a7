"""Cost-model overhead benchmark: the quickstart's simulation time without [cost], with gen_model event and simple.

Run from the repository root::

    python benchmarks/bench_cost.py            # 150 steps, 5 rounds (about a minute)
    python benchmarks/bench_cost.py --quick    # 40 steps, 3 rounds

Every round runs the quickstart's eight strategies on one seed in each variant, in
turn (so that a busy machine slows all three alike), after a warm-up round that
compiles the numba kernels; each variant's time is its fastest round.  Targets:
event at most +25%, simple at most +5%.  The last line is ``RESULT cost: ...``.
"""
from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout's simbench, not an installed copy

from simbench.worlds import parse_scenario  # noqa: E402
from simbench.worlds.rl.engine import run_cell  # noqa: E402

VARIANTS = {"no cost": None, "event": {"rollout": {"gen_model": "event"}}, "simple": {"rollout": {"gen_model": "simple"}}}


def scenario(steps: int, cost: dict | None):
    data = tomllib.loads((REPO / "scenarios" / "quickstart.toml").read_text())
    data.pop("cost", None)
    data["engine"]["steps"] = steps
    if cost is not None:
        data["cost"] = {"preset": "qwen2.5-1.5b-8xh100", **cost}
    return parse_scenario(data, "quickstart.toml")


def run_all(sc) -> float:
    t0 = time.perf_counter()
    for i in range(len(sc.strategies)):
        run_cell(sc, i, 0)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 steps, 3 rounds")
    args = ap.parse_args()
    steps, rounds = (40, 3) if args.quick else (150, 5)
    scenarios = {name: scenario(steps, cost) for name, cost in VARIANTS.items()}
    for cost in VARIANTS.values():  # warm-up: numba compilation and caches, every strategy in every variant
        run_all(scenario(5, cost))
    best = {name: float("inf") for name in scenarios}
    for _ in range(rounds):
        for name, sc in scenarios.items():
            best[name] = min(best[name], run_all(sc))
    base = best["no cost"]
    print(f"quickstart, 8 strategies x 1 seed x {steps} steps, fastest of {rounds} rounds:")
    for name, t in best.items():
        print(f"  {name:8s} {t:7.2f} s   x{t / base:.3f}")
    event, simple = best["event"] / base - 1, best["simple"] / base - 1
    print(f"RESULT cost: event {100 * event:+.1f}% (target <= +25%), simple {100 * simple:+.1f}% (target <= +5%), "
          f"no cost {base:.2f} s for {steps} steps")


if __name__ == "__main__":
    main()
