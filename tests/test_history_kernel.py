"""The compiled uniform-GRPO history equals the general engine's, count for count."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simbench.core.config import ConfigError
from simbench.worlds.replay.population_fit import PopulationFit
from simbench.worlds.replay.simulate import CalibrationParams, LogAlgorithm, RecordingCell, build_scenario, compiled_counts, initial_pass_rates

INIT = PopulationFit((0.6, 0.4), (0.4, 3.0), (1.2, 1.0), 0.0, 0)
GATED = CalibrationParams(format_fail=0.066, lr_format=3.7, kl_coef=1e-4, lr_shared=0.03, lr_prompt=6.0, grad_noise=10.5)
CASES = {
    "defaults": (CalibrationParams(), LogAlgorithm(n=8, batch=32, prompts=160)),
    "gate-kl-d1": (dataclasses.replace(GATED, dim=1), LogAlgorithm(n=8, batch=32, prompts=160)),
    "gate-kl-d64": (dataclasses.replace(GATED, dim=64), LogAlgorithm(n=4, batch=16, prompts=100)),
    # a batch that does not divide the pool: batches straddle epochs and can hold a prompt twice
    "strong-kl-uneven": (dataclasses.replace(GATED, kl_coef=0.05, dim=4), LogAlgorithm(n=6, batch=24, prompts=37)),
    "no-noise-no-gate": (CalibrationParams(grad_noise=0.0, lr_prompt=40.0, dim=2), LogAlgorithm(n=16, batch=10, prompts=45)),
}


def _both(params, algo, appearances, seed, first=None, init=INIT):
    sc = build_scenario(init, params, algo, appearances, seed)
    p0 = None if first is None else initial_pass_rates(init, first, seed)
    return compiled_counts(sc, appearances, p0), RecordingCell(sc, appearances, p0).run_until_done()


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 7])
def test_compiled_history_equals_the_engine(case, seed):
    params, algo = CASES[case]
    (Kc, Nc), (Ke, Ne) = _both(params, algo, 5, seed)
    assert np.array_equal(Kc, Ke) and np.array_equal(Nc, Ne)
    assert (Nc > 0).mean() > 0.9 and Kc.max() > 0  # a real history was recorded, not two empty tables


def test_compiled_history_equals_the_engine_at_the_shipped_logs_size_with_empirical_bayes():
    """1209 prompts, batch 128, n = 8 (the shipped log's run); initial pass rates from per-prompt posteriors."""
    algo = LogAlgorithm(n=8, batch=128, prompts=1209)
    rng = np.random.default_rng(5)
    first = (rng.binomial(8, rng.beta(0.4, 0.8, algo.prompts)), np.full(algo.prompts, 8))
    (Kc, Nc), (Ke, Ne) = _both(GATED, algo, 4, 3, first)
    assert np.array_equal(Kc, Ke) and np.array_equal(Nc, Ne)
    # groups of 8; a prompt twice in a batch that straddles two epochs leaves an appearance empty (as the engine does)
    assert set(np.unique(Nc)) == {0, 8} and (Nc == 8).mean() > 0.99


def test_compiled_history_reports_divergence_as_the_engine_does():
    params = CalibrationParams(lr_prompt=1e308, grad_noise=1e3)
    algo = LogAlgorithm(n=8, batch=32, prompts=160)
    sc = build_scenario(INIT, params, algo, 3, 0)
    with pytest.raises(ConfigError) as engine:
        RecordingCell(sc, 3).run_until_done()
    with pytest.raises(ConfigError) as compiled:
        compiled_counts(sc, 3)
    assert str(compiled.value) == str(engine.value) and "overflowed in step" in str(engine.value)


def test_compiled_history_refuses_other_algorithms():
    sc = build_scenario(INIT, CalibrationParams(), LogAlgorithm(n=8, batch=32, prompts=160), 3, 0)
    sc = dataclasses.replace(sc, strategies=(dataclasses.replace(sc.strategies[0], downsampler="dapo_filter"),))
    with pytest.raises(ValueError, match="uniform GRPO only"):
        compiled_counts(sc, 3)
