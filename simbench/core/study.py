"""A study: the cells of a scenario (one, or a sweep's grid) run into a store, then summarised and reported."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from simbench.core.config import ConfigError
from simbench.core.outputs import report_dir
from simbench.core.runner import execute, units_of
from simbench.core.store import Store, load, write_results
from simbench.core.sweep import SweepCell
from simbench.worlds import world_of


def describe(cells: list[SweepCell], command: str) -> dict:
    """What the manifest records so that ``simbench report`` and ``compare`` read the store right."""
    first = cells[0].scenario
    swept = list(dict.fromkeys(k for c in cells for k in c.params))
    world = world_of(first)
    return {"world": world.name, "title": first.name, "command": command, "swept": swept,
            "cells": [{"id": c.id, "params": c.params} for c in cells], **world.describe(first)}


def run_study(cells: list[SweepCell], out: Path, study_hash: str, source: str, *, seeds: int | None = None, workers: int = 1,
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


def _run(store: Store, cells: list[SweepCell], out: Path, *, seeds, workers, executor, address, progress, command):
    t0 = time.perf_counter()
    store.write_manifest(**describe(cells, command))
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
    world = world_of(cells[0].scenario)
    write_results(df, out, world.leading_columns)
    _, summary = report_dir(out)
    metric = world.headline
    best = summary.sort_values(metric, ascending=False).iloc[0]
    cells_note = f", {len(cells)} sweep cells" if len(cells) > 1 else ""
    print(f"simbench: {len(todo)} units ({skipped} already done{cells_note}), {len(df)} rows in "
          f"{time.perf_counter() - t0:.1f} s -> {out}/ (best {metric.replace('_', ' ')}: {best['allocator']} {best[metric]:.4f})")
    return df, summary
