"""Generation time of one wave: the event simulator against a per-iteration brute force, and its analytic limits."""
from __future__ import annotations

import math

import numpy as np
import pytest
from cost_reference import brute_force_wave
from hypothesis import given, settings
from hypothesis import strategies as st

from simbench.cost.generation import STRAGGLER_QUANTILE, _all_at_once, dispatch, iter_sum, simple_wave, simulate_wave, straggler_time, wave_kernel


@st.composite
def waves(draw):
    n = draw(st.integers(1, 24))
    L = np.array(draw(st.lists(st.integers(1, 40), min_size=n, max_size=n)), np.int64)
    P = np.array(draw(st.lists(st.integers(1, 20), min_size=n, max_size=n)), np.int64)
    sizes = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    prompt = np.minimum(np.repeat(np.arange(n), sizes)[:n], n - 1).astype(np.int64)  # consecutive samples share a prompt
    k_cap = draw(st.integers(int((P + L).max()), int((P + L).sum()) + 10))
    return dict(P=P, L=L, prompt=prompt, R=draw(st.integers(1, 3)), s_max=draw(st.integers(1, 8)), k_cap=k_cap,
                t_fix=draw(st.sampled_from([0.0, 1e-3])), a=draw(st.sampled_from([1e-3, 5e-3])),
                c=draw(st.sampled_from([0.0, 1e-5, 3e-4])), f=draw(st.sampled_from([0.0, 1e-3, 4e-3])),
                per_rollout=draw(st.booleans()), prefix_cache=draw(st.booleans()), preemption=draw(st.booleans()))


@settings(max_examples=400, deadline=None)
@given(waves())
def test_event_simulator_equals_brute_force(w):
    finish, clock, pre = simulate_wave(**w)
    finish_b, clock_b, pre_b = brute_force_wave(**w)
    assert pre == pre_b
    # the same iterations in the same order: only the rounding of the closed-form sums differs
    np.testing.assert_allclose(finish, finish_b, rtol=1e-9, atol=0)
    np.testing.assert_allclose(clock, clock_b, rtol=1e-9, atol=0)


@settings(max_examples=300, deadline=None)
@given(waves(), st.integers(0, 3))
def test_engines_that_admit_everything_at_once_match_brute_force(w, slack):
    # room for every sequence and its final length: each engine takes the sorted shortcut instead of its heap
    w.update(s_max=len(w["L"]), k_cap=int((w["P"] + w["L"]).sum()) + slack)
    order, bounds = dispatch(len(w["L"]), w["R"], w["per_rollout"])
    assert all(_all_at_once(w["P"], w["L"], order[bounds[e]:bounds[e + 1]], w["s_max"], w["k_cap"])
               for e in range(w["R"]) if bounds[e + 1] > bounds[e])
    finish, clock, pre = simulate_wave(**w)
    finish_b, clock_b, pre_b = brute_force_wave(**w)
    assert pre == pre_b == 0
    np.testing.assert_allclose(finish, finish_b, rtol=1e-9, atol=0)
    np.testing.assert_allclose(clock, clock_b, rtol=1e-9, atol=0)


@settings(max_examples=300, deadline=None)
@given(waves())
def test_wave_straggler_time_is_the_quantile_of_every_finish_time(w):
    # the kernel merges the engines' sorted finish times from their ends; a selection over all of them must agree exactly
    finish, clock, pre = simulate_wave(**w)
    T, strag, pre_k = wave_kernel(**w, simple=False)
    k = max(0, math.ceil(STRAGGLER_QUANTILE * len(finish)) - 1)
    assert T == clock.max() and pre_k == pre
    assert strag == T - np.partition(finish, k)[k]


def test_preemption_happens_and_matches_brute_force():
    # 6 sequences of 30 + 50 tokens in a cache of 200: admission on the current context over-commits, then preempts
    w = dict(P=np.full(6, 30), L=np.array([50, 45, 40, 50, 35, 50]), prompt=np.arange(6), R=1, s_max=8, k_cap=200,
             t_fix=1e-3, a=1e-3, c=1e-5, f=1e-4, per_rollout=False, prefix_cache=False, preemption=True)
    finish, clock, pre = simulate_wave(**w)
    assert pre > 0
    assert pre == brute_force_wave(**w)[2]
    np.testing.assert_allclose(clock, brute_force_wave(**w)[1], rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 64), st.integers(0, 10_000), st.integers(1, 300), st.sampled_from([0.0, 2.0**-9]),
       st.sampled_from([2.0**-6, 2.0**-3]), st.sampled_from([0.0, 2.0**-14, 2.0**-10]), st.sampled_from([0.0, 2.0**-7, 2.0**-2]))
def test_closed_form_iteration_sum_is_the_sum(b, C0, d, t_fix, a, c, f):
    # dyadic coefficients and integer contexts: every term and partial sum is exact, so the two agree exactly
    want = sum(t_fix + max(a + c * (C0 + i * b), f * b) for i in range(d))
    assert iter_sum(b, C0, d, t_fix, a, c, f) == want


