"""Advantage estimators against verl's formulas on hand-made groups.

verl (``compute_grpo_outcome_advantage``): per group, mean and *unbiased* std
of the scores; a group of one gets mean 0 and std 1; A = (r - mean) / (std +
1e-6), or r - mean with ``norm_adv_by_std_in_grpo=False``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from foundation_helpers import hand_view
from hypothesis import given, settings
from hypothesis import strategies as st

import simbench.registry as registry

EPS = 1e-6


def verl_grpo(groups, by_std=True):
    """verl's formula written out group by group, with the statistics module's unbiased stdev."""
    import statistics

    out = []
    for g in groups:
        if len(g) == 1:
            mean, std = 0.0, 1.0
        else:
            mean, std = statistics.fmean(g), statistics.stdev(g)
        out += [(r - mean) / (std + EPS) if by_std else r - mean for r in g]
    return np.array(out)


def run(estimator, groups, keep=None):
    view = hand_view(groups)
    keep = np.ones(len(view.sample_slot), bool) if keep is None else np.asarray(keep)
    return np.asarray(registry.make("advantage", estimator).advantages(view, keep))


GROUPS = [[1, 0, 0, 1], [1, 1, 1], [0, 0, 0, 0], [1], [0], [1, 0, 0, 0, 0, 0, 0, 0], [0, 1]]


def test_grpo_hand_computed_values():
    adv = run("grpo", GROUPS)
    s = math.sqrt(1 / 3)  # unbiased std of [1, 0, 0, 1]
    s8 = math.sqrt((1 / 8) * (7 / 8) * 8 / 7)  # unbiased std of one 1 among eight
    s2 = math.sqrt(0.5)  # unbiased std of [0, 1]
    want = (
        [0.5 / (s + EPS), -0.5 / (s + EPS), -0.5 / (s + EPS), 0.5 / (s + EPS)]
        + [0.0] * 3 + [0.0] * 4
        + [1 / (1 + EPS)]  # group of one: mean 0, std 1, so A = r / (1 + eps)
        + [0.0]
        + [(7 / 8) / (s8 + EPS)] + [(-1 / 8) / (s8 + EPS)] * 7
        + [-0.5 / (s2 + EPS), 0.5 / (s2 + EPS)]
    )
    np.testing.assert_allclose(adv, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(adv, verl_grpo(GROUPS), rtol=1e-12, atol=1e-15)


def test_grpo_without_std_is_r_minus_mean():
    adv = run({"kind": "grpo", "norm_adv_by_std": False}, GROUPS)
    np.testing.assert_allclose(adv, verl_grpo(GROUPS, by_std=False), rtol=1e-14, atol=1e-15)
    # a group of one keeps its raw reward: mean 0
    assert adv[11] == 1.0 and adv[12] == 0.0


def test_dr_grpo_is_r_minus_group_mean():
    adv = run("dr_grpo", GROUPS)
    want = [r - (np.mean(g) if len(g) > 1 else 0.0) for g in GROUPS for r in g]
    np.testing.assert_allclose(adv, want, rtol=1e-14, atol=1e-15)


def test_raft_weights_kept_correct_samples_only():
    keep = np.ones(sum(map(len, GROUPS)), bool)
    keep[:2] = False
    adv = run("raft", GROUPS, keep)
    rewards = np.array([r for g in GROUPS for r in g], float)
    np.testing.assert_array_equal(adv, np.where(keep, rewards, 0.0))


def test_statistics_use_kept_samples_unless_global_stats():
    groups = [[1, 1, 0, 0, 0, 0]]
    keep = np.array([1, 0, 1, 1, 0, 0], bool)  # kept rewards: 1, 0, 0
    local = run("grpo", groups, keep)
    kept = [1, 0, 0]
    m, s = np.mean(kept), np.std(kept, ddof=1)
    want_local = np.array([(1 - m) / (s + EPS), 0, (0 - m) / (s + EPS), (0 - m) / (s + EPS), 0, 0])
    np.testing.assert_allclose(local, want_local, rtol=1e-12)
    # Reinforce-Ada: mean and std over every sample drawn for the prompt this step
    glob = run({"kind": "grpo", "global_stats": True}, groups, keep)
    m, s = np.mean(groups[0]), np.std(groups[0], ddof=1)
    want_global = np.array([(1 - m) / (s + EPS), 0, (0 - m) / (s + EPS), (0 - m) / (s + EPS), 0, 0])
    np.testing.assert_allclose(glob, want_global, rtol=1e-12)


def test_dropped_samples_get_zero_advantage():
    keep = np.zeros(sum(map(len, GROUPS)), bool)
    for est in ("grpo", "dr_grpo", "raft", {"kind": "grpo", "global_stats": True}):
        assert not run(est, GROUPS, keep).any()


@settings(max_examples=60, deadline=None)
@given(groups=st.lists(st.lists(st.integers(0, 1), min_size=1, max_size=16), min_size=1, max_size=12),
       by_std=st.booleans())
def test_grpo_matches_verl_on_random_groups(groups, by_std):
    adv = run({"kind": "grpo", "norm_adv_by_std": by_std}, groups)
    np.testing.assert_allclose(adv, verl_grpo(groups, by_std), rtol=1e-10, atol=1e-12)
    # zero-variance groups of two or more carry no signal
    start = 0
    for g in groups:
        if len(g) > 1 and len(set(g)) == 1:
            assert not adv[start:start + len(g)].any()
        start += len(g)


@settings(max_examples=30, deadline=None)
@given(groups=st.lists(st.lists(st.integers(0, 1), min_size=1, max_size=10), min_size=2, max_size=8), seed=st.integers(0, 2**31))
def test_advantage_is_permutation_equivariant_in_slots(groups, seed):
    perm = np.random.default_rng(seed).permutation(len(groups))
    base = run("grpo", groups)
    shuffled = run("grpo", [groups[i] for i in perm])
    starts = np.cumsum([0] + [len(g) for g in groups])
    want = np.concatenate([base[starts[i]:starts[i + 1]] for i in perm])
    np.testing.assert_array_equal(shuffled, want)


@pytest.mark.parametrize("estimator", ["grpo", "dr_grpo", "raft"])
def test_estimators_are_registered_with_descriptions(estimator):
    cls = registry.get("advantage", estimator)
    assert cls.describe()
