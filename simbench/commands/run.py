"""``simbench run SCENARIO.toml``: every strategy x seed, then results, summary and report."""
from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from simbench.paths import default_out_dir
from simbench.report import write_report
from simbench.results import summarise, write_results
from simbench.runner import run_scenario
from simbench.scenario import load_scenario


def add_parser(sub):
    p = sub.add_parser("run", help="run every strategy x seed of a scenario and write results and a report")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--out", help="output directory (default: reports/<scenario name>/)")
    p.add_argument("--seeds", type=int, help="number of seeds (default: the scenario's)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def run(args) -> int:
    scenario = load_scenario(args.scenario)
    if args.seeds is not None and args.seeds < 1:
        print(f"simbench: error: --seeds {args.seeds} is invalid: an integer >= 1", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else default_out_dir(scenario.name)
    t0 = time.perf_counter()
    df = run_scenario(scenario, seeds=args.seeds, workers=args.workers, progress=not args.quiet)
    write_results(df, out)
    summary = summarise(df, scenario.report.baseline, scenario.report.target_test_pass)
    summary.to_csv(out / "summary.csv", index=False)
    command = "simbench run " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if sys.argv[1:2] == ["run"] else ""
    write_report(df, summary, out, scenario.name, command)
    cells = df.groupby(["allocator", "seed"]).ngroups
    best = summary.sort_values("final_test_pass", ascending=False).iloc[0]
    print(
        f"simbench: {cells} cells, {len(df)} rows in {time.perf_counter() - t0:.1f} s -> {out}/ "
        f"(best final test pass: {best['allocator']} {best['final_test_pass']:.4f})"
    )
    return 0
