"""Bandit selectors, filters and their allocators/downsamplers: properties, references, the engine."""
from __future__ import annotations

import itertools
import pickle
import tomllib

import numpy as np
import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_dump import ReferenceDUMP

import simbench.registry as reg
from simbench.core.config import build, to_dict
from simbench.testing import AllocatorContract, make_view
from simbench.worlds import parse_scenario
from simbench.worlds.rl.allocators.speed_rl import SpeedRL, SpeedRLParams
from simbench.worlds.rl.allocators.successive_elimination import SuccessiveElimination, SuccessiveEliminationParams, gain_of_next_round
from simbench.worlds.rl.downsamplers.pods import PODS, PODSParams
from simbench.worlds.rl.engine import run_cell
from simbench.worlds.rl.selectors.greso import greso_update

SELECTORS = ["thompson", "ucb_learnability", "dump", "difficulty_filter", "greso", "kimi", "epoch_shuffle"]


class TestSuccessiveElimination(AllocatorContract):
    equivariant_under_budget = False  # whole rounds in slot order when the budget binds

    def make_allocator(self):
        return SuccessiveElimination(SuccessiveEliminationParams())


class TestSuccessiveEliminationLater(TestSuccessiveElimination):
    wave = 1


class TestSpeedRL(AllocatorContract):
    equivariant_under_budget = False  # as above

    def make_allocator(self):
        return SpeedRL(SpeedRLParams())


class TestSpeedRLContinuation(TestSpeedRL):
    wave = 1


def fresh_selector(name, view, seed):
    sel = reg.make("selector", name)
    sel.reset(view.info, np.random.default_rng(seed))
    return sel


@pytest.mark.parametrize("name", SELECTORS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_prompts=st.integers(1, 300), k=st.integers(1, 64))
def test_selectors_return_k_valid_indices_deterministically(name, seed, n_prompts, k):
    view = make_view(np.random.default_rng(seed), min(n_prompts, 16), n_prompts=n_prompts, wave=1)
    a = fresh_selector(name, view, seed)
    b = fresh_selector(name, view, seed)
    for _ in range(3):  # a few steps, with observations in between
        x, y = a.select(k, view), b.select(k, view)
        assert x.dtype == np.int64 and x.shape == (k,)
        assert ((x >= 0) & (x < n_prompts)).all()
        np.testing.assert_array_equal(x, y)
        keep = np.ones(len(view.sample_slot), bool)
        adv = np.random.default_rng(seed).normal(size=len(view.sample_slot))
        a.observe(view, keep, adv)
        b.observe(view, keep, adv)


@pytest.mark.parametrize("name", SELECTORS)
def test_selectors_pickle_and_round_trip_params(name):
    view = make_view(np.random.default_rng(0), 16, n_prompts=100, wave=1)
    sel = fresh_selector(name, view, 1)
    clone = pickle.loads(pickle.dumps(sel))
    np.testing.assert_array_equal(sel.select(8, view), clone.select(8, view))
    assert build(type(sel.params), tomllib.loads(tomli_w.dumps(to_dict(sel.params)))) == sel.params


def test_selectors_without_replacement_when_the_pool_allows():
    view = make_view(np.random.default_rng(0), 16, n_prompts=200, wave=1)
    for name in ("thompson", "ucb_learnability", "difficulty_filter", "kimi", "epoch_shuffle"):
        chosen = fresh_selector(name, view, 0).select(64, view)
        assert len(set(chosen.tolist())) == 64, name


def test_dump_weights_and_draws_match_the_reference_on_the_same_stream():
    rng = np.random.default_rng(5)
    view = make_view(rng, 32, n_prompts=400, wave=1, n_groups=3)
    sel = fresh_selector("dump", view, 9)
    ref = ReferenceDUMP(3)
    members = [np.flatnonzero(view.info.group == g) for g in range(3)]
    draw_rng = np.random.default_rng(9)
    for step in range(6):
        want = ref.weights([len(m) > 0 for m in members])
        np.testing.assert_allclose(sel.weights, want, rtol=1e-12)
        got = sel.select(20, view)
        expect = []
        for _ in range(20):
            g = draw_rng.choice(3, p=np.array(want))
            expect.append(members[g][draw_rng.integers(len(members[g]))])
        np.testing.assert_array_equal(got, expect)
        keep = rng.random(len(view.sample_slot)) < 0.7
        adv = rng.normal(size=len(view.sample_slot)) * (1 + step)
        sel.observe(view, keep, adv)
        for t in np.flatnonzero(keep):
            ref.add(int(view.group[view.sample_slot[t]]), float(adv[t]))


