"""The outcome kernel's statistics: Binomial counts and the response-length model.

Every statistical test uses a fixed seed and states its significance level;
allowed errors come from standard errors, never from tuned constants.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simbench.worlds.rl import kernels
from simbench.worlds.rl.population import LengthSpec, PopulationSpec, make_population

ALPHA = 1e-3  # significance level of each goodness-of-fit test
Z = 5.0  # sigma multiple for mean/ratio checks (two-sided p ~ 6e-7)


def draw(p, n, groups, seed, mean_len=600.0, wrong=1.3, sigma=0.4, max_len=100_000, cap=math.inf):
    ns = np.full(groups, n, np.int64)
    ps = np.full(groups, p, float)
    ml = np.full(groups, mean_len, float)
    return kernels.draw_wave(np.random.default_rng(seed), ns, ps, ml, wrong, sigma, max_len, cap)


def chi_square_binomial(successes, n, p):
    """Pearson chi-square of observed success counts against Binomial(n, p), pooling bins with expectation < 5."""
    observed = np.bincount(successes, minlength=n + 1).astype(float)
    expected = stats.binom.pmf(np.arange(n + 1), n, p) * len(successes)
    obs_bins, exp_bins, o, e = [], [], 0.0, 0.0
    for k in range(n + 1):
        o, e = o + observed[k], e + expected[k]
        if e >= 5:
            obs_bins.append(o)
            exp_bins.append(e)
            o = e = 0.0
    obs_bins[-1] += o
    exp_bins[-1] += e
    return stats.chisquare(obs_bins, exp_bins)


@pytest.mark.parametrize("p", [0.02, 0.2, 0.5, 0.77, 0.97])
@pytest.mark.parametrize("n", [1, 8, 16])
def test_counts_are_binomial(p, n):
    groups = 20_000
    slot, reward, _, drawn = draw(p, n, groups, seed=int(p * 1000) * 100 + n)
    assert (drawn == n).all()
    successes = np.bincount(slot, weights=reward, minlength=groups).astype(np.int64)
    res = chi_square_binomial(successes, n, p)
    assert res.pvalue > ALPHA, f"chi-square p-value {res.pvalue:.2e} for Binomial({n}, {p})"


def test_p_zero_and_one_are_exact():
    for n in (1, 16, 64):
        slot, reward, _, _ = draw(0.0, n, 5000, seed=n)
        assert reward.sum() == 0
        slot, reward, _, _ = draw(1.0, n, 5000, seed=n)
        assert (reward == 1).all() and len(reward) == 5000 * n


def test_heterogeneous_slots_keep_their_own_rate():
    """Slots with different p in one wave: per-slot-class success rates within Z standard errors."""
    rng = np.random.default_rng(3)
    p_levels = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    p = np.tile(p_levels, 4000)
    n = rng.integers(1, 9, len(p)).astype(np.int64)
    slot, reward, _, drawn = kernels.draw_wave(rng, n, p, np.full(len(p), 500.0), 1.3, 0.4, 3072, math.inf)
    np.testing.assert_array_equal(drawn, n)
    per_slot = np.bincount(slot, weights=reward, minlength=len(p))
    for level in p_levels:
        sel = p == level
        trials = n[sel].sum()
        rate = per_slot[sel].sum() / trials
        se = math.sqrt(level * (1 - level) / trials)
        assert abs(rate - level) <= Z * se + 1e-15


def ratio_ci_check(a, b, want):
    """mean(a) / mean(b) against ``want``, with the delta-method standard error of a ratio of means."""
    ma, mb = a.mean(), b.mean()
    ratio = ma / mb
    se = ratio * math.sqrt(a.var(ddof=1) / (len(a) * ma**2) + b.var(ddof=1) / (len(b) * mb**2))
    assert abs(ratio - want) <= Z * se, f"ratio {ratio:.4f} vs {want} (se {se:.4f})"
    return ratio, se


@pytest.mark.parametrize("wrong", [1.0, 1.3, 2.0])
def test_wrong_answers_are_longer_by_wrong_factor(wrong):
    _, reward, length, _ = draw(0.5, 16, 10_000, seed=int(wrong * 10), wrong=wrong)
    right, bad = length[reward == 1].astype(float), length[reward == 0].astype(float)
    ratio_ci_check(bad, right, wrong)
    # the log-normal is mean-preserving: correct answers average mean_len (rounding moves it by < 0.5)
    se = right.std(ddof=1) / math.sqrt(len(right))
    assert abs(right.mean() - 600.0) <= Z * se + 0.5


def test_lengths_are_truncated_at_max():
    max_len = 500
    _, reward, length, _ = draw(0.3, 8, 5000, seed=9, mean_len=600.0, max_len=max_len)
    assert length.max() == max_len and length.min() >= 1
    # the share clipped to max is the log-normal tail above max (wrong answers: mean 780, right: 600)
    share = (length == max_len).mean()
    s = 0.4
    tail = lambda m: stats.norm.sf((math.log(max_len - 0.5) - (math.log(m) - s * s / 2)) / s)  # noqa: E731
    want = 0.3 * tail(600.0) + 0.7 * tail(780.0)
    se = math.sqrt(want * (1 - want) / len(length))
    assert abs(share - want) <= Z * se


def test_token_cap_stops_before_the_sample_that_would_exceed_it():
    slot, reward, length, drawn = draw(0.5, 16, 100, seed=4, cap=20_000.0)
    assert length.sum() <= 20_000
    full = draw(0.5, 16, 100, seed=4)
    # the capped draw is a prefix of the uncapped one, and the next sample would not have fit
    k = len(length)
    np.testing.assert_array_equal(length, full[2][:k])
    assert length.sum() + full[2][k] > 20_000
    assert drawn.sum() == k


def test_mean_length_grows_with_difficulty():
    """log mean_len = log(mean) + slope (0.5 - p0) + prompt_sigma Z: the OLS slope recovers ``slope``."""
    for slope in (0.0, 1.0, 2.5):
        spec = PopulationSpec(train_prompts=20_000, test_prompts=10, lengths=LengthSpec(difficulty_slope=slope))
        train, _ = make_population(spec, 11)
        res = stats.linregress(0.5 - train.p0, np.log(train.mean_len))
        assert abs(res.slope - slope) <= Z * res.stderr
        assert abs(res.intercept - math.log(600.0)) <= Z * res.intercept_stderr
    # and so harder prompts have longer responses on average
    hard = train.mean_len[train.p0 < 0.2].mean()
    easy = train.mean_len[train.p0 > 0.8].mean()
    assert hard > easy
