"""Differential tests: every numba kernel against its slow reference in ``naive.py``.

Random kernels get two generators in the same state; numba's Generator
methods reproduce numpy's streams, so the draws (and the generators' final
states) must agree exactly.
"""
from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simbench.worlds.rl import kernels

SETTINGS = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def twin_rngs(seed):
    return np.random.default_rng(seed), np.random.default_rng(seed)


def same_state(a, b):
    return a.bit_generator.state == b.bit_generator.state


def random_slots(rng, n_slots, T, runs):
    """Sample slots as the engine has them: in runs of one slot (waves), or shuffled."""
    slot = rng.integers(0, n_slots, T).astype(np.int64)
    return np.sort(slot) if runs else slot


def random_wave(rng, n_slots, max_n, p_mode):
    n = rng.integers(0, max_n + 1, n_slots).astype(np.int64)
    p = {"random": rng.random(n_slots), "edges": rng.choice([0.0, 1.0], n_slots), "mixed": rng.choice([0.0, 0.3, 1.0], n_slots)}[p_mode]
    mean_len = rng.uniform(50, 900, n_slots)
    return n, p, mean_len


@SETTINGS
@given(seed=seeds, n_slots=st.integers(0, 20), max_n=st.integers(0, 12), p_mode=st.sampled_from(["random", "edges", "mixed"]),
       sigma=st.floats(0, 1.5), wrong=st.floats(0.5, 2.0), max_len=st.integers(1, 2000),
       cap=st.one_of(st.just(math.inf), st.floats(0, 30_000)))
def test_draw_wave_matches_reference(seed, n_slots, max_n, p_mode, sigma, wrong, max_len, cap):
    setup = np.random.default_rng(seed ^ 0x5EED)
    n, p, mean_len = random_wave(setup, n_slots, max_n, p_mode)
    a, b = twin_rngs(seed)
    got = kernels.draw_wave(a, n, p, mean_len, wrong, sigma, max_len, cap)
    want = naive.draw_wave(b, n, p, mean_len, wrong, sigma, max_len, cap)
    for g, w, name in zip(got, want, ("slot", "reward", "length", "drawn")):
        assert g.dtype == w.dtype, name
        np.testing.assert_array_equal(g, w, err_msg=name)
    assert same_state(a, b)
    slot, reward, length, drawn = got
    assert length.sum() <= cap
    assert ((length >= 1) & (length <= max_len)).all()
    assert (drawn <= n).all()


@SETTINGS
@given(seed=seeds, n_slots=st.integers(1, 30), T=st.integers(0, 300), runs=st.booleans())
def test_group_counts_matches_reference(seed, n_slots, T, runs):
    rng = np.random.default_rng(seed)
    slot = random_slots(rng, n_slots, T, runs)
    reward = rng.integers(0, 2, T).astype(np.int8)
    mask = rng.random(T) < 0.7
    for g, w in zip(kernels.group_counts(slot, reward, mask, n_slots), naive.group_counts(slot, reward, mask, n_slots)):
        np.testing.assert_array_equal(g, w)


