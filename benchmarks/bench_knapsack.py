"""Knapsack solver benchmarks; prints what it measures on this machine.

    python benchmarks/bench_knapsack.py [--quick]

1. The exact DP at 1,024 prompts and a budget of 16,384 samples (target < 1 s), with and
   without the divide-and-conquer row for concave items.
2. The cvxpy relaxation against greedy on the same instance: time and objective gap.
3. Planning time per step of the allocators (greedy, DP, cvxpy, Knapsack-RL) at 512 and 65,536 prompts.
4. The Knapsack-RL preset at its run script's scale.

Pass rates are drawn from Beta(0.2622, 0.7271) (the quickstart population); kernels are
compiled before timing; each figure is the best of ``repeats`` runs.  The last line,
``RESULT knapsack: ...`` (part 1-2), sums it up for ``benchmarks/run_all.py``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from simbench.testing import make_view
from simbench.worlds.rl.allocators.knapsack import Knapsack, KnapsackParams
from simbench.worlds.rl.allocators.knapsack_rl import KnapsackRL, KnapsackRLParams
from simbench.worlds.rl.knapsack.dp import dp_allocate, mck_dp_kernel
from simbench.worlds.rl.knapsack.greedy import greedy_allocate
from simbench.worlds.rl.knapsack.relaxation import round_and_repair, solve_relaxation
from simbench.worlds.rl.knapsack.utilities import value_table


def best_of(fn, repeats):
    fn()  # compile / warm caches
    times = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def instance(M, seed=0):
    rng = np.random.default_rng(seed)
    return rng.beta(0.2622, 0.7271, M)


def bench_dp_and_relaxation(repeats):
    M, B = 1024, 16_384
    p = instance(M)
    c = np.ones(M)
    total = lambda V, n: float(V[np.arange(M), n].sum())  # noqa: E731
    print(f"\n[1-2] {M} prompts, budget {B} samples, utility mixed (point p), n in {{0}} U [2, n_max]")
    print(f"{'n_max':>6} {'solver':>22} {'time (s)':>10} {'objective':>12} {'gap to DP':>11}")
    summary = {}
    for n_max in (32, 64, 128):
        V = value_table("mixed", n_max, p=p)
        t_dp, n_dp = best_of(lambda: dp_allocate(V, c, B, 2, n_max), repeats)
        w = np.ones(M, np.int64)
        t_plain, (row, _) = best_of(lambda: mck_dp_kernel(V, w, B, 2, n_max, True, False, False), 1)
        t_g, n_g = best_of(lambda: greedy_allocate(V, c, B, 2, n_max), repeats)
        t_r, (x, bound) = best_of(lambda: solve_relaxation("mixed", p, c, B, 2, n_max), max(1, repeats // 2))
        t_rr, n_r = best_of(lambda: round_and_repair(x, V, c, B, 2, n_max), repeats)
        opt = total(V, n_dp)
        rows = [("exact DP", t_dp, opt), ("exact DP, plain loops", t_plain, float(row[B])), ("greedy (heap)", t_g, total(V, n_g)),
                ("cvxpy relaxation", t_r, bound), ("  + rounding/repair", t_r + t_rr, total(V, n_r))]
        for name, t, val in rows:
            print(f"{n_max:>6} {name:>22} {t:>10.4f} {val:>12.4f} {val - opt:>+11.2e}")
        summary[n_max] = {name.strip(" +"): (t, val - opt) for name, t, val in rows}
    return summary


def result_line(summary: dict) -> str:
    """Part 1-2 in one line: each solver's time range over n_max, and its gap to the DP's optimum."""
    def span(name, i, fmt):
        lo, hi = (f"{f([s[name][i] for s in summary.values()]):{fmt}}" for f in (min, max))
        return lo if lo == hi else f"{lo} to {hi}"
    return (f"RESULT knapsack: exact DP, 1,024 prompts, budget 16,384 samples, n_max {'/'.join(map(str, summary))}: "
            f"{span('exact DP', 0, '.3f')} s (target < 1 s; plain loops {span('exact DP, plain loops', 0, '.2f')} s); "
            f"greedy {span('greedy (heap)', 0, '.4f')} s, gap {span('greedy (heap)', 1, '+.1e')}; cvxpy relaxation "
            f"{span('cvxpy relaxation', 0, '.3f')} s, bound {span('cvxpy relaxation', 1, '+.1e')}, rounded and repaired "
            f"{span('rounding/repair', 1, '+.1e')}")


def bench_planning(repeats):
    print("\n[3] planning time per step (allocate() on a view; budget 8 samples per prompt; n_max 64)")
    print(f"{'prompts':>8} {'allocator':>28} {'time (s)':>10} {'samples':>9}")
    specs = [
        ("knapsack greedy", lambda: Knapsack(KnapsackParams(solver="greedy"))),
        ("knapsack greedy, point p", lambda: Knapsack(KnapsackParams(solver="greedy", posterior="mean"))),
        ("knapsack dp", lambda: Knapsack(KnapsackParams(solver="dp"))),
        ("knapsack cvxpy", lambda: Knapsack(KnapsackParams(solver="cvxpy", posterior="mean"))),
        ("knapsack_rl (reference)", lambda: KnapsackRL(KnapsackRLParams())),
    ]
    for S in (512, 65_536):
        view = make_view(np.random.default_rng(S), S, budget=8.0 * S, history_steps=3)
        for name, mk in specs:
            if S > 512 and name == "knapsack cvxpy" and repeats < 3:
                reps = 1
            else:
                reps = repeats

            def plan():
                alloc = mk()
                alloc.reset(view.info, np.random.default_rng(0))
                return alloc.allocate(view), alloc.step_metrics()

            t, (n, m) = best_of(plan, reps)
            note = " (DP beyond dp_max_work: greedy)" if m.get("knapsack_dp_fallback") else ""
            print(f"{S:>8} {name:>28} {t:>10.4f} {int(n.sum()):>9}{note}")


def bench_reference_scale(repeats):
    """Knapsack-RL's run script: 256 prompts x n = 8 = 2,048 rollouts, every prompt an item (paper: 1-2 s per solve)."""
    print("\n[4] Knapsack-RL preset at the reference's scale (256 prompts, 2,048 rollouts, max_n 128, fallback off)")
    rng = np.random.default_rng(7)
    p = rng.integers(1, 16, 256) / 16.0
    counts = np.full(256, 16)
    for name, work in (("exact-fill DP (divide and conquer rows)", 2e9), ("heap greedy (dp_max_work exceeded)", 1.0)):
        alloc = KnapsackRL(KnapsackRLParams(allow_fallback=False, dp_max_work=work))
        alloc.reset(make_view(rng, 4).info, rng)
        t, (n, _, _) = best_of(lambda: alloc.plan(counts, p, 2048), repeats)
        value = float(np.sum((1 - p**n - (1 - p) ** n) * p * (1 - p) ** 2))
        print(f"  {name:>42}: {t:.4f} s, sum v = {value:.6f}, max n = {int(n.max())}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one timed repeat instead of three")
    args = ap.parse_args()
    repeats = 1 if args.quick else 3
    summary = bench_dp_and_relaxation(repeats)
    bench_planning(repeats)
    bench_reference_scale(repeats)
    print(result_line(summary))


if __name__ == "__main__":
    main()
