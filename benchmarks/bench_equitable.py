"""One equitable-world run: 3 groups, 2,000 SNPs, a budget of 20,000 samples in batches of 500.

Prints the wall time of each collector on this machine, and a last line ``RESULT equitable: ...``
for ``benchmarks/run_all.py``.  ``--quick``: a budget of 5,000 samples instead of 20,000.

    python benchmarks/bench_equitable.py [--quick]
"""
from __future__ import annotations

import argparse
import time
import warnings

from simbench.worlds import parse_scenario
from simbench.worlds.equitable.engine import run_collection


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a budget of 5,000 samples instead of 20,000")
    total = 5000.0 if ap.parse_args().quick else 20000.0
    sc = parse_scenario({
        "world": "equitable", "name": "bench", "seeds": 1,
        "groups": [{"name": "A", "share": 0.8, "cost": 1.0}, {"name": "B", "share": 0.15, "cost": 1.0},
                   {"name": "C", "share": 0.05, "cost": 1.0}],
        "genetics": {"snps": 2000, "causal": 200, "test_size": 2000},
        "budget": {"total": total, "batch": 500},
        "strategies": [{"collector": k} for k in ("equal", "proportional", "adaptive", "bandit")],
    })
    warnings.simplefilter("ignore")
    times = []
    for i, s in enumerate(sc.strategies):
        t0 = time.perf_counter()
        rows = run_collection(sc, i, 0)
        times.append(f"{s.label} {time.perf_counter() - t0:.1f} s")
        print(f"{s.label:<14} {len(rows)} batches, {rows[-1]['spent']:.0f} samples: {time.perf_counter() - t0:.1f} s "
              f"(objective {rows[-1]['objective']:.3f})", flush=True)
    print(f"RESULT equitable: one run of 3 groups, 2,000 SNPs, {total:,.0f} samples in batches of 500: {', '.join(times)}")


if __name__ == "__main__":
    main()
