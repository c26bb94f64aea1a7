"""The ``simbench`` command line.  Each subcommand is one module in ``simbench/commands/``."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from simbench import __version__
from simbench.config import ConfigError
from simbench.store import StoreMismatch


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
    try:
        return int(args.handler(args) or 0)
    except (ConfigError, StoreMismatch) as err:
        if isinstance(err, ConfigError) and err.source == "<memory>" and str(err.where).startswith("--"):
            err = err.in_file("command line")  # an option's value, not a file's
        print(f"simbench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
