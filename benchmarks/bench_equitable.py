"""One equitable-world run: 3 groups, 2,000 SNPs, a budget of 20,000 samples in batches of 500.

Prints the wall time of each collector on this machine (the oracle adds its 3 offline runs).

    python benchmarks/bench_equitable.py
"""
from __future__ import annotations

import time
import warnings

from simbench.worlds import parse_scenario
from simbench.worlds.equitable.engine import run_collection


def main() -> None:
    sc = parse_scenario({
        "world": "equitable", "name": "bench", "seeds": 1,
        "groups": [{"name": "A", "share": 0.8, "cost": 1.0}, {"name": "B", "share": 0.15, "cost": 1.0},
                   {"name": "C", "share": 0.05, "cost": 1.0}],
        "genetics": {"snps": 2000, "causal": 200, "test_size": 2000},
        "budget": {"total": 20000.0, "batch": 500},
        "strategies": [{"collector": k} for k in ("equal", "proportional", "adaptive", "bandit")],
    })
    warnings.simplefilter("ignore")
    for i, s in enumerate(sc.strategies):
        t0 = time.perf_counter()
        rows = run_collection(sc, i, 0)
        print(f"{s.label:<14} {len(rows)} batches, {rows[-1]['spent']:.0f} samples: {time.perf_counter() - t0:.1f} s "
              f"(objective {rows[-1]['objective']:.3f})", flush=True)


if __name__ == "__main__":
    main()
