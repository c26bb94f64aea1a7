"""``simbench sweep SCENARIO.toml``: every cell of the scenario's [sweep] x strategy x seed."""
from __future__ import annotations

from simbench.commands.run import add_common, check_options
from simbench.core.paths import default_out_dir, output_dir
from simbench.core.store import command_line
from simbench.core.study import run_study
from simbench.core.sweep import load_sweep


def add_parser(sub):
    p = sub.add_parser("sweep", help="run a parameter sweep ([sweep] grid / zip) into a resumable store, with a report")
    p.add_argument("scenario", help="scenario TOML file with a [sweep] table")
    add_common(p)
    return p


def run(args) -> int:
    check_options(args)
    cells, study_hash = load_sweep(args.scenario)
    out = output_dir(args.out or default_out_dir(cells[0].scenario.name))
    study_hash += f"-seeds{args.seeds}" if args.seeds else ""
    run_study(cells, out, study_hash, str(args.scenario), seeds=args.seeds, workers=args.workers, executor=args.executor,
              address=args.address, force=args.force, repair=args.repair, progress=not args.quiet, command=command_line("sweep"))
    return 0
