"""The ``simbench`` command line.  Each subcommand is one module in ``simbench/commands/``.

Only the module of the command asked for is imported (``--help``, ``--version`` and
``list`` must answer at once, without loading the solvers, plotting or dataframes).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from simbench.core.config import ConfigError, UserError
from simbench.core.signals import SigtermAsInterrupt
from simbench.core.version import __version__

# name -> the line ``simbench --help`` shows; the command's module is ``simbench.commands.<name>`` (``-`` read as ``_``)
COMMANDS = {
    "compare": "compare two output directories of the same kind (run, sweep, replay or validate)",
    "fit-cost": "fit the [cost] table to a verl metrics log (timing_s/*, response_length/*), with R^2 and the error on the "
                "log's held-out second half",
    "list": "list allocators, selectors, downsamplers, advantage estimators, data collectors, test-time allocators, answer "
            "pickers and bundled scenarios",
    "replay": "run allocators against a real rollout log's outcomes",
    "report": "write DIR/report.md, DIR/report/index.html and DIR/summary.csv from the results in DIR",
    "run": "run every strategy x seed of a scenario and write results and a report",
    "sweep": "run a parameter sweep ([sweep] grid / zip) into a resumable store, with a report",
    "validate": "calibrate the simulator to a real log and write a validation report",
}
# the commands that write a report: each takes --svg
REPORTING = ("replay", "report", "run", "sweep", "validate")
# Errors whose message already says what is wrong and what to change (any world's UserError, the store's): one line, status 2.
USER_ERRORS = (ConfigError, UserError)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one ``--help`` away)."""

    def error(self, message: str):
        raise SystemExit(fail(f"command line: {message} (see {self.prog} --help)"))


def fail(message: str) -> int:
    """Print ``simbench: error: message`` as one line on stderr; return the exit status 2."""
    print("simbench: error: " + " ".join(str(message).split()), file=sys.stderr)
    return 2


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``argv``'s command (by default, every command's): other commands get their one-line help only."""
    # no abbreviated options here: the command must be the first word that is no option nor --blas-threads' value
    parser = Parser(prog="simbench", description="Simulate and benchmark rollout-budget allocators.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"simbench {__version__}")
    parser.add_argument("--blas-threads", type=int, metavar="N",
                        help="BLAS threads of each simbench process (the main one and every worker); 0: the BLAS library's "
                             "default (default: $SIMBENCH_BLAS_THREADS, else 1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = COMMANDS if argv is None else {_command_of(argv)}
    for name, help_line in COMMANDS.items():
        if name in wanted:
            module = importlib.import_module(f"simbench.commands.{name.replace('-', '_')}")
            p = module.add_parser(sub)
            p.set_defaults(handler=module.run)
            if name in REPORTING:
                p.add_argument("--svg", action="store_true", help="also write every figure of the report as SVG beside its PNG "
                                                                  "(vector graphics; writing them adds 30-55%% to the report's CPU time)")
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def _figures(svg: bool):
    """The report's figure formats: PNG, and SVG with ``--svg`` (the plotting library is loaded only then)."""
    if not svg:
        return contextlib.nullcontext()
    from simbench.core.report import svg_figures

    return svg_figures()


def _command_of(argv: list[str]) -> str | None:
    """The command ``argv`` names: its first word that is no option nor an option's value (None if none)."""
    takes_value = False
    for arg in argv:
        if not takes_value and not arg.startswith("-"):
            return arg
        takes_value = arg == "--blas-threads"  # the only top-level option with a separate value
    return None


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user's mistake gives exit status 2 and one line on stderr, never a traceback."""
    stop = SigtermAsInterrupt()  # `timeout` and batch schedulers stop a run with SIGTERM: treat it as Ctrl-C
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(argv).parse_args(argv)
        from simbench.core.threads import blas_limit, blas_threads

        with stop, blas_limit(blas_threads(args.blas_threads)), _figures(getattr(args, "svg", False)):
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
