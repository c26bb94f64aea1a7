"""``simbench compare DIR_A DIR_B``: two outputs of the same kind, side by side, with the paired difference and its interval."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from simbench.core.config import ConfigError
from simbench.core.outputs import manifest_of
from simbench.core.report import seeds_text
from simbench.core.report.tables import format_table
from simbench.core.stats import REAL, difference_support, mean_ci
from simbench.worlds import of_manifest


def add_parser(sub):
    p = sub.add_parser("compare", help="compare two output directories of the same kind (run, sweep, replay or validate)")
    p.add_argument("dir_a")
    p.add_argument("dir_b")
    p.add_argument("--metric", help="run/sweep: a results column, compared at each run's last step (default test_pass); "
                                    "equitable: default objective; replay: a per-seed statistic (default mixed_share); "
                                    "validate: a forecast error (default error_at_end)")
    return p


def compare(a: pd.DataFrame, b: pd.DataFrame, support: tuple[float, float] = REAL, metric: str = "value") -> pd.DataFrame:
    """Per key (allocator, or cell and allocator): mean ``metric`` in A and B and B - A, paired by seed.

    ``a``, ``b``: one row per key and seed, values in ``support``.  The difference is
    the mean of the per-seed differences over the seeds both have, with a 95% paired
    Student-t interval on the scale of the differences' support (nan with one pair).
    """
    keys = [c for c in a.columns if c not in ("seed", metric)]
    ga, gb = ({k: g.set_index("seed")[metric] for k, g in d.groupby(keys, sort=False)} for d in (a, b))
    empty = pd.Series(dtype=float)
    rows = []
    for key in dict.fromkeys([*ga, *gb]):
        va, vb = ga.get(key, empty), gb.get(key, empty)
        common = va.index.intersection(vb.index)
        diff, lo, hi = mean_ci((vb.loc[common] - va.loc[common]).to_numpy(float), difference_support(support))
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))), "seeds_a": len(va), "seeds_b": len(vb),
                     f"{metric}_a": va.mean(), f"{metric}_b": vb.mean(), "paired_seeds": len(common),
                     "b_minus_a": diff, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def run(args) -> int:
    dirs = [Path(args.dir_a), Path(args.dir_b)]
    manifests = [manifest_of(d) for d in dirs]
    world, _ = (of_manifest(d, m) for d, m in zip(dirs, manifests))
    worlds = [m["world"] for m in manifests]
    if worlds[0] != worlds[1]:
        raise ConfigError("dir_b", str(dirs[1]), f"an output of the same kind as {dirs[0]} ({worlds[0]}); it holds {worlds[1]} results",
                          "command line")
    hashes = [m.get("scenario_hash") for m in manifests]
    if None not in hashes and hashes[0] != hashes[1]:
        print(f"simbench: note: {dirs[0]} and {dirs[1]} come from different scenarios "
              f"({hashes[0][:12]} vs {hashes[1][:12]}); seeds are paired by index only", file=sys.stderr)
    (va, label, support), (vb, _, _) = (world.compare_values(d, m, args.metric) for d, m in zip(dirs, manifests))
    table = compare(va, vb, support)
    name = label.replace(" ", "_")
    table = table.rename(columns={"value_a": f"{name}_a", "value_b": f"{name}_b"})
    counts = pd.concat([table["seeds_a"], table["seeds_b"]])
    if counts.max() == 1:
        method = "one value each (no seeds), so B - A has no interval"
    else:
        method = (f"mean over {seeds_text(counts)} each; B - A: mean of per-seed differences over the paired seeds, 95% paired "
                  "Student-t interval" + (" on the logit scale of its range" if support != REAL else ""))
    print(f"{label}: A = {dirs[0]}, B = {dirs[1]}; {method}")
    print(format_table(table))
    return 0
