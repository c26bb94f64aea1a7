"""The learner's update is an unbiased policy-gradient step with the documented noise.

With Dr.GRPO's advantage, E[sum_j (r_j - rbar)(r_j - p)] = (n - 1) p (1 - p), so
the mean update of phi over many draws is lr (n - 1) / n_kept * sum_i p_i (1 - p_i) x_i,
i.e. proportional to the true gradient of sum_i p_i.  With RAFT the factor is n.
The true gradient here is taken by finite differences of ``pass_rate``.  With the
format gate (p = s q) the same holds for the gate's logit g, whose score (f - s)
needs each response's latent formed/correct pair: a wrong posterior for it
would bias the mean update and fail the test.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

import simbench.registry as registry
from simbench.worlds.rl import kernels
from simbench.worlds.rl.learner import LearnerSpec, LogisticPolicy
from simbench.worlds.rl.population import PassRateSpec, PopulationSpec, make_population

ALPHA = 1e-3


def policy(K=6, lr_shared=1.0, lr_prompt=1.0, noise=1.0, format_fail=0.0, lr_format=0.0):
    from simbench.worlds.rl.population import FeatureSpec

    spec = PopulationSpec(train_prompts=K, test_prompts=4, pass_rate=PassRateSpec("beta", a=2.0, b=2.0),
                          features=FeatureSpec(grad_noise=noise))
    train, test = make_population(spec, 17)
    learner = LearnerSpec(lr_shared=lr_shared, lr_prompt=lr_prompt, format_fail=format_fail, lr_format=lr_format)
    return LogisticPolicy(learner, train, test)


def gate_gradient(pol, prompts, h=1e-6):
    """d/dg of sum_i p_i by central differences (the format gate's logit)."""
    pol.g += h
    up = pol.pass_rate(prompts).sum()
    pol.g -= 2 * h
    down = pol.pass_rate(prompts).sum()
    pol.g += h
    return (up - down) / (2 * h)


def true_gradient(pol, prompts, h=1e-6):
    """d/dphi of sum_i p_i by central differences, and d/du_i of p_i (one prompt at a time)."""
    d = pol.phi.shape[0]
    g_phi = np.empty(d)
    for c in range(d):
        e = np.zeros(d)
        e[c] = h
        pol.phi += e
        up = pol.pass_rate(prompts).sum()
        pol.phi -= 2 * e
        down = pol.pass_rate(prompts).sum()
        pol.phi += e
        g_phi[c] = (up - down) / (2 * h)
    g_u = np.empty(len(prompts))
    for i, k in enumerate(prompts):
        pol.u[k] += h
        up = pol.pass_rate(prompts)[i]
        pol.u[k] -= 2 * h
        down = pol.pass_rate(prompts)[i]
        pol.u[k] += h
        g_u[i] = (up - down) / (2 * h)
    return g_phi, g_u


def mean_updates(pol, estimator, n, draws, seed):
    """Apply ``draws`` independent updates from the same (phi, u); return the changes, one row per draw."""
    K = len(pol.train)
    prompts = np.arange(K, dtype=np.int64)
    p = pol.pass_rate(prompts)
    est = registry.make("advantage", estimator)
    rng = np.random.default_rng(seed)
    out = np.empty((draws, pol.phi.shape[0] + K + pol.gated))
    ns = np.full(K, n, np.int64)
    for t in range(draws):
        slot, reward, length, drawn = kernels.draw_wave(rng, ns, p, pol.train.mean_len, 1.3, 0.4, 3072, math.inf)
        keep = np.ones(len(slot), bool)
        pos = np.bincount(slot, weights=reward, minlength=K).astype(np.int64)
        view = SimpleNamespace(sample_slot=slot, sample_reward=reward, n_slots=K, drawn=drawn, pos=pos)
        adv = est.advantages(view, keep)
        phi0, u0, g0 = pol.phi.copy(), pol.u.copy(), pol.g
        pol.update(rng, prompts, slot, reward, length, adv, len(slot))
        out[t, : len(phi0)] = pol.phi - phi0
        out[t, len(phi0): len(phi0) + K] = pol.u - u0
        if pol.gated:
            out[t, -1] = pol.g - g0
        pol.phi[:], pol.u[:], pol.g = phi0, u0, g0
    return out


def hotelling_pvalue(samples, mean0):
    """One-sample Hotelling T^2 test of E[samples] = mean0 (exact F form)."""
    M, q = samples.shape
    diff = samples.mean(axis=0) - mean0
    S = np.cov(samples, rowvar=False)
    t2 = M * diff @ np.linalg.solve(S, diff)
    f = t2 * (M - q) / (q * (M - 1))
    return stats.f.sf(f, q, M - q)


@pytest.mark.parametrize("estimator, factor, format_fail", [
    ("dr_grpo", lambda n: n - 1, 0.0), ("raft", lambda n: n, 0.0), ("dr_grpo", lambda n: n - 1, 0.3), ("raft", lambda n: n, 0.3)])
def test_expected_update_is_the_true_policy_gradient(estimator, factor, format_fail):
    K, n, draws = 6, 8, 12_000
    pol = policy(K, format_fail=format_fail, lr_format=2.0)
    prompts = np.arange(K, dtype=np.int64)
    g_phi, g_u = true_gradient(pol, prompts)
    # closed form first: d p_i / d theta_i = s q_i (1 - q_i), with s = 1 and q = p without the gate
    p = pol.pass_rate(prompts)
    s = 1.0 - format_fail
    q = p / s
    np.testing.assert_allclose(g_phi, s * (q * (1 - q)) @ pol.train.x, rtol=1e-6)
    np.testing.assert_allclose(g_u, s * q * (1 - q), rtol=1e-6)
    n_kept = K * n
    want = [pol.spec.lr_shared * factor(n) / n_kept * g_phi, pol.spec.lr_prompt * factor(n) / n_kept * g_u]
    if format_fail:
        g_g = gate_gradient(pol, prompts)
        assert g_g == pytest.approx(s * (1 - s) * q.sum(), rel=1e-6)  # d(s q)/dg = s (1 - s) q
        want.append([pol.spec.lr_format * factor(n) / n_kept * g_g])
    upd = mean_updates(pol, estimator, n, draws, seed=5)
    assert hotelling_pvalue(upd, np.concatenate(want)) > ALPHA


def test_wrong_direction_is_detected():
    """The same test rejects a gradient with the opposite sign: it has power."""
    K, n = 6, 8
    pol = policy(K)
    g_phi, g_u = true_gradient(pol, np.arange(K, dtype=np.int64))
    want = np.concatenate([(n - 1) / (K * n) * g_phi, (n - 1) / (K * n) * g_u])
    upd = mean_updates(pol, "dr_grpo", n, 3000, seed=6)
    assert hotelling_pvalue(upd, -want) < ALPHA


def test_update_noise_has_the_summed_variance():
    """Fixed samples, fresh noise: Var(dphi_c) = (lr scale)^2 sum_i noise_i^2 sum_j A_j^2 len_j / ref_len."""
    K, d = 5, 16
    pol = policy(K, lr_shared=0.3, lr_prompt=0.7, noise=2.0)
    rng = np.random.default_rng(2)
    prompts = np.arange(K, dtype=np.int64)
    p = pol.pass_rate(prompts)
    slot, reward, length, _ = kernels.draw_wave(rng, np.full(K, 6, np.int64), p, pol.train.mean_len, 1.3, 0.4, 3072, math.inf)
    adv = rng.normal(size=len(slot))
    n_kept = len(slot)
    var_slot = np.bincount(slot, weights=adv**2 * length, minlength=K) * pol.train.noise[prompts] ** 2 / 600.0
    scale = 1.0 / n_kept
    want_phi = (0.3 * scale) ** 2 * var_slot.sum()
    want_u = (0.7 * scale) ** 2 * var_slot
    M = 4000
    out = np.empty((M, d + K))
    for t in range(M):
        phi, u = np.zeros(d), np.zeros(K)
        kernels.policy_update(rng, slot, reward, length, adv, prompts, p, pol.train.x, pol.train.noise, 600.0, 0.3, 0.7, scale, phi, u)
        out[t, :d], out[t, d:] = phi, u
    want = np.concatenate([np.full(d, want_phi), want_u])
    s2 = out.var(axis=0, ddof=1)
    chi = (M - 1) * s2 / want
    # two-sided chi-square test per coordinate, Bonferroni over the d + K coordinates
    p_low, p_high = stats.chi2.cdf(chi, M - 1), stats.chi2.sf(chi, M - 1)
    assert (2 * np.minimum(p_low, p_high) > ALPHA / (d + K)).all()


def test_test_pass_rate_ignores_memorisation():
    pol = policy(8)
    before = pol.test_pass_rates().copy()
    pol.u += 3.0
    np.testing.assert_array_equal(pol.test_pass_rates(), before)
    assert (pol.train_pass_rates() > sigmoid_of(pol)).all()


def sigmoid_of(pol):
    return 1 / (1 + np.exp(-(pol.b_train + pol.train.x @ pol.phi)))


def test_no_kept_samples_means_no_update():
    pol = policy(4)
    e = np.empty(0)
    assert pol.update(np.random.default_rng(0), np.arange(4), e.astype(np.int64), e.astype(np.int8), e.astype(np.int32), e, 0) == 0.0
    assert not pol.phi.any() and not pol.u.any()


def test_kl_pull_shrinks_phi_and_the_step_prompts_u_towards_the_reference():
    from simbench.worlds.rl.learner import LearnerSpec, LogisticPolicy
    from simbench.worlds.rl.population import PopulationSpec, make_population

    train, test = make_population(PopulationSpec(train_prompts=20, test_prompts=5), 1)
    pol = LogisticPolicy(LearnerSpec(lr_shared=0.1, lr_prompt=2.0, kl_coef=0.05), train, test)
    pol.phi[:] = 1.0
    pol.u[:] = 1.0
    prompts = np.array([3, 7, 7], np.int64)
    empty = np.empty(0, np.int64)
    pol.update(np.random.default_rng(0), prompts, empty, empty.astype(np.int8), empty.astype(np.int32), np.empty(0), 0)
    np.testing.assert_allclose(pol.phi, 1.0 - 0.1 * 0.05)
    np.testing.assert_allclose(pol.u[[3, 7]], 1.0 - 2.0 * 0.05)  # once per prompt, even if it fills two slots
    others = np.setdiff1d(np.arange(20), [3, 7])
    np.testing.assert_array_equal(pol.u[others], 1.0)


def test_format_gate_keeps_the_initial_pass_rates_and_caps_them_at_s0():
    pol = policy(50, format_fail=0.2, lr_format=1.0)
    p0 = pol.train.p0
    np.testing.assert_allclose(pol.train_pass_rates(), np.minimum(p0, 0.8), rtol=1e-12)
    np.testing.assert_allclose(pol.test_pass_rates(), np.minimum(pol.test.p0, 0.8), rtol=1e-12)
    assert pol.format_rate() == pytest.approx(0.8)
    assert (p0 > 0.8).any() and (p0 < 0.8).any()  # both sides of the cap are exercised


def test_format_gate_is_pulled_back_by_the_kl_term():
    from simbench.worlds.rl.population import PopulationSpec, make_population

    train, test = make_population(PopulationSpec(train_prompts=20, test_prompts=5), 1)
    pol = LogisticPolicy(LearnerSpec(lr_shared=0.1, lr_prompt=2.0, kl_coef=0.05, format_fail=0.1, lr_format=3.0), train, test)
    pol.g = pol.g0 + 2.0
    empty = np.empty(0, np.int64)
    pol.update(np.random.default_rng(0), np.array([3], np.int64), empty, empty.astype(np.int8), empty.astype(np.int32), np.empty(0), 0)
    assert pol.g - pol.g0 == pytest.approx(2.0 * (1 - 3.0 * 0.05))


@pytest.mark.parametrize("key, value", [("format_fail", -0.1), ("format_fail", 1.0), ("lr_format", -1.0)])
def test_format_gate_rejects_bad_settings(key, value):
    from simbench.core.config import ConfigError

    with pytest.raises(ConfigError, match=key):
        LearnerSpec(**{key: value}).check()
