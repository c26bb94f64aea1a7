"""Run every benchmark and rewrite the README's performance table, saying when, where and under what load.

    python benchmarks/run_all.py               # every benchmarks/bench_*.py in its quick mode (a few minutes)
    python benchmarks/run_all.py --full        # at full size (much longer)
    python benchmarks/run_all.py --print       # print the table; leave README.md alone
    python benchmarks/run_all.py --only engine,knapsack

Each ``bench_*.py`` runs in its own subprocess, one at a time, with ``--quick`` when it takes one, against
this checkout (first on ``PYTHONPATH``).  Its lines ``RESULT <name>: <text>`` become the table's rows; a
benchmark that fails, times out or prints no such line gets a row that says so.  The table replaces what
stands between the README's lines ``<!-- perf-table:start -->`` and ``<!-- perf-table:end -->``; the line
above it gives the date, the CPU, the number of cores, the versions of Python, numpy and numba, and the
load average before and after the run.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
START, END = "<!-- perf-table:start -->", "<!-- perf-table:end -->"
RESULT = re.compile(r"^RESULT ([A-Za-z0-9_.-]+): (.+?)\s*$")
QUICK = "--quick"


@dataclass
class Outcome:
    """What one benchmark gave: its command, exit status, wall time, RESULT lines and, if it failed, why."""

    script: str
    args: list[str]
    seconds: float
    status: int | None = 0
    results: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""


def benchmarks(folder: Path = HERE, only: list[str] | None = None) -> list[Path]:
    """The ``bench_*.py`` scripts of ``folder`` (those named in ``only``, e.g. ``engine``), sorted by name."""
    found = sorted(folder.glob("bench_*.py"))
    if only is None:
        return found
    names = {p.stem.removeprefix("bench_"): p for p in found}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise SystemExit(f"run_all: --only: no benchmark {', '.join(map(repr, unknown))}; there are: {', '.join(names)}")
    return [names[n] for n in only]


def parse_results(stdout: str) -> list[tuple[str, str]]:
    """The ``(name, text)`` of every ``RESULT <name>: <text>`` line, in order."""
    return [m.groups() for m in map(RESULT.match, stdout.splitlines()) if m]


def run(path: Path, quick: bool, timeout: float) -> Outcome:
    """Run one benchmark in a subprocess against this checkout; collect its RESULT lines."""
    args = [QUICK] if quick and QUICK in path.read_text() else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    t0 = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(path), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome(path.name, args, time.perf_counter() - t0, None, error=f"timed out after {timeout:.0f} s")
    out = Outcome(path.name, args, time.perf_counter() - t0, done.returncode, parse_results(done.stdout))
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["no message"]
        out.error = f"failed with exit status {done.returncode}: {last[0].strip()}"
    elif not out.results:
        out.error = "printed no RESULT line"
    return out


def machine() -> str:
    """The CPU model, the cores, the OS, and the versions of Python, numpy and numba."""
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:  # not Linux
        pass
    cpu = cpu or platform.processor() or platform.machine() or "unknown CPU"
    versions = []
    for package in ("numpy", "numba"):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package} not installed")
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}; Python {platform.python_version()}, {', '.join(versions)}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(outcomes: list[Outcome], where: str, load_before: tuple, load_after: tuple, when: _dt.datetime, quick: bool) -> str:
    """The table, under one line saying when, on what machine and under what load it was measured."""
    loads = "/".join(f"{x:.2f}" for x in load_before), "/".join(f"{x:.2f}" for x in load_after)
    total = sum(o.seconds for o in outcomes)
    head = (f"Measured by `python benchmarks/run_all.py`{'' if quick else ' --full'} on {when:%Y-%m-%d %H:%M} UTC "
            f"({'quick modes' if quick else 'full size'}, {len(outcomes)} benchmarks, one at a time, {total:.0f} s) on {where}. "
            f"Load average (1/5/15 min) before: {loads[0]}, after: {loads[1]} (the run itself adds about 1; more means "
            "other processes shared the cores, which slows absolute times but not the ratios each benchmark measures "
            "side by side).")
    rows = ["| benchmark | result | measured |", "|---|---|---|"]
    for o in outcomes:
        command = f"`{' '.join([o.script, *o.args])}` ({o.seconds:.0f} s)"
        for name, text in o.results:
            rows.append(f"| {command} | {_cell(name)} | {_cell(text)} |")
        if o.error:
            rows.append(f"| {command} | - | **{_cell(o.error)}** |")
    return "\n".join([head, "", *rows])


def rewrite(readme: str, table: str, source: str = "README.md") -> str:
    """``readme`` with what stands between its START and END lines replaced by ``table``; the rest unchanged."""
    starts, ends = readme.count(START), readme.count(END)
    if starts != 1 or ends != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"{source}: needs one line {START} followed by one line {END} around the performance table "
                         f"(found {starts} and {ends}{', in the wrong order' if starts == ends == 1 else ''})")
    before, rest = readme.split(START)
    _, after = rest.split(END)
    return f"{before}{START}\n{table}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="run each benchmark at full size (no --quick)")
    ap.add_argument("--print", action="store_true", dest="dry", help="print the table instead of rewriting the README")
    ap.add_argument("--only", help="comma-separated benchmark names, e.g. engine,knapsack (default: all)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds one benchmark may take (default 1800)")
    ap.add_argument("--readme", type=Path, default=REPO / "README.md", help="the README to rewrite (default: the repository's)")
    args = ap.parse_args(argv)
    rewrite(args.readme.read_text(), "", str(args.readme))  # its markers, checked before minutes of benchmarks
    scripts = benchmarks(only=args.only.split(",") if args.only else None)
    load_before, when = os.getloadavg(), _dt.datetime.now(_dt.timezone.utc)
    outcomes = []
    for path in scripts:
        print(f"run_all: {path.name} ...", flush=True)
        outcome = run(path, not args.full, args.timeout)
        outcomes.append(outcome)
        for name, text in outcome.results:
            print(f"  RESULT {name}: {text}")
        print(f"  {outcome.seconds:.0f} s{'; ' + outcome.error if outcome.error else ''}", flush=True)
    table = render(outcomes, machine(), load_before, os.getloadavg(), when, not args.full)
    if args.dry:
        print(table)
    else:
        # read again: the README may have been edited while the benchmarks ran
        args.readme.write_text(rewrite(args.readme.read_text(), table, str(args.readme)))
        print(f"run_all: wrote the table to {args.readme}")
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
