"""``simbench report DIR``: (re)write the report and summary of any simbench output directory."""
from __future__ import annotations

from pathlib import Path

from simbench.core.config import ConfigError
from simbench.core.outputs import report_dir


def add_parser(sub):
    p = sub.add_parser("report", help="write DIR/report.md, DIR/report/index.html and DIR/summary.csv from the results in DIR")
    p.add_argument("dir", help="a directory written by run, sweep, replay or validate")
    p.add_argument("--baseline", help="run/sweep: the allocator speedups are measured against (default: the scenario's)")
    p.add_argument("--target", type=float,
                   help="run/sweep: test pass rate for tokens-to-target (default: the scenario's, else the default rule)")
    p.add_argument("--max-rows-per-unit", type=int, dest="thin",
                   help="run/sweep: read at most this many evenly spaced steps of each run (first and last kept; default 1000)")
    return p


def run(args) -> int:
    out = Path(args.dir)
    if args.target is not None and not 0 < args.target < 1:
        raise ConfigError("--target", args.target, "a test pass rate in (0, 1)", "command line")
    if args.thin is not None and args.thin < 2:
        raise ConfigError("--max-rows-per-unit", args.thin, "an integer >= 2 (the first and last step are always kept)", "command line")
    path, _ = report_dir(out, baseline=args.baseline, target=args.target, thin=args.thin)
    print(f"simbench: report written to {path} and {out / 'report' / 'index.html'}")
    return 0
