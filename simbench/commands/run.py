"""``simbench run SCENARIO.toml``: every strategy x seed into a resumable store, then results, summary and report."""
from __future__ import annotations

from simbench.core.config import ConfigError
from simbench.core.paths import default_out_dir, output_dir
from simbench.core.scenario import require_results
from simbench.core.store import command_line
from simbench.core.study import run_study
from simbench.core.sweep import SweepCell
from simbench.worlds import load_scenario


def add_parser(sub):
    p = sub.add_parser("run", help="run every strategy x seed of a scenario and write results and a report")
    p.add_argument("scenario", help="scenario TOML file")
    add_common(p)
    return p


def add_common(p) -> None:
    """Options shared by ``run`` and ``sweep``."""
    p.add_argument("--out", help="output directory (default: reports/<scenario name>/)")
    p.add_argument("--seeds", type=int, help="number of seeds (default: the scenario's)")
    p.add_argument("--workers", type=int, default=1, help="worker processes for the local executor (default 1)")
    p.add_argument("--executor", choices=["local", "ray"], default="local", help="local process pool (default) or Ray tasks")
    p.add_argument("--address", help="address of an existing Ray cluster (with --executor ray)")
    p.add_argument("--force", action="store_true", help="discard results of a different scenario in --out")
    p.add_argument("--repair", action="store_true", help="remove unreadable (truncated, empty) unit files in --out and recompute them")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def check_options(args) -> None:
    """The options shared by ``run`` and ``sweep``, before any work."""
    if args.seeds is not None and args.seeds < 1:
        raise ConfigError("--seeds", args.seeds, "an integer >= 1")
    if args.seeds is not None:
        require_results(1, args.seeds, 1, "--seeds")
    if args.workers < 1:
        raise ConfigError("--workers", args.workers, "an integer >= 1")
    if args.address is not None and args.executor != "ray":
        raise ConfigError("--address", args.address, "only with --executor ray (the local executor uses this machine)")


def run(args) -> int:
    check_options(args)
    scenario = load_scenario(args.scenario)
    out = output_dir(args.out or default_out_dir(scenario.name))
    study_hash = scenario.canonical_hash() + (f"-seeds{args.seeds}" if args.seeds else "")
    run_study([SweepCell("base", {}, scenario)], out, study_hash, str(args.scenario), seeds=args.seeds, workers=args.workers,
              executor=args.executor, address=args.address, force=args.force, repair=args.repair, progress=not args.quiet, command=command_line("run"))
    return 0
