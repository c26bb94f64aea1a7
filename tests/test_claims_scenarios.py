"""The claim scenarios (scenarios/claims/): each parses, and each uses the pinned calibration.

The settings of each paper are documented in docs/claims-settings.md; here we check what can go
stale: that every file loads through the scenario loader, that the learner and features are the
calibration pinned in scenarios/claims/calibrated.py (never tuned per claim), that screened prompt
sets are the exact mixtures that module computes, and that its screening formula is right.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from simbench import worlds

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = ROOT / "scenarios" / "claims"
FILES = sorted(CLAIMS.glob("*.toml"))


def _calibrated():
    spec = importlib.util.spec_from_file_location("claims_calibrated", CLAIMS / "calibrated.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cal = _calibrated()


def test_there_is_a_scenario_for_every_claim_of_the_issue():
    names = {p.stem for p in FILES}
    assert {"reinforce_ada", "reinforce_ada_hard", "gvm_raft", "gvm_raft_n32", "knapsack_rl", "dapo", "mopps", "dump"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_claim_scenario_parses_and_uses_the_pinned_calibration(path):
    scenario = worlds.load_scenario(path)
    assert worlds.world_of(scenario).name == "rl"
    assert scenario.name == f"claim-{path.stem}"
    features = scenario.population.features
    assert {k: getattr(features, k) for k in cal.FEATURES} == cal.FEATURES
    learner = scenario.learner
    fixed = {k: v for k, v in cal.LEARNER.items() if k != "kl_coef"}
    assert {k: getattr(learner, k) for k in fixed} == fixed
    assert learner.kl_coef in (0.0, cal.LEARNER["kl_coef"])  # 0 where the paper trains without KL
    # the comparison is paired: every strategy sees the same pools and batch order
    assert len(scenario.strategies) >= 2 and scenario.report.baseline in [s.label for s in scenario.strategies]


def _mixture(law) -> dict:
    assert law.kind == "beta_mixture"
    return {"weights": list(law.weights), "alphas": list(law.alphas), "betas": list(law.betas)}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_initial_pass_rates_are_the_calibrated_population_or_its_documented_transform(path):
    pop = worlds.load_scenario(path).population
    if path.stem in cal.SCREENS:
        k, kept = cal.SCREENS[path.stem]
        assert _mixture(pop.pass_rate) == cal.screened_mixture(**cal.CALIBRATED, k=k, kept=kept)
    elif path.stem == "dump":
        assert [g.name for g in pop.groups] == [f"kk{c}" for c in range(3, 15)]
        assert len({g.share for g in pop.groups}) == 1
        for c, g in zip(range(3, 15), pop.groups):
            law = cal.kk_source_law(c)
            assert (g.pass_rate.kind, g.pass_rate.a, g.pass_rate.b) == (law["kind"], law["a"], law["b"])
    else:
        assert _mixture(pop.pass_rate) == cal.CALIBRATED


def test_screened_mixture_matches_screening_by_simulation():
    # draw p0 from the calibrated mixture, screen with K ~ Binomial(16, p0), keep 1 <= K <= 2
    rng = np.random.default_rng(20261130)
    m = cal.CALIBRATED
    n = 400_000
    comp = rng.choice(len(m["weights"]), size=n, p=np.array(m["weights"]) / sum(m["weights"]))
    p = rng.beta(np.array(m["alphas"])[comp], np.array(m["betas"])[comp])
    K = rng.binomial(16, p)
    kept = (K >= 1) & (K <= 2)
    share = cal.kept_share(**m, k=16, kept=range(1, 3))
    se = np.sqrt(share * (1 - share) / n)
    assert abs(kept.mean() - share) < 4 * se
    mix = cal.screened_mixture(**m, k=16, kept=range(1, 3))
    w, a, b = (np.array(mix[key]) for key in ("weights", "alphas", "betas"))
    mean = float(np.sum(w * a / (a + b)))
    var = float(np.sum(w * (a * b / ((a + b) ** 2 * (a + b + 1)) + (a / (a + b)) ** 2))) - mean ** 2
    assert abs(p[kept].mean() - mean) < 4 * np.sqrt(var / kept.sum())
    assert abs(sum(mix["weights"]) - 1.0) < 1e-12


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_claim_scenario_prices_hours_with_a_preset_and_its_own_lengths(path):
    from simbench.cost.spec import PRESETS

    scenario = worlds.load_scenario(path)
    cost = scenario.cost
    assert cost is not None and cost.preset in PRESETS  # every row of the claims table has an hours column
    # generation is priced at the scenario's own response lengths: the paper's maximum must fit one engine
    cost.check_lengths(scenario.population.lengths.max, "population.lengths.max")
    assert cost.prompt_len.max in (1024, 2048, 4096)  # the papers' max_prompt_length


def test_cost_changes_no_other_column_of_a_claim_scenario():
    """[cost] is not part of the world: a claim scenario run with and without it gives the same bits elsewhere.

    gvm_raft has every kind of step the claims use: two waves, gradient norms, RAFT and GRPO advantages, a KL pull.
    """
    import math

    from simbench.core.scenario import read_toml
    from simbench.cost.ledger import COLUMNS
    from simbench.worlds import parse_scenario
    from simbench.worlds.rl.engine import run_cell

    data = read_toml(CLAIMS / "gvm_raft.toml")
    data["population"]["train_prompts"], data["engine"]["batch_prompts"], data["engine"]["steps"] = 2048, 64, 5
    plain = {k: v for k, v in data.items() if k != "cost"}
    a_sc, b_sc = parse_scenario(plain, "gvm_raft.toml"), parse_scenario(data, "gvm_raft.toml")
    assert a_sc.world_hash() == b_sc.world_hash() and b_sc.cost is not None
    for strategy in range(len(a_sc.strategies)):
        a, b = run_cell(a_sc, strategy, 0), run_cell(b_sc, strategy, 0)
        assert len(a) == len(b) and all(set(rb) == set(ra) | set(COLUMNS) for ra, rb in zip(a, b))
        for ra, rb in zip(a, b):
            bad = {k: (ra[k], rb[k]) for k in ra
                   if not (ra[k] == rb[k] or (isinstance(ra[k], float) and math.isnan(ra[k]) and math.isnan(rb[k])))}
            assert not bad, (a_sc.strategies[strategy].label, bad)
        assert b[-1]["cum_hours"] > 0