@given(st.lists(st.integers(1, 500), min_size=1, max_size=40), st.integers(1, 4), st.booleans())
def test_pure_straggler_limit(lengths, R, per_rollout):
    # unbounded capacity, no KV term, no compute bound: every iteration costs t_fix + W/BW, the wave the longest response
    L = np.array(lengths, np.int64)
    P = np.full(len(L), 7, np.int64)
    t_fix, a = 2.0**-8, 2.0**-5
    finish, clock, pre = simulate_wave(P, L, np.arange(len(L)), R, len(L), 10**12, t_fix, a, 0.0, 0.0, per_rollout, True, True)
    assert clock.max() == L.max() * (t_fix + a)
    assert pre == 0


@given(st.lists(st.tuples(st.integers(1, 300), st.integers(1, 300)), min_size=1, max_size=12))
def test_no_batching_limit(seqs):
    # max_num_seqs = 1: sequences run one after another, T = sum_j [prefill + sum_{t < L_j} t_iter(1, P_j + t)]
    P = np.array([p for p, _ in seqs], np.int64)
    L = np.array([n for _, n in seqs], np.int64)
    t_fix, a, c, f = 2.0**-8, 2.0**-6, 2.0**-12, 2.0**-5
    want = 0.0
    for p, n in zip(P, L):
        want += f * p
        for t in range(n):
            want += t_fix + max(a + c * (p + t), f)
    finish, clock, pre = simulate_wave(P, L, np.arange(len(L)), 1, 1, 10**9, t_fix, a, c, f, False, False, True)
    assert clock[0] == want
    assert (np.diff(finish) > 0).all()  # in submission order


def test_chunk_keeps_a_heavy_prompt_on_few_engines_per_rollout_spreads_it():
    # one prompt with 64 long rollouts then 64 short prompts: chunk piles the long ones on engine 0
    L = np.concatenate([np.full(64, 2000), np.full(64, 100)]).astype(np.int64)
    P = np.full(128, 100, np.int64)
    prompt = np.concatenate([np.zeros(64), np.arange(1, 65)]).astype(np.int64)
    args = (P, L, prompt, 8, 4, 10**9, 1e-3, 1e-3, 1e-6, 1e-4)
    chunk = simulate_wave(*args, False, True, True)[1].max()
    spread = simulate_wave(*args, True, True, True)[1].max()
    assert spread < 0.6 * chunk


def test_straggler_time_is_after_the_90th_percentile():
    finish = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 30])
    assert straggler_time(finish, 30.0) == 30.0 - 9.0
    assert straggler_time(finish[::-1].copy(), 30.0) == 30.0 - 9.0  # in any order
    assert straggler_time(np.array([4.0, 4.0, 4.0]), 5.0) == 1.0 and straggler_time(np.zeros(0), 5.0) == 0.0


def test_simple_model_bounds():
    # the closed form is at least the longest sequence's latency and the pooled throughput bound
    rng = np.random.default_rng(0)
    L = rng.integers(100, 3000, 256).astype(np.int64)
    P = rng.integers(50, 400, 256).astype(np.int64)
    prompt = np.repeat(np.arange(32), 8).astype(np.int64)
    t_fix, a, c, f = 5e-3, 1.5e-3, 1.4e-8, 9e-6
    T = simple_wave(P, L, prompt, 8, 256, 2_000_000, t_fix, a, c, f, False, True)
    longest = max(p * f + n * (t_fix + max(a + c * (p + n / 2), f)) for p, n in zip(P, L))
    assert T >= longest
    event = simulate_wave(P, L, prompt, 8, 256, 2_000_000, t_fix, a, c, f, False, True, True)[1].max()
    assert T == pytest.approx(event, rel=0.5)  # same order of size; the measured error is in test_cost_properties


def test_heavy_preemption_matches_brute_force():
    # caches barely larger than one sequence: sequences are preempted over and over (the kernel compacts its heap)
    rng = np.random.default_rng(0)
    most = 0.0
    for _ in range(150):
        n = int(rng.integers(2, 30))
        P, L = rng.integers(1, 20, n), rng.integers(1, 60, n)
        w = dict(P=P, L=L, prompt=np.arange(n), R=int(rng.integers(1, 3)), s_max=int(rng.integers(2, 30)),
                 k_cap=int((P + L).max() + rng.integers(0, 30)), t_fix=1e-3, a=1e-3, c=1e-5, f=1e-4,
                 per_rollout=bool(rng.integers(2)), prefix_cache=False, preemption=True)
        finish, clock, pre = simulate_wave(**w)
        finish_b, clock_b, pre_b = brute_force_wave(**w)
        assert pre == pre_b
        np.testing.assert_allclose(finish, finish_b, rtol=1e-9, atol=0)
        most = max(most, pre / n)
    assert most > 2  # more preemptions than twice the sequences: the compaction ran


@settings(max_examples=200, deadline=None)
@given(waves())
def test_caches_and_sequence_caps_are_respected(w):
    trace = {}
    brute_force_wave(**w, trace=trace)
    assert trace["batch"] <= w["s_max"]
    assert trace.get("peak", 0) <= w["k_cap"]  # with or without preemption, batched iterations fit the KV cache
    if not w["preemption"]:
        assert simulate_wave(**w)[2] == 0
