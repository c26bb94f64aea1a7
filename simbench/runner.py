"""Run every strategy x seed of a scenario, in-process or over a process pool.

Cells are independent and seeded from the scenario (never from their position
or the worker that runs them), so results are identical for any ``workers``.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed

import pandas as pd
from tqdm.auto import tqdm

from simbench.engine import run_cell
from simbench.scenario import Scenario


def cells(scenario: Scenario, seeds: int | None = None) -> list[tuple[int, int]]:
    """(strategy index, seed index) of every cell, strategy-major."""
    n = scenario.seeds if seeds is None else seeds
    return [(s, k) for s in range(len(scenario.strategies)) for k in range(n)]


def _run(args):
    scenario, s, k = args
    return s, k, run_cell(scenario, s, k)


def run_scenario(scenario: Scenario, seeds: int | None = None, workers: int = 1, progress: bool = True) -> pd.DataFrame:
    """Run all cells; return one row per strategy x seed x step, in a canonical order.

    Parameters
    ----------
    scenario : Scenario
    seeds : number of seeds (default: the scenario's).
    workers : worker processes (1: run in this process).
    progress : show a progress bar with ETA on stderr.
    """
    todo = cells(scenario, seeds)
    workers = max(1, min(workers, len(todo), os.cpu_count() or 1))
    results: dict[tuple[int, int], list[dict]] = {}
    bar = tqdm(total=len(todo), unit="cell", desc=scenario.name, disable=not progress, leave=True)
    if workers == 1:
        for s, k in todo:
            results[s, k] = run_cell(scenario, s, k)
            bar.update(1)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_run, (scenario, s, k)) for s, k in todo]
            for fut in as_completed(futures):
                s, k, rows = fut.result()
                results[s, k] = rows
                bar.update(1)
    bar.close()
    rows = [row for key in todo for row in results[key]]
    return pd.DataFrame(rows)