def test_greso_probability_updates_by_hand():
    assert greso_update(0.5, 0.30, 0.25 / 3, 0.01, 0.05, 0.95) == pytest.approx(0.49)  # too many easy: skip more
    assert greso_update(0.5, 0.01, 0.25 / 3, 0.01, 0.05, 0.95) == pytest.approx(0.51)
    assert greso_update(0.05, 0.9, 0.1, 0.01, 0.05, 0.95) == 0.05
    assert greso_update(0.95, 0.0, 0.1, 0.01, 0.05, 0.95) == 0.95


def test_greso_skips_a_prompt_with_a_run_of_all_correct_visits_at_the_stated_rate():
    view = make_view(np.random.default_rng(0), 8, n_prompts=2000, wave=1)
    sel = fresh_selector("greso", view, 3)
    sel.easy_run[:1000] = 2  # z = 2: kept with probability 0.5^2
    chosen = np.concatenate([sel.select(500, view) for _ in range(6)])
    share_easy = np.mean(chosen < 1000)
    # kept easy ones per visit 0.25: expected share 0.25 / (1 + 0.25) = 0.2
    assert abs(share_easy - 0.2) < 5 * np.sqrt(0.2 * 0.8 / len(chosen))


def brute_force_max_variance(r, m):
    return max(np.var(np.array(c)) for c in itertools.combinations(r, m))


@settings(max_examples=100, deadline=None)
@given(groups=st.lists(st.lists(st.integers(0, 1), min_size=1, max_size=12), min_size=1, max_size=6), m=st.integers(1, 8))
def test_pods_keeps_m_per_group_with_the_largest_variance(groups, m):
    slot = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)]).astype(np.int64)
    reward = np.concatenate(groups).astype(np.int8)
    perm = np.random.default_rng(len(slot)).permutation(len(slot))  # arrival order mixes groups
    slot, reward = slot[perm], reward[perm]
    view = make_view(np.random.default_rng(0), len(groups), wave=1)
    view.sample_slot, view.sample_reward = slot, reward
    keep = PODS(PODSParams(m=m)).keep(view)
    assert keep.shape == slot.shape
    for i, g in enumerate(groups):
        kept = reward[(slot == i) & keep]
        assert len(kept) == min(m, len(g))
        if len(g) > m:
            assert np.var(kept) == pytest.approx(brute_force_max_variance(g, m))


def test_successive_elimination_gain_is_exact_for_a_known_posterior():
    a, b = np.array([2.0]), np.array([3.0])
    # all-wrong so far, 4 more: 1 - E(1-p)^4 with p ~ Beta(2, 3) = 1 - B(2, 7)/B(2, 3)
    from scipy.special import beta as B

    want = 1 - B(2, 7) / B(2, 3)
    assert gain_of_next_round(a, b, np.array([0]), np.array([3]), 4)[0] == pytest.approx(want)
    assert gain_of_next_round(a, b, np.array([1]), np.array([1]), 4)[0] == 0.0


def test_speed_rl_continues_only_mixed_prompts_and_trains_on_them():
    view = make_view(np.random.default_rng(1), 40, wave=1)
    n = SpeedRL(SpeedRLParams()).allocate(view)
    mixed = (view.pos > 0) & (view.pos < view.drawn)
    assert (n[mixed] == 12).all() and (n[~mixed] == 0).all()


@pytest.mark.parametrize("strategy", [
    {"selector": {"kind": "dump"}, "allocator": {"kind": "uniform", "n": 8}},
    {"selector": "greso", "allocator": {"kind": "dapo", "n": 8, "on_exhausted": "train"}},
    {"selector": "thompson", "allocator": {"kind": "knapsack"}},
    {"selector": "ucb_learnability", "allocator": {"kind": "successive_elimination"}},
    {"selector": "difficulty_filter", "allocator": {"kind": "speed_rl"}},
    {"selector": "kimi", "allocator": {"kind": "uniform", "n": 64}, "downsampler": {"kind": "pods", "m": 16}},
])
def test_combinations_plug_into_the_engine(strategy):
    data = {"name": "combo", "seeds": 1,
            "population": {"train_prompts": 128, "test_prompts": 32,
                           "groups": [{"name": "a", "share": 0.7}, {"name": "b", "share": 0.3, "pass_rate": {"kind": "beta", "a": 2.0, "b": 2.0}}]},
            "engine": {"steps": 12, "batch_prompts": 16}, "budget": {"unit": "samples", "per_step": 2048.0},
            "strategies": [strategy]}
    rows = run_cell(parse_scenario(data), 0, 0)
    assert len(rows) == 13 and all(r["samples"] <= 2048 for r in rows)
    assert rows[-1]["trained_samples"] > 0
    if "pods" in str(strategy):
        assert all(r["trained_samples"] == 16 * 16 for r in rows[1:])
