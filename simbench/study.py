"""A study: the cells of a scenario (one, or a sweep's grid) run into a store, then summarised and reported."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from simbench.config import ConfigError
from simbench.report import report_dir
from simbench.results import write_results
from simbench.runner import execute, units_of
from simbench.store import Store, load
from simbench.sweep import Cell


def describe(cells: list[Cell], command: str) -> dict:
    """What the manifest records so that ``simbench report`` and ``compare`` read the store right."""
    first = cells[0].scenario
    swept = list(dict.fromkeys(k for c in cells for k in c.params))
    fields = {"world": getattr(first, "world", "rl"), "title": first.name, "command": command, "swept": swept,
              "cells": [{"id": c.id, "params": c.params} for c in cells]}
    if fields["world"] == "equitable":
        fields.update(metric=first.learner.metric, objective=first.objective.kind)
    else:
        fields.update(baseline=first.report.baseline, target_test_pass=first.report.target_test_pass)
    return fields


def check_baseline(cells: list[Cell], source: str) -> None:
    """Refuse, before running, a report baseline that is not one of the strategies."""
    for c in cells:
        sc = c.scenario
        labels = [s.label for s in sc.strategies]
        if getattr(sc, "world", "rl") == "rl" and sc.report.baseline not in labels:
            raise ConfigError("report.baseline", sc.report.baseline, f"the label of one of the strategies: {', '.join(labels)}", source)


def run_study(cells: list[Cell], out: Path, study_hash: str, source: str, *, seeds: int | None = None, workers: int = 1,
              executor: str = "local", address: str | None = None, force: bool = False, progress: bool = True,
              command: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every unit not yet in ``out``'s store, then write results.parquet, summary.csv and the report.

    Returns (results, summary).  Swept parameters become columns of both.
    """
    t0 = time.perf_counter()
    check_baseline(cells, source)
    store = Store(out, study_hash, source, force=force)
    store.write_manifest(**describe(cells, command))
    params = sorted({k for c in cells for k in c.params})
    todo = [item for c in cells for item in units_of(c.id, c.scenario, {"cell": c.id, **c.params} if params else {}, seeds)]
    skipped = len(store.done() & {u.key for u, _, _ in todo})
    execute(todo, store, executor=executor, workers=workers, address=address, progress=progress, desc=cells[0].scenario.name)
    df = load(out, [u for u, _, _ in todo])
    write_results(df, out)
    _, summary = report_dir(out)
    metric = "objective" if store.manifest["world"] == "equitable" else "final_test_pass"
    best = summary.sort_values(metric, ascending=False).iloc[0]
    print(f"simbench: {len(todo)} units ({skipped} already done, {len(cells)} cells), {len(df)} rows in "
          f"{time.perf_counter() - t0:.1f} s -> {out}/ (best {metric.replace('_', ' ')}: {best['allocator']} {best[metric]:.4f})")
    return df, summary
