"""A study: the cells of a scenario (one, or a sweep's grid) run into a store, then summarised and reported."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from simbench.config import ConfigError
from simbench.report import write_report
from simbench.results import summarise, write_results
from simbench.runner import execute, units_of
from simbench.store import Store, load
from simbench.sweep import Cell


def run_study(cells: list[Cell], out: Path, study_hash: str, source: str, *, seeds: int | None = None, workers: int = 1,
              executor: str = "local", address: str | None = None, force: bool = False, repair: bool = False,
              progress: bool = True, command: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every unit not yet in ``out``'s store, then write results.parquet, summary.csv and the report.

    Holds the store's lock throughout.  Returns (results, summary).  Swept parameters become columns of both.
    """
    files = {str(path): digest for c in cells for path, digest in c.scenario.files().values()}
    with Store(out, study_hash, source, force=force, files=files, repair=repair) as store:
        if store.repaired:
            print(f"simbench: --repair removed {len(store.repaired)} unreadable unit file(s) from {store.units_dir} "
                  f"({', '.join(store.repaired)}); they are recomputed now", file=sys.stderr)
        try:
            return _run(store, cells, out, seeds=seeds, workers=workers, executor=executor, address=address,
                        progress=progress, command=command)
        except ConfigError as err:  # found while running (e.g. a budget no group fits): it is the scenario file's
            raise (err.in_file(source) if err.source == "<memory>" else err) from None


def _run(store: Store, cells: list[Cell], out: Path, *, seeds, workers, executor, address, progress, command):
    t0 = time.perf_counter()
    params = sorted({k for c in cells for k in c.params})
    todo = [item for c in cells for item in units_of(c.id, c.scenario, {"cell": c.id, **c.params} if params else {}, seeds)]
    keys = {u.key for u, _, _ in todo}
    skipped = len(store.done() & keys)
    try:
        execute(todo, store, executor=executor, workers=workers, address=address, progress=progress,
                desc=cells[0].scenario.name)
    except KeyboardInterrupt:
        print(f"simbench: stopped with {len(store.done() & keys)} of {len(todo)} units finished in {out}/; "
              f"rerun the same command to resume", file=sys.stderr)
        raise
    df = load(out, [u for u, _, _ in todo])
    write_results(df, out)
    first = cells[0].scenario
    if getattr(first, "world", "rl") == "equitable":
        from simbench.equitable.report import summarise_equitable

        summary = summarise_equitable(df)
        summary.to_csv(out / "summary.csv", index=False)
        write_report(df, out, first.name, command=command, world="equitable")
        best = summary.sort_values("objective", ascending=False).iloc[0]
        print(f"simbench: {len(todo)} units ({skipped} already done), {len(df)} rows in {time.perf_counter() - t0:.1f} s "
              f"-> {out}/ (best objective: {best['allocator']} {best['objective']:.4f})")
        return df, summary
    if params:
        parts = []
        for c in cells:
            s = summarise(df[df["cell"] == c.id], first.report.baseline, c.scenario.report.target_test_pass)
            for k, v in c.params.items():
                s.insert(0, k, v)
            s.insert(0, "cell", c.id)
            parts.append(s)
        summary = pd.concat(parts, ignore_index=True)
    else:
        summary = summarise(df, first.report.baseline, first.report.target_test_pass)
    summary.to_csv(out / "summary.csv", index=False)
    write_report(df, out, first.name, baseline=first.report.baseline, target=first.report.target_test_pass,
                 command=command, params=params)
    best = summary.sort_values("final_test_pass", ascending=False).iloc[0]
    print(f"simbench: {len(todo)} units ({skipped} already done, {len(cells)} cells), {len(df)} rows in "
          f"{time.perf_counter() - t0:.1f} s -> {out}/ (best final test pass: {best['allocator']} {best['final_test_pass']:.4f})")
    return df, summary
