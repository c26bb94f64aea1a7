"""Marginal seconds of one more sample (StepView.time_cost) and the knapsack that pays in seconds."""
from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from simbench.core.config import ConfigError, build
from simbench.cost.generation import peak_rate
from simbench.cost.marginal import _lognormal_excess, _pooled_quantile, time_cost
from simbench.cost.spec import CostSpec
from simbench.worlds import parse_scenario
from simbench.worlds.rl.engine import run_cell

REPO = Path(__file__).resolve().parent.parent
SPEC = build(CostSpec, {}, "cost")


@pytest.mark.parametrize("mean, sigma, M", [(600.0, 0.4, 900.0), (600.0, 1.2, 300.0), (50.0, 0.8, 4000.0)])
def test_lognormal_excess_equals_the_integral(mean, sigma, M):
    law = stats.lognorm(s=sigma, scale=mean * math.exp(-sigma**2 / 2))
    want = integrate.quad(lambda x: (x - M) * law.pdf(x), M, np.inf, limit=200)[0]
    assert _lognormal_excess(np.array([mean]), sigma, M)[0] == pytest.approx(want, rel=1e-6)


def test_pooled_quantile_inverts_the_mixture_cdf():
    means, sigma = np.array([100.0, 600.0, 3000.0]), 0.7
    x = _pooled_quantile(means, sigma, 0.99, 1e9)
    cdf = np.mean([stats.lognorm(s=sigma, scale=m * math.exp(-sigma**2 / 2)).cdf(x) for m in means])
    assert cdf == pytest.approx(0.99, abs=1e-9)


def test_without_spread_only_throughput_is_paid():
    P, L = np.full(16, 200), np.full(16, 700.0)
    assert np.allclose(time_cost(SPEC, P, L, 0.0, 3072, 0), 700.0 / peak_rate(SPEC, P, L), rtol=1e-12)


def test_long_tailed_prompts_cost_more_per_token():
    P = np.full(6, 200)
    L = np.array([100.0, 200, 400, 800, 1600, 3200])
    cost = time_cost(SPEC, P, L, 0.8, 16384, 0)
    per_token = cost / L
    assert (np.diff(cost) > 0).all() and (np.diff(per_token) > 0).all()  # straggling grows faster than length
    # a step that already drew many samples has a longer expected maximum, so one more straggles less
    assert (time_cost(SPEC, P, L, 0.8, 16384, 4096) < cost).all()


def knapsack_scenario(**change):
    data = tomllib.loads((REPO / "scenarios" / "knapsack_seconds.toml").read_text())
    data["engine"]["steps"] = 16
    data.update(change)
    return parse_scenario(data, "knapsack_seconds.toml")


def test_seconds_knapsack_moves_samples_to_short_prompts():
    sc = knapsack_scenario()
    labels = [s.label for s in sc.strategies]
    # the second epoch (steps 9-16 of 512 prompts in batches of 64): every prompt has an observed mean length
    by_samples = run_cell(sc, labels.index("knapsack_samples"), 0)[9:]
    by_seconds = run_cell(sc, labels.index("knapsack_seconds"), 0)[9:]
    tokens_per_sample = [sum(r["tokens"] for r in rows) / sum(r["samples"] for r in rows) for rows in (by_samples, by_seconds)]
    print("tokens per sample, knapsack in samples vs in seconds:", tokens_per_sample)
    assert tokens_per_sample[1] < 0.9 * tokens_per_sample[0]
    # the same seconds of generation as uniform n = 8, not the same number of samples
    assert sum(r["samples"] for r in by_seconds) > sum(r["samples"] for r in by_samples)


def test_seconds_knapsack_needs_a_cost_table():
    data = tomllib.loads((REPO / "scenarios" / "knapsack_seconds.toml").read_text())
    del data["cost"], data["budget"]
    with pytest.raises(ConfigError) as info:
        parse_scenario(data, "knapsack_seconds.toml")
    assert info.value.where == "strategies[2]" and "[cost] table" in info.value.allowed, str(info.value)
