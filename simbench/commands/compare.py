"""``simbench compare DIR_A DIR_B``: two result sets of the same scenario, side by side with CIs."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from simbench.config import ConfigError
from simbench.report.tables import format_table
from simbench.results import mean_ci
from simbench.store import load


def add_parser(sub):
    p = sub.add_parser("compare", help="compare two result directories of the same scenario")
    p.add_argument("dir_a")
    p.add_argument("dir_b")
    p.add_argument("--metric", default="test_pass", help="column compared at each run's final step (default test_pass)")
    return p


def finals(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    return df.loc[df.groupby(["allocator", "seed"], sort=False)["step"].idxmax(), ["allocator", "seed", metric]]


def compare(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per allocator: mean final ``metric`` in A and B, and B - A with a 95% CI (paired by seed where both have it)."""
    fa, fb = finals(a, metric), finals(b, metric)
    rows = []
    for alloc in dict.fromkeys(list(fa["allocator"]) + list(fb["allocator"])):
        va = fa[fa["allocator"] == alloc].set_index("seed")[metric]
        vb = fb[fb["allocator"] == alloc].set_index("seed")[metric]
        common = va.index.intersection(vb.index)
        d, lo, hi = mean_ci((vb.loc[common] - va.loc[common]).to_numpy()) if len(common) else (np.nan,) * 3
        rows.append({"allocator": alloc, "seeds_a": len(va), "seeds_b": len(vb), f"{metric}_a": va.mean(), f"{metric}_b": vb.mean(),
                     "b_minus_a": d, "ci_low": lo, "ci_high": hi, "paired_seeds": len(common)})
    return pd.DataFrame(rows)


def run(args) -> int:
    hashes = []
    for d in (args.dir_a, args.dir_b):
        m = Path(d) / "manifest.json"
        hashes.append(json.loads(m.read_text()).get("scenario_hash") if m.exists() else None)
    if None not in hashes and hashes[0] != hashes[1]:
        print(f"simbench: note: {args.dir_a} and {args.dir_b} come from different scenarios "
              f"({hashes[0][:12]} vs {hashes[1][:12]}); seeds are paired by index only", file=sys.stderr)
    a, b = load(args.dir_a), load(args.dir_b)
    metrics = [c for c in a.columns if c in b.columns and c not in ("seed", "step") and pd.api.types.is_numeric_dtype(a[c])]
    if args.metric not in metrics:
        raise ConfigError("--metric", args.metric, f"a numeric column of both result sets: {', '.join(metrics)}")
    table = compare(a, b, args.metric)
    print(format_table(table))
    return 0
