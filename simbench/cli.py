"""The ``simbench`` command line.  Each subcommand is one module in ``simbench/commands/``."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from simbench import __version__
from simbench.core.config import ConfigError, UserError
from simbench.core.runner import SigtermAsInterrupt
from simbench.core.store import StoreError

# Errors whose message already says what is wrong and what to change (any world's UserError): one line, exit status 2.
USER_ERRORS = (ConfigError, StoreError, UserError)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one ``--help`` away)."""

    def error(self, message: str):
        raise SystemExit(fail(f"command line: {message} (see {self.prog} --help)"))


def fail(message: str) -> int:
    """Print ``simbench: error: message`` as one line on stderr; return the exit status 2."""
    print("simbench: error: " + " ".join(str(message).split()), file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="simbench", description="Simulate and benchmark rollout-budget allocators.")
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
    """Run one command; a user's mistake gives exit status 2 and one line on stderr, never a traceback."""
    stop = SigtermAsInterrupt()  # `timeout` and batch schedulers stop a run with SIGTERM: treat it as Ctrl-C
    try:
        args = build_parser().parse_args(argv)
        with stop:
            return int(args.handler(args) or 0)
    except SystemExit as stop_code:  # --help, --version, or a bad option (already reported in one line)
        return int(stop_code.code or 0)
    except USER_ERRORS as err:
        return fail(err)
    except BrokenPipeError:
        # the reader went away (e.g. `simbench list | head`): stop quietly, as other command-line tools do
        _silence_stdout()
        return 141
    except MemoryError:
        return fail("out of memory: the scenario's sizes (prompts, feature dimension, samples per prompt, seeds) need "
                    "more memory than this machine has; make them smaller")
    except OSError as err:  # a file that cannot be read or written, named by the system's message
        where = f"{err.filename}: " if err.filename else ""
        return fail(f"{where}{err.strerror or err}")
    except KeyboardInterrupt:
        print(f"simbench: interrupted{' by SIGTERM' if stop.received else ''}", file=sys.stderr)
        return 143 if stop.received else 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (e.g. captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
