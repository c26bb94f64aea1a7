"""The ``simbench`` command line.  Each subcommand is one module in ``simbench/commands/``."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from simbench import __version__
from simbench.config import ConfigError
from simbench.runner import SigtermAsInterrupt
from simbench.store import StoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simbench", description="Simulate and benchmark rollout-budget allocators.")
    parser.add_argument("--version", action="version", version=f"simbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    import simbench.commands as commands

    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            module = importlib.import_module(f"simbench.commands.{mod.name}")
            p = module.add_parser(sub)
            p.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stop = SigtermAsInterrupt()  # `timeout` and batch schedulers stop a run with SIGTERM: treat it as Ctrl-C
    try:
        with stop:
            return int(args.handler(args) or 0)
    except (ConfigError, StoreError) as err:
        if isinstance(err, ConfigError) and err.source == "<memory>" and str(err.where).startswith("--"):
            err = err.in_file("command line")  # an option's value, not a file's
        print(f"simbench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"simbench: interrupted{' by SIGTERM' if stop.received else ''}", file=sys.stderr)
        return 143 if stop.received else 130


if __name__ == "__main__":
    sys.exit(main())