@SETTINGS
@given(seed=seeds, S=st.integers(0, 40))
def test_group_mean_std_matches_reference(seed, S):
    rng = np.random.default_rng(seed)
    count = rng.integers(0, 33, S).astype(np.int64)
    total = rng.integers(0, count + 1).astype(np.int64)
    gm, gs = kernels.group_mean_std(count, total)
    wm, ws = naive.group_mean_std(count, total)
    np.testing.assert_allclose(gm, wm, rtol=1e-14, atol=0)
    np.testing.assert_allclose(gs, ws, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(seed=seeds, n_slots=st.integers(1, 20), T=st.integers(0, 200), by_std=st.booleans(), eps=st.sampled_from([0.0, 1e-6, 0.1]))
def test_normalised_advantage_matches_reference(seed, n_slots, T, by_std, eps):
    """Bit for bit (signs of zeros included) the reference's per-sample arithmetic, with 0/1 rewards (computed
    per slot) and others (per sample)."""
    rng = np.random.default_rng(seed)
    slot = rng.integers(0, n_slots, T).astype(np.int64)
    reward = (rng.integers(0, 2, T) if seed % 3 else rng.integers(-2, 4, T)).astype(np.int8)
    mask = rng.random(T) < 0.8
    mean, std = rng.random(n_slots), rng.uniform(0.05, 1.0, n_slots)
    mean[rng.random(n_slots) < 0.3] = rng.choice([0.0, 1.0])
    got = kernels.normalised_advantage(slot, reward, mask, mean, std, by_std, eps)
    want = naive.normalised_advantage(slot, reward, mask, mean, std, by_std, eps)
    assert got.dtype == np.float64 and got.tobytes() == want.tobytes()


@SETTINGS
@given(seed=seeds, n_slots=st.integers(1, 20), T=st.integers(0, 200), runs=st.booleans(), by_std=st.booleans(),
       eps=st.sampled_from([1e-6, 0.1]), global_stats=st.booleans())
def test_group_advantage_is_the_three_kernels_in_one(seed, n_slots, T, runs, by_std, eps, global_stats):
    """Bit for bit the three kernels it fuses (with numpy's maximum for Reinforce-Ada's floor), and the references."""
    rng = np.random.default_rng(seed)
    slot = random_slots(rng, n_slots, T, runs)
    reward = rng.integers(0, 2, T).astype(np.int8)
    keep = rng.random(T) < (0.7 if seed % 2 else 1.0)  # some samples dropped, or none (the view's counts serve)
    drawn = np.bincount(slot, minlength=n_slots).astype(np.int64)  # a view's counts: every sample's
    pos = np.bincount(slot, weights=reward, minlength=n_slots).astype(np.int64)
    stats = np.ones(T, bool) if global_stats else keep
    mean, std = kernels.group_mean_std(*kernels.group_counts(slot, reward, stats, n_slots))
    std = np.maximum(std, eps) if global_stats else std
    got = kernels.group_advantage(slot, reward, keep, drawn, pos, by_std, eps, global_stats)
    np.testing.assert_array_equal(got, kernels.normalised_advantage(slot, reward, keep, mean, std, by_std, eps))
    wm, ws = naive.group_mean_std(*naive.group_counts(slot, reward, stats, n_slots))
    ws = np.maximum(ws, eps) if global_stats else ws
    np.testing.assert_allclose(got, naive.normalised_advantage(slot, reward, keep, wm, ws, by_std, eps), rtol=1e-12, atol=0)


def random_step(rng, n_prompts, S, T, d):
    """A random step: slots over a pool, samples with rewards, lengths and advantages (some exactly zero)."""
    prompts = rng.choice(n_prompts, S, replace=False).astype(np.int64)
    slot = rng.integers(0, S, T).astype(np.int64)
    reward = rng.integers(0, 2, T).astype(np.int8)
    length = rng.integers(1, 3000, T).astype(np.int32)
    adv = np.where(rng.random(T) < 0.3, 0.0, rng.normal(size=T))
    p = rng.random(S)
    x = rng.normal(size=(n_prompts, d))
    noise = rng.gamma(2.0, 0.5, n_prompts)
    return prompts, slot, reward, length, adv, p, x, noise


@SETTINGS
@given(seed=seeds, S=st.integers(1, 12), T=st.integers(0, 80), d=st.integers(1, 6),
       lr_shared=st.floats(0, 1), lr_prompt=st.floats(0, 3), scale=st.floats(0.01, 1))
def test_policy_update_matches_reference(seed, S, T, d, lr_shared, lr_prompt, scale):
    setup = np.random.default_rng(seed ^ 0xABC)
    n_prompts = S + 5
    prompts, slot, reward, length, adv, p, x, noise = random_step(setup, n_prompts, S, T, d)
    phi0, u0 = setup.normal(size=d), setup.normal(size=n_prompts)
    phi_a, u_a, phi_b, u_b = phi0.copy(), u0.copy(), phi0.copy(), u0.copy()
    a, b = twin_rngs(seed)
    got = kernels.policy_update(a, slot, reward, length, adv, prompts, p, x, noise, 600.0, lr_shared, lr_prompt, scale, phi_a, u_a)
    want = naive.policy_update(b, slot, reward, length, adv, prompts, p, x, noise, 600.0, lr_shared, lr_prompt, scale, phi_b, u_b)
    assert same_state(a, b)
    np.testing.assert_allclose(phi_a, phi_b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(u_a, u_b, rtol=1e-10, atol=1e-12)
    assert math.isclose(got, want, rel_tol=1e-10, abs_tol=1e-12)
    untouched = np.setdiff1d(np.arange(n_prompts), prompts)
    np.testing.assert_array_equal(u_a[untouched], u0[untouched])


@SETTINGS
@given(seed=seeds, S=st.integers(1, 10), T=st.integers(0, 60), d=st.integers(1, 6), extra=st.sampled_from([0, 1, 7, 1000]))
def test_grad_norms_matches_reference(seed, S, T, d, extra):
    setup = np.random.default_rng(seed ^ 0xDEF)
    prompts, slot, reward, length, _, p, x, noise = random_step(setup, S + 3, S, T, d)
    a, b = twin_rngs(seed)
    got = kernels.grad_norms(a, slot, reward, length, prompts, p, x, noise, 600.0, extra)
    want = naive.grad_norms(b, slot, reward, length, prompts, p, x, noise, 600.0, extra)
    assert same_state(a, b)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_grad_norms_without_noise_is_the_signal_norm():
    """With noise 0 the score norm is |r - p| * ||[x; 1]||, a closed form."""
    rng = np.random.default_rng(1)
    prompts, slot, reward, length, _, p, x, _ = random_step(rng, 8, 5, 40, 4)
    out = kernels.grad_norms(rng, slot, reward, length, prompts, p, x, np.zeros(8), 600.0, 3)
    want = np.abs(reward - p[slot]) * np.sqrt((x[prompts[slot]] ** 2).sum(axis=1) + 1.0)
    np.testing.assert_allclose(out, want, rtol=1e-12)


@SETTINGS
@given(seed=seeds, n_slots=st.integers(1, 30), T=st.integers(0, 300), dtype=st.sampled_from([np.int8, np.int32]), runs=st.booleans())
def test_slot_sums_matches_reference(seed, n_slots, T, dtype, runs):
    rng = np.random.default_rng(seed)
    slot = random_slots(rng, n_slots, T, runs)
    values = rng.integers(0, 3000, T).astype(dtype) if dtype != np.int8 else rng.integers(0, 2, T).astype(dtype)
    got = kernels.slot_sums(slot, values, n_slots)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, naive.slot_sums(slot, values, n_slots))
    np.testing.assert_array_equal(got, np.bincount(slot, weights=values, minlength=n_slots))


@SETTINGS
@given(seed=seeds, n_prompts=st.integers(1, 20), S=st.integers(0, 25), step=st.integers(1, 50))
def test_fold_history_matches_reference(seed, n_prompts, S, step):
    rng = np.random.default_rng(seed)
    prompts = rng.integers(0, n_prompts, S).astype(np.int64)  # repeats allowed: a prompt in two slots
    drawn = rng.integers(0, 5, S).astype(np.int64)
    pos = rng.integers(0, drawn + 1).astype(np.int64)
    tokens = drawn * rng.integers(1, 900, S).astype(np.float64)

    def history():
        h = np.random.default_rng(seed + 1)
        return [h.integers(0, 50, n_prompts).astype(np.int64) for _ in range(2)] + [h.random(n_prompts) * 1e4] + \
               [h.integers(0, 9, n_prompts).astype(np.int64) for _ in range(2)] + [h.integers(-1, 9, n_prompts).astype(np.int64)]

    a, b = history(), history()
    kernels.fold_history(prompts, drawn, pos, tokens, step, *a)
    naive.fold_history(prompts, drawn, pos, tokens, step, *b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def random_step_samples(rng, S, T, runs):
    """A step's slots and samples: per-slot drawn and correct counts consistent with the samples."""
    slot = random_slots(rng, S, T, runs)
    reward = rng.integers(0, 2, T).astype(np.int8)
    length = rng.integers(1, 3000, T).astype(np.int32)
    drawn = np.bincount(slot, minlength=S).astype(np.int64)
    pos = np.bincount(slot, weights=reward, minlength=S).astype(np.int64)
    keep = rng.random(T) < 0.7
    adv = np.where(keep, rng.choice([0.0, 1e-13, -0.5, 2.0], T), 0.0)
    return slot, reward, length, drawn, pos, keep, adv


@SETTINGS
@given(seed=seeds, S=st.integers(0, 30), T=st.integers(0, 300), runs=st.booleans())
def test_step_counts_matches_reference(seed, S, T, runs):
    rng = np.random.default_rng(seed)
    slot, _, length, drawn, pos, keep, adv = random_step_samples(rng, max(S, 1), T if S else 0, runs)
    if seed % 3 == 0:
        keep[:] = True  # every sample kept: trained slots are the slots that drew
    got = kernels.step_counts(drawn, pos, slot, length, keep, adv)
    np.testing.assert_array_equal(got, naive.step_counts(drawn, pos, slot, length, keep, adv))


@SETTINGS
@given(seed=seeds, S=st.integers(0, 30), n_groups=st.integers(1, 4), n_bands=st.integers(1, 6))
def test_spending_matches_reference(seed, S, n_groups, n_bands):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, S).astype(np.int32)
    p = rng.choice([0.0, 0.2, 0.5, 0.999, 1.0], S) if seed % 2 else rng.random(S)
    drawn = rng.integers(0, 9, S).astype(np.int64)
    for g, w in zip(kernels.spending(group, p, drawn, n_groups, n_bands), naive.spending(group, p, drawn, n_groups, n_bands)):
        np.testing.assert_array_equal(g, w)


@SETTINGS
@given(seed=seeds, S=st.integers(0, 30), dtype=st.sampled_from([np.int64, np.int32, np.uint8]))
def test_request_totals_matches_reference(seed, S, dtype):
    rng = np.random.default_rng(seed)
    low = 0 if dtype == np.uint8 else -2
    n = rng.integers(low, 20, S).astype(dtype)
    cost = rng.choice([1.0, 0.5, 731.25], S)
    lowest, total, need = kernels.request_totals(n, cost)
    w_lowest, w_total, w_need = naive.request_totals(n, cost)
    assert (lowest, total) == (w_lowest, w_total)
    assert need == pytest.approx(w_need, rel=1e-12)  # a sum of S products: the order of the additions may differ


@pytest.mark.parametrize("bitgen", [np.random.PCG64, np.random.MT19937, np.random.SFC64, np.random.Philox])
def test_a_generator_reaches_kernels_with_its_own_stream(bitgen):
    """simbench's cheaper Generator unboxing (addresses cached per bit generator): every kind of bit
    generator, and many short-lived ones (their cache entries evicted, their addresses reused), draw
    exactly numpy's stream and leave it where numpy would."""
    n, p, mean_len = random_wave(np.random.default_rng(1), 6, 5, "random")
    for seed in range(600):
        a, b = np.random.Generator(bitgen(seed)), np.random.Generator(bitgen(seed))
        got = kernels.draw_wave(a, n, p, mean_len, 1.3, 0.4, 3000, math.inf)
        want = naive.draw_wave(b, n, p, mean_len, 1.3, 0.4, 3000, math.inf)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        assert a.random() == b.random()


@pytest.mark.parametrize("bitgen", [np.random.PCG64, np.random.MT19937, np.random.SFC64, np.random.Philox])
def test_a_generator_handle_draws_the_generators_own_stream(bitgen):
    """``generator_handle`` (what the engine passes): the same draws as the Generator itself, from its state, which
    it advances; with many short-lived generators (cache entries evicted, addresses reused) and every kernel."""
    from simbench.core._numba import generator_handle

    n, p, mean_len = random_wave(np.random.default_rng(1), 6, 5, "random")
    for seed in range(300):
        a, b = np.random.Generator(bitgen(seed)), np.random.Generator(bitgen(seed))
        got = kernels.draw_wave_sums(generator_handle(a), n, p, mean_len, 1.3, 0.4, 3000, math.inf)
        want = kernels.draw_wave_sums(b, n, p, mean_len, 1.3, 0.4, 3000, math.inf)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        assert a.random() == b.random()
    rng = np.random.default_rng(5)
    S, T, d = 5, 40, 3
    slot, reward, length = np.sort(rng.integers(0, S, T)), rng.integers(0, 2, T).astype(np.int8), rng.integers(1, 900, T)
    prompts, x, noise = np.arange(S), rng.normal(size=(S, d)), rng.random(S)
    a, b = np.random.Generator(bitgen(7)), np.random.Generator(bitgen(7))
    np.testing.assert_array_equal(kernels.grad_norms(generator_handle(a), slot, reward, length, prompts, p[:S], x, noise, 600.0, 4),
                                  kernels.grad_norms(b, slot, reward, length, prompts, p[:S], x, noise, 600.0, 4))
    adv = rng.normal(size=T)
    phi_a, u_a, phi_b, u_b = np.zeros(d), np.zeros(S), np.zeros(d), np.zeros(S)
    norm_a = kernels.policy_update(generator_handle(a), slot, reward, length, adv, prompts, p[:S], x, noise, 600.0, 0.1, 1.0, 0.5, phi_a, u_a)
    norm_b = kernels.policy_update(b, slot, reward, length, adv, prompts, p[:S], x, noise, 600.0, 0.1, 1.0, 0.5, phi_b, u_b)
    assert norm_a == norm_b and (phi_a == phi_b).all() and (u_a == u_b).all() and a.random() == b.random()


logits = st.one_of(st.floats(-800, 800), st.sampled_from([-math.inf, math.inf, 0.0, -0.0, 709.5, -709.5, 710.0, -710.0]))


@SETTINGS
@given(seed=seeds, n=st.integers(0, 30), gather=st.booleans(), with_u=st.booleans(), edges=st.lists(logits, min_size=3, max_size=3))
def test_neg_logits_and_one_over_one_plus_match_reference(seed, n, gather, with_u, edges):
    rng = np.random.default_rng(seed)
    pool = 40
    b = rng.normal(0, 3, pool)
    b[:3] = edges  # infinite logits (p0 = 0 or 1) and values either side of exp's overflow
    u = rng.normal(0, 300, pool) if with_u else None
    prompts = rng.integers(0, pool, n).astype(np.int64) if gather else None
    t = rng.normal(0, 2, n if gather else pool)
    got_t = t.copy()
    risky = kernels.neg_logits(got_t, b, u, prompts)
    want_t, want_risky = naive.neg_logits(t, b, u, prompts)
    np.testing.assert_array_equal(got_t, want_t)
    assert risky == want_risky
    e = np.exp(np.minimum(got_t, 700.0))
    kernels.one_over_one_plus(got := e.copy())
    np.testing.assert_array_equal(got, naive.one_over_one_plus(e))


@SETTINGS
@given(seed=seeds, edges=st.lists(logits, min_size=4, max_size=4), gather=st.booleans())
def test_the_learners_sigmoid_has_numpys_bits_and_warns_of_nothing(seed, edges, gather):
    """The pass rates through the two kernels equal numpy's ``1 / (1 + exp(-(x phi + b + u)))`` bit for bit,
    overflowing exps included, without a warning."""
    import warnings

    from simbench.worlds.rl.learner import _sigmoid_of_logits

    rng = np.random.default_rng(seed)
    x, phi = rng.normal(size=(50, 6)), rng.normal(0, 100, 6)
    b, u = rng.normal(0, 3, 50), rng.normal(0, 300, 50)
    b[:4] = edges
    prompts = rng.integers(0, 50, 20).astype(np.int64) if gather else None
    xs = x if prompts is None else x[prompts]
    idx = slice(None) if prompts is None else prompts
    with np.errstate(over="ignore", invalid="ignore"):
        want = 1.0 / (1.0 + np.exp(-(xs @ phi + b[idx] + u[idx])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _sigmoid_of_logits(xs @ phi, b, u, prompts)
    np.testing.assert_array_equal(got, want)


@SETTINGS
@given(seed=seeds, S=st.integers(0, 30), T=st.integers(0, 300), runs=st.booleans(), n_groups=st.integers(1, 4))
def test_step_row_is_step_counts_then_spending(seed, S, T, runs, n_groups):
    rng = np.random.default_rng(seed)
    slot, _, length, drawn, pos, keep, adv = random_step_samples(rng, max(S, 1), T if S else 0, runs)
    group = rng.integers(0, n_groups, len(drawn)).astype(np.int32)
    p = rng.choice([0.0, 0.2, 0.5, 0.999, 1.0], len(drawn)) if seed % 2 else rng.random(len(drawn))
    got = kernels.step_row(drawn, pos, slot, length, keep, adv, group, p, n_groups, 5)
    want = np.concatenate([naive.step_counts(drawn, pos, slot, length, keep, adv), *naive.spending(group, p, drawn, n_groups, 5)])
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


@SETTINGS
@given(seed=seeds, n_slots=st.integers(0, 20), max_n=st.integers(0, 12), p_mode=st.sampled_from(["random", "edges", "mixed"]),
       max_len=st.integers(1, 2000), cap=st.one_of(st.just(math.inf), st.floats(0, 30_000)))
def test_draw_wave_sums_is_draw_wave_with_its_per_slot_sums(seed, n_slots, max_n, p_mode, max_len, cap):
    """The engine's draw: the reference's samples, and per slot the correct ones and their tokens (a cut wave included)."""
    n, p, mean_len = random_wave(np.random.default_rng(seed ^ 0x5EED), n_slots, max_n, p_mode)
    a, b = twin_rngs(seed)
    *got, pos, tokens = kernels.draw_wave_sums(a, n, p, mean_len, 1.3, 0.4, max_len, cap)
    want = naive.draw_wave(b, n, p, mean_len, 1.3, 0.4, max_len, cap)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert same_state(a, b)
    assert pos.dtype == tokens.dtype == np.int64
    np.testing.assert_array_equal(pos, naive.slot_sums(want[0], want[1], n_slots))
    np.testing.assert_array_equal(tokens, naive.slot_sums(want[0], want[2], n_slots))


@SETTINGS
@given(seed=seeds, n_slots=st.integers(0, 20), max_n=st.integers(0, 12), p_mode=st.sampled_from(["random", "edges", "mixed"]),
       sigma=st.sampled_from([0.0, 1e-15, 1e-9, 0.4, 1.5, 30.0]), max_len=st.integers(1, 4000), ties=st.booleans())
def test_draw_wave_fast_is_draw_wave_sums_bit_for_bit(seed, n_slots, max_n, p_mode, sigma, max_len, ties):
    """numpy's exp between two kernels: the same samples and sums as the one-pass kernel, and the generator left in
    the same state; means on half-integers with a tiny sigma put lengths on the rounding's ties, where the scalar
    exp must decide."""
    from simbench.core._numba import generator_handle

    rng = np.random.default_rng(seed)
    n, p, mean_len = random_wave(rng, n_slots, max_n, p_mode)
    if ties:
        mean_len = np.floor(mean_len) + 0.5
    a, b = twin_rngs(seed)
    got = kernels.draw_wave_fast(generator_handle(a), n, p, mean_len, 1.3, sigma, max_len)
    want = kernels.draw_wave_sums(b, n, p, mean_len, 1.3, sigma, max_len, math.inf)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    assert same_state(a, b)


def test_wave_lengths_takes_the_scalar_exp_near_a_half_integer():
    """Where numpy's exp differs from the scalar one (here: a wrong last bit planted), only a product within
    ``agree`` of a half-integer can round the other way, and there the scalar exp decides."""
    expo = np.array([0.3, 0.3])
    m = np.array([100.0, 2.5 / math.exp(0.3)])  # the second sample's product is a tie, up to the last bits
    slot, reward, n = np.array([0, 1]), np.ones(2, np.int8), np.ones(2, np.int64)
    scalar = np.array([math.exp(0.3)] * 2)
    planted = np.nextafter(scalar, 10.0)
    want = [int(round(m[i] * scalar[i])) for i in range(2)]
    assert kernels.wave_lengths(n, slot, reward, expo, planted, m, 1.0, 4000, kernels.EXP_AGREE)[0].tolist() == want
    assert kernels.wave_lengths(n, slot, reward, expo, scalar, m, 1.0, 4000, 0.0)[0].tolist() == want
    assert kernels.wave_lengths(n, slot, reward, expo, planted, m, 1.0, 4000, 0.0)[0].tolist() != want  # unguarded
    assert kernels.EXP_AGREE > 100 * np.max(np.abs(np.exp(v := np.linspace(-50, 50, 100_001)) / np.array([math.exp(x) for x in v]) - 1))


@SETTINGS
@given(seed=seeds, n=st.integers(1, 30), d=st.integers(0, 20), k=st.integers(0, 40), fortran=st.booleans())
def test_gather_rows_matches_reference_and_numpys_layout(seed, n, d, k, fortran):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x = np.asfortranarray(x) if fortran else x
    rows = rng.integers(0, n, k).astype(np.int64)
    got = kernels.gather_rows(x, rows)
    np.testing.assert_array_equal(got, naive.gather_rows(x, rows))
    assert got.flags.c_contiguous == x[rows].flags.c_contiguous and got.shape == x[rows].shape


sizes = st.one_of(st.integers(0, 300), st.sampled_from([511, 512, 513, 1031, 4096, 8191, 8192, 8193, 20_001]))


@SETTINGS
@given(seed=seeds, n=sizes, offset=st.integers(0, 9), spread=st.sampled_from([0.0, 3.0, 30.0]))
def test_pairwise_sum_matches_reference_and_numpys_sum(seed, n, offset, spread):
    """numpy's pairwise order, bit for bit: values of mixed magnitudes, so that another order would show."""
    rng = np.random.default_rng(seed)
    a = rng.random(n + offset) * 10.0 ** rng.uniform(-spread, spread, n + offset)
    got = kernels.pairwise_sum(a[offset:])
    assert got == naive.pairwise_sum(a[offset:])
    assert got == np.add.reduce(a[offset:])


@SETTINGS
@given(seed=seeds, n=sizes.filter(bool), ks=st.lists(st.integers(1, 70), max_size=5), edges=st.booleans())
def test_pass_at_ks_is_numpys_pass_at_k_bit_for_bit(seed, n, ks, edges):
    from simbench.worlds.rl.learner import pass_at_ks

    rng = np.random.default_rng(seed)
    p = rng.random(n) ** rng.uniform(0.05, 20.0, n)  # pass rates near 0 and 1 as well
    if edges:
        p[rng.random(n) < 0.3] = rng.choice([0.0, 1.0, 1e-300, 1 - 1e-16])
    ks = np.array(ks, np.int64)
    np.testing.assert_array_equal(pass_at_ks(p, ks), naive.pass_at_ks(p, ks))
