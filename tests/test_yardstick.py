"""The benchmark's numpy yardstick simulates the engine's model (so timing one against the other is fair).

Different random streams, so the comparison is statistical: on the same pools, over
seeds, the mean of each statistic must agree within 4 standard errors of the
difference (a false alarm about once in 16,000 per statistic if they are equal).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from simbench.worlds import parse_scenario
from simbench.worlds.rl.engine import Cell

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import yardstick_numpy  # noqa: E402

SEEDS, STEPS, BATCH, N = 12, 60, 32, 8


def statistics(rows, tr0, te0):
    body = rows[-STEPS:]
    return (rows[-1]["train_pass"] - tr0, rows[-1]["test_pass"] - te0, rows[-1]["test_pass_at_8"],
            np.mean([r["tokens"] for r in body]) / (BATCH * N), np.mean([r["groups_all_fail"] for r in body]) / BATCH,
            np.mean([r["effective_ratio"] for r in body]))


def test_the_yardstick_matches_the_engine_in_distribution():
    sc = parse_scenario({"name": "yardstick", "seeds": SEEDS, "population": {"train_prompts": 256, "test_prompts": 256},
                         "engine": {"steps": STEPS, "batch_prompts": BATCH},
                         "strategies": [{"allocator": {"kind": "uniform", "n": N}}]})
    engine, numpy_ = [], []
    for seed in range(SEEDS):
        cell = Cell(sc, 0, seed)
        tr0, te0 = float(cell.learner.train_pass_rates().mean()), float(cell.learner.test_pass_rates().mean())
        train, test = cell.learner.train, cell.learner.test
        numpy_.append(statistics(yardstick_numpy.from_population(train, test, STEPS, BATCH, N, seed=seed), tr0, te0))
        engine.append(statistics(cell.run(), tr0, te0))
    engine, numpy_ = np.array(engine), np.array(numpy_)
    se = np.sqrt(engine.var(0, ddof=1) / SEEDS + numpy_.var(0, ddof=1) / SEEDS)
    z = np.abs(engine.mean(0) - numpy_.mean(0)) / se
    assert (z < 4).all(), z
    assert (engine[:, 0] > 0).all() and (numpy_[:, 0] > 0).all()  # both learn
