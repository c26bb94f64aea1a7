"""Population generators, group shares, pass@k against the Beta closed form, and p in {0, 1}.

Significance level of every goodness-of-fit test: ALPHA; mean checks allow Z
standard errors of the Monte-Carlo mean.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from foundation_helpers import tiny
from scipy import special, stats

from simbench.worlds.rl.engine import Cell, run_cell
from simbench.worlds.rl.learner import LearnerSpec, LogisticPolicy, logit, pass_at_ks, sigmoid
from simbench.worlds.rl.population import GroupSpec, PassRateSpec, PopulationSpec, make_population

ALPHA = 1e-3
Z = 5.0
A, B = 0.2622, 0.7271


def pool(pass_rate=None, n=20_000, **kw):
    spec = PopulationSpec(train_prompts=n, test_prompts=n, pass_rate=pass_rate or PassRateSpec(), **kw)
    return make_population(spec, 2024)


def test_pass_at_k_matches_the_beta_closed_form():
    """1 - E(1-p)^k over a Beta(a, b) population equals 1 - B(a, b+k) / B(a, b), k = 1..256."""
    n = 200_000
    train, test = pool(PassRateSpec("beta", a=A, b=B), n=n)
    ks = np.arange(1, 257)
    for p in (train.p0, test.p0):
        got = np.array([pass_at_ks(p, np.array([k]))[1] for k in ks])
        want = 1.0 - np.exp(special.betaln(A, B + ks) - special.betaln(A, B))
        # standard error of the Monte-Carlo mean of (1 - p)^k, per k
        se = np.array([np.std((1.0 - p) ** k, ddof=1) for k in ks]) / math.sqrt(n)
        z = np.abs(got - want) / se
        assert z.max() <= Z, f"worst k={ks[z.argmax()]}: |z|={z.max():.2f}"
    # the Beta draw itself: Kolmogorov-Smirnov against scipy's Beta
    assert stats.kstest(train.p0, stats.beta(A, B).cdf).pvalue > ALPHA


def test_reported_test_pass_at_k_at_step_zero_is_the_closed_form():
    sc = tiny(population={"train_prompts": 64, "test_prompts": 50_000}, engine={"steps": 1, "batch_prompts": 8},
              learner={"pass_at_k": [1, 8, 64]})
    row = run_cell(sc, 0, 0)[0]
    _, test = make_population(sc.population, sc.cell_seed(0).spawn(5)[0])
    for k in (1, 8, 64):
        want = 1.0 - math.exp(special.betaln(A, B + k) - special.betaln(A, B))
        se = np.std((1.0 - test.p0) ** k, ddof=1) / math.sqrt(len(test.p0))
        assert abs(row[f"test_pass_at_{k}"] - want) <= Z * se
    assert row["test_pass"] == pytest.approx(row["test_pass_at_1"], rel=1e-12)


def test_beta_mixture():
    law = PassRateSpec("beta_mixture", weights=(3.0, 1.0), alphas=(0.5, 5.0), betas=(5.0, 0.5))
    train, _ = pool(law)
    cdf = lambda q: 0.75 * stats.beta.cdf(q, 0.5, 5.0) + 0.25 * stats.beta.cdf(q, 5.0, 0.5)  # noqa: E731
    assert stats.kstest(train.p0, cdf).pvalue > ALPHA


def test_logit_normal():
    train, _ = pool(PassRateSpec("logit_normal", mu=-1.0, sigma=1.5))
    assert stats.kstest(logit(train.p0), stats.norm(-1.0, 1.5).cdf).pvalue > ALPHA


def test_table_reads_the_csv_in_file_order_and_cycles(tmp_path):
    values = [0.0, 0.25, 0.5, 1.0, 0.125]
    (tmp_path / "rates.csv").write_text("p,comment\n" + "".join(f"{v},x\n" for v in values))
    law = PassRateSpec("table", path="rates.csv")
    np.testing.assert_array_equal(law.sample(np.random.default_rng(0), 12, tmp_path), np.array(values * 3)[:12])
    spec = PopulationSpec(train_prompts=11, test_prompts=5, pass_rate=law)
    train, test = make_population(spec, 1, tmp_path)
    # prompts are shuffled after drawing, so the pool is the cycled table as a multiset
    np.testing.assert_array_equal(np.sort(train.p0), np.sort(np.array(values * 3)[:11]))
    np.testing.assert_array_equal(np.sort(test.p0), np.sort(values))


def test_group_shares_are_respected():
    groups = (GroupSpec("math", 0.5), GroupSpec("code", 0.3), GroupSpec("chat", 0.2))
    n = 30_000
    train, test = pool(n=n, groups=groups)
    for p in (train, test):
        assert p.group_names == ("math", "code", "chat")
        counts = np.bincount(p.group, minlength=3)
        assert stats.chisquare(counts, n * np.array([0.5, 0.3, 0.2])).pvalue > ALPHA
        # groups are interleaved: prompt index carries no group information
        half = np.bincount(p.group[: n // 2], minlength=3)
        assert stats.chi2_contingency([half, counts - half]).pvalue > ALPHA


def test_group_with_its_own_pass_rate_law():
    groups = (GroupSpec("easy", 1.0, PassRateSpec("beta", a=8.0, b=2.0)), GroupSpec("hard", 1.0))
    train, _ = pool(groups=groups)
    easy, hard = train.p0[train.group == 0], train.p0[train.group == 1]
    assert stats.kstest(easy, stats.beta(8.0, 2.0).cdf).pvalue > ALPHA
    assert stats.kstest(hard, stats.beta(A, B).cdf).pvalue > ALPHA


def test_train_and_test_pools_share_a_distribution_but_not_prompts():
    train, test = pool(n=20_000)
    assert stats.ks_2samp(train.p0, test.p0).pvalue > ALPHA
    assert not np.array_equal(train.p0, test.p0)
    # the test pool does not depend on the size of the train pool
    spec = PopulationSpec(train_prompts=777, test_prompts=300)
    _, test_a = make_population(spec, 5)
    _, test_b = make_population(PopulationSpec(train_prompts=3000, test_prompts=300), 5)
    np.testing.assert_array_equal(test_a.p0, test_b.p0)
    np.testing.assert_array_equal(test_a.x, test_b.x)


def test_learner_keeps_p_zero_and_one_exact():
    p = np.array([0.0, 1e-300, 0.5, 1.0 - 1e-16, 1.0])
    assert sigmoid(logit(np.array([0.0, 1.0]))).tolist() == [0.0, 1.0]
    np.testing.assert_allclose(sigmoid(logit(p)), p, rtol=1e-12)


def test_engine_handles_prompts_with_p_zero_and_one(tmp_path):
    rates = [0.0, 1.0, 0.0, 1.0, 0.5, 0.3, 0.0, 1.0]
    (tmp_path / "edge.csv").write_text("p\n" + "\n".join(map(str, rates)) + "\n")
    from simbench.worlds import load_scenario

    (tmp_path / "edge.toml").write_text(
        'name = "edge"\nseeds = 1\n'
        '[population]\ntrain_prompts = 64\ntest_prompts = 64\npass_rate = { kind = "table", path = "edge.csv" }\n'
        '[engine]\nsteps = 6\nbatch_prompts = 16\n'
        '[[strategies]]\nallocator = { kind = "uniform", n = 8 }\n'
        '[[strategies]]\nallocator = { kind = "dapo", n = 8, on_exhausted = "train" }\n'
    )
    sc = load_scenario(tmp_path / "edge.toml")
    for s in range(2):
        cell = Cell(sc, s, 0)
        p0 = cell.learner.train.p0
        for step in range(1, 7):
            v, keep, adv, _ = cell.run_step(step, math.inf)
            cell.record(v, keep)
            p_sample = p0[v.prompts[v.sample_slot]]
            assert (v.sample_reward[p_sample == 0.0] == 0).all()
            assert (v.sample_reward[p_sample == 1.0] == 1).all()
            assert np.isfinite(adv).all()
            # all-pass and all-fail groups carry no signal
            assert not adv[(p_sample == 0.0) | (p_sample == 1.0)].any()
        assert np.isfinite(cell.learner.phi).all() and np.isfinite(cell.learner.u).all()
        # nothing moves a p = 0 or p = 1 prompt: its logit is infinite
        p_now = cell.learner.train_pass_rates()
        np.testing.assert_array_equal(p_now[np.isin(p0, (0.0, 1.0))], p0[np.isin(p0, (0.0, 1.0))])
        for row in run_cell(sc, s, 0):
            assert all(np.isfinite(v) for k, v in row.items() if isinstance(v, float) and k != "effective_ratio")


def test_grad_scale_formula_matches_monte_carlo_of_the_score_norm():
    """G_i^2 = E||score||^2 when every response has the prompt's mean correct length (sigma = 0, wrong_factor = 1)."""
    from simbench.worlds.rl import kernels

    spec = PopulationSpec(train_prompts=6, test_prompts=2)
    train, test = make_population(spec, 8)
    pol = LogisticPolicy(LearnerSpec(extra_dims=5), train, test)
    prompts = np.arange(6, dtype=np.int64)
    p = pol.pass_rate(prompts)
    reps = 20_000
    rng = np.random.default_rng(0)
    n = np.full(6, reps, np.int64)
    slot, reward, length, _ = kernels.draw_wave(rng, n, p, train.mean_len, 1.0, 0.0, 10**9, math.inf)
    norms = kernels.grad_norms(rng, slot, reward, length, prompts, p, train.x, train.noise, 600.0, 5)
    sq = np.bincount(slot, weights=norms**2) / reps
    se = np.sqrt(np.bincount(slot, weights=norms**4) / reps - sq**2) / math.sqrt(reps)
    G = pol.grad_scale(prompts)
    # rounding lengths to integers shifts E[len] by < 0.5 token: allow that on top of sampling error
    slack = train.noise**2 * 0.5 / 600.0 * (16 + 1 + 5)
    assert (np.abs(sq - G**2) <= Z * se + slack).all()
