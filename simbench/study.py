"""A study: the cells of a scenario (one, or a sweep's grid) run into a store, then summarised and reported."""
from __future__ import annotations

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
              executor: str = "local", address: str | None = None, force: bool = False, progress: bool = True,
              command: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every unit not yet in ``out``'s store, then write results.parquet, summary.csv and the report.

    Returns (results, summary).  Swept parameters become columns of both.
    """
    t0 = time.perf_counter()
    store = Store(out, study_hash, source, force=force)
    params = sorted({k for c in cells for k in c.params})
    todo = [item for c in cells for item in units_of(c.id, c.scenario, {"cell": c.id, **c.params} if params else {}, seeds)]
    skipped = len(store.done() & {u.key for u, _, _ in todo})
    try:
        execute(todo, store, executor=executor, workers=workers, address=address, progress=progress, desc=cells[0].scenario.name)
    except ConfigError as err:  # found while running (e.g. a budget no group fits): it is the scenario file's
        raise (err.in_file(source) if err.source == "<memory>" else err) from None
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
