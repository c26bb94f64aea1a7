"""GVM: contract, the analytic table, differential test of stage 2, rounding properties, the engine."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_gvm import reference_stage2

from simbench.testing import AllocatorContract
from simbench.worlds import parse_scenario
from simbench.worlds.rl.allocators.gvm import GVM, GVMParams, allocate_budget, gvm_ratios, largest_remainder, variance_ratio
from simbench.worlds.rl.allocators.gvm_oracle import GVMOracle
from simbench.worlds.rl.engine import run_cell


class TestGVMStage1(AllocatorContract):
    equivariant_under_budget = False  # stage 1 cuts the batch short in slot order when the budget binds

    def make_allocator(self):
        return GVM(GVMParams())


class TestGVMStage2(AllocatorContract):
    wave = 1

    def make_allocator(self):
        return GVM(GVMParams())


class TestGVMNeymanStage2(AllocatorContract):
    wave = 1

    def make_allocator(self):
        return GVM(GVMParams(form="neyman", filter_insufficient=1.0))


class TestGVMOracle(AllocatorContract):
    def make_allocator(self):
        return GVMOracle(GVMParams())


def test_the_analytic_table():
    p = np.array([0, 1 / 8, 1 / 4, 1 / 2, 7 / 8, 1])
    ratio, fallback = gvm_ratios(p, np.ones(6), 48, GVMParams())
    assert not fallback
    assert allocate_budget(ratio, 48).tolist() == [0, 16, 12, 8, 6, 6]


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), M=st.integers(1, 60), per=st.integers(0, 16),
       thr=st.sampled_from([0.0, 0.5, 0.9]), ins=st.sampled_from([0.0, 0.5, 2.0]))
def test_stage2_equals_the_reference_script(seed, M, per, thr, ins):
    rng = np.random.default_rng(seed)
    p = rng.integers(0, 9, M) / 8
    G = np.where(rng.random(M) < 0.2, 0.0, rng.gamma(3.0, 1.0, M))
    N = per * M
    params = GVMParams(filter_threshold=thr, filter_insufficient=ins)
    ratio, _ = gvm_ratios(p, G, N, params)
    assert allocate_budget(ratio, N).tolist() == reference_stage2(p.tolist(), G.tolist(), N, filter_threshold=thr, filter_insufficient=ins)


@settings(max_examples=200, deadline=None)
@given(x=st.lists(st.floats(0, 50, allow_nan=False), min_size=1, max_size=50))
def test_rounding_preserves_the_sum_and_is_never_negative(x):
    x = np.array(x)
    total = int(round(x.sum()))
    scaled = x * (total / x.sum()) if x.sum() > 0 else x
    k = largest_remainder(scaled, total)
    assert k.sum() == total and (k >= 0).all()
    assert np.abs(k - scaled).max() < 1.0 + 1e-9


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), M=st.integers(2, 60))
def test_neyman_allocation_never_has_more_variance_than_uniform(seed, M):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 1.0, M)
    G = rng.gamma(2.0, 1.0, M)
    N = 4000 * M  # large enough that rounding does not matter
    ratio, _ = gvm_ratios(p, G, N, GVMParams(form="neyman"))
    assert variance_ratio(p, G, allocate_budget(ratio, N), N) >= 1 - 1e-6


def test_stage1_samples_count_and_are_discarded_in_the_engine():
    data = {"name": "gvm", "seeds": 1, "engine": {"steps": 3, "batch_prompts": 32},
            "strategies": [{"allocator": {"kind": "gvm"}}]}
    rows = run_cell(parse_scenario(data), 0, 0)[1:]
    for r in rows:
        assert r["waves"] == 2
        assert r["samples"] == 32 * 8 + r["trained_samples"]  # stage 1 (8 per prompt) + stage 2 (N = 8 x 32 kept)
        assert r["trained_samples"] == 32 * 8
        assert np.isfinite(r["gvm_variance_ratio"]) and r["gvm_uniform_fallback"] == 0
