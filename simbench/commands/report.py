"""``simbench report DIR``: (re)write the report of a results directory."""
from __future__ import annotations

from pathlib import Path

from simbench.config import ConfigError
from simbench.report import write_report
from simbench.store import load


def add_parser(sub):
    p = sub.add_parser("report", help="write DIR/report.md and DIR/report/index.html from the results in DIR")
    p.add_argument("dir", help="a results directory written by run or sweep")
    p.add_argument("--baseline", default="uniform", help="the allocator speedups are measured against (default uniform)")
    p.add_argument("--target", type=float, help="test pass rate for tokens-to-target (default: from the baseline)")
    p.add_argument("--max-rows-per-unit", type=int, default=1000,
                   help="read at most this many evenly spaced steps of each run (first and last kept; default 1000)")
    return p


def run(args) -> int:
    if args.target is not None and not 0 < args.target < 1:
        raise ConfigError("--target", args.target, "a test pass rate in (0, 1)")
    if args.max_rows_per_unit < 2:
        raise ConfigError("--max-rows-per-unit", args.max_rows_per_unit, "an integer >= 2 (each run's first and last step are kept)")
    out = Path(args.dir)
    df = load(out, thin=args.max_rows_per_unit)
    params = [c for c in df.columns if "." in c or "[" in c]
    path = write_report(df, out, out.name, baseline=args.baseline, target=args.target, params=params)
    print(f"simbench: report written to {path} and {out / 'report' / 'index.html'}")
    return 0
