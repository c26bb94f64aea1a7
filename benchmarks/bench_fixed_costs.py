"""Fixed costs a user waits for: start-up of the command line, SVG figures in a report, BLAS threads.

    python benchmarks/bench_fixed_costs.py [--quick]

1. ``simbench --version``, ``--help`` and ``list`` in fresh interpreters (wall time as a user waits, best of
   ``repeats``; the process's own peak RSS), side by side with a fresh interpreter that only imports what every
   command used to import up front (cvxpy, matplotlib, pandas, pyarrow, scipy.stats, numba).
2. ``simbench report`` of a small run: CPU time of the report with PNG figures only and with PNG and SVG
   (``--svg``), alternating, best of ``repeats``.
3. ``np.dot`` of two 65,536-element vectors with one BLAS thread (simbench's default per process) and with the
   BLAS library's default, alternating in this process, median of many calls.

Each part ends with a line ``RESULT <name>: ...`` for ``benchmarks/run_all.py``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout's simbench, not an installed copy

import numpy as np  # noqa: E402

OLD_IMPORTS = "import cvxpy, matplotlib.pyplot, pandas, pyarrow.parquet, scipy.stats, numba"
CHILD = """import contextlib, io, json, resource, sys
if sys.argv[1:] == ["--imports"]:
    exec({old!r})
else:
    from simbench.cli import main
    with contextlib.redirect_stdout(io.StringIO()):
        main(sys.argv[1:])
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def fresh(argv: list[str], repeats: int) -> tuple[float, float]:
    """Best wall time (s) of a fresh interpreter running ``simbench ARGV``, and its peak RSS (MB)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    code = CHILD.format(old=OLD_IMPORTS)
    best, rss = float("inf"), 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=True)
        best = min(best, time.perf_counter() - t0)
        rss = json.loads(done.stdout.strip().splitlines()[-1]) / 1024
    return best, rss


def startup(repeats: int) -> None:
    old, old_rss = fresh(["--imports"], repeats)
    print(f"a fresh interpreter importing {OLD_IMPORTS[7:]}: {old:.2f} s, {old_rss:.0f} MB")
    parts = []
    for argv in (["--version"], ["--help"], ["list"]):
        t, rss = fresh(argv, repeats)
        print(f"simbench {argv[0]}: {t:.2f} s, {rss:.0f} MB ({old / t:.1f}x faster)", flush=True)
        parts.append(f"{argv[0]} {t:.2f} s / {rss:.0f} MB")
    print(f"RESULT startup: {'; '.join(parts)} (best of {repeats}, fresh interpreters); a fresh interpreter importing what "
          f"every command imported before (cvxpy, matplotlib, pandas, pyarrow, scipy.stats, numba): {old:.2f} s / {old_rss:.0f} MB")


def report_svg(repeats: int) -> None:
    from simbench.cli import main
    from simbench.core.outputs import report_dir
    from simbench.core.report import svg_figures

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "q"
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            main(["run", str(REPO / "scenarios" / "quickstart.toml"), "--out", str(out), "--seeds", "2", "--quiet"])
        report_dir(out)  # warm: fonts, imports
        times = {False: [], True: []}
        for _ in range(repeats):
            for svg in (False, True):
                t0 = time.process_time()
                with svg_figures(svg):
                    report_dir(out)
                times[svg].append(time.process_time() - t0)
        figures = len(list((out / "report").glob("*.png")))
    png, both = min(times[False]), min(times[True])
    print(f"report of the quickstart (2 seeds, {figures} figures), CPU time: PNG only {png:.2f} s, PNG and SVG {both:.2f} s")
    print(f"RESULT report_svg: the quickstart's report (2 seeds, {figures} figures), CPU time, best of {repeats} alternating: "
          f"PNG only (default) {png:.2f} s, with --svg {both:.2f} s: SVG adds {both / png - 1:.0%}")


def blas(calls: int) -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    default = max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
    a, b = np.random.default_rng(0).random((2, 65_536))
    times = {1: [], None: []}
    for _ in range(calls):
        for limit in (1, None):
            with threadpool_limits(limits=limit, user_api="blas"):
                t0 = time.perf_counter()
                np.dot(a, b)
                times[limit].append(time.perf_counter() - t0)
    one, lib = (float(np.median(times[k])) * 1e3 for k in (1, None))
    print(f"np.dot of two 65,536-element vectors, median of {calls}: 1 BLAS thread {one:.4f} ms, the library's default "
          f"({default} threads) {lib:.4f} ms")
    print(f"RESULT blas_threads: np.dot of two 65,536-element vectors, median of {calls} calls, alternating: 1 thread (simbench's "
          f"default per process) {one * 1e3:.1f} us, the BLAS library's default of {default} threads {lib * 1e3:.1f} us: "
          f"{lib / one:.1f}x (os.cpu_count() = {os.cpu_count()}, load average {os.getloadavg()[0]:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    quick = ap.parse_args().quick
    startup(3 if quick else 5)
    report_svg(2 if quick else 3)
    blas(200 if quick else 1000)


if __name__ == "__main__":
    main()
