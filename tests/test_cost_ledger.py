"""The per-step ledger: each column from its formula, the cumulative totals, and prompt lengths."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simbench.core.config import build
from simbench.cost.generation import peak_rate, wave_time
from simbench.cost.ledger import COLUMNS, CostLedger, draw_prompt_lengths, step_times, train_seconds_per_token
from simbench.cost.spec import CostSpec


def spec(**table) -> CostSpec:
    return build(CostSpec, table, "cost")


def two_waves():
    rng = np.random.default_rng(3)
    slot = np.concatenate([np.repeat(np.arange(8), 4), np.repeat(np.arange(8, 12), 6)])
    length = rng.integers(50, 2000, len(slot)).astype(np.int32)
    wave = np.concatenate([np.zeros(32, np.int64), np.ones(24, np.int64)])
    keep = rng.random(len(slot)) < 0.5
    P = rng.integers(20, 500, 12).astype(np.int64)
    return P, slot, length, wave, keep


def test_columns_follow_their_formulas():
    s = spec(price_per_gpu_hour=2.5)
    P, slot, length, wave, keep = two_waves()
    row = step_times(s, P, slot, length, wave, keep)
    gen = sum(wave_time(s, P[slot[wave == w]], length[wave == w], slot[wave == w] % 8)[0] for w in (0, 1))
    assert row["gen_s"] == pytest.approx(gen, rel=1e-12)
    assert row["reward_s"] == pytest.approx(56 * 5e-3 / 64)
    assert row["overhead_s"] == 2 * 2.0 + 5.0
    tokens = P[slot[keep]].sum() + length[keep].sum()
    # log-probs 2N + update (6 + 2 for checkpointing) N FLOPs per kept token, on 8 GPUs at 35% of 989 TFLOPS
    assert row["train_s"] == pytest.approx(tokens * 10 * 1.54e9 / (8 * 0.35 * 989e12), rel=1e-12)
    assert row["step_s"] == pytest.approx(row["gen_s"] + row["reward_s"] + row["train_s"] + row["overhead_s"])
    assert 0 < row["straggler_share"] < 1 and 0 < row["gen_util"] <= 1


def test_only_kept_tokens_train():
    s = spec()
    P, slot, length, wave, keep = two_waves()
    everything = step_times(s, P, slot, length, wave, np.ones_like(keep))
    some = step_times(s, P, slot, length, wave, keep)
    assert some["gen_s"] == everything["gen_s"] and some["train_s"] < everything["train_s"]
    assert step_times(s, P, slot, length, wave, np.zeros_like(keep))["train_s"] == 0


def test_cumulative_hours_gpu_hours_and_dollars():
    P, slot, length, wave, keep = two_waves()
    priced = CostLedger(spec(price_per_gpu_hour=3.0), P)
    free = CostLedger(spec(), P)
    first = priced.add(None)
    assert set(first) == set(COLUMNS) and first["cum_hours"] == 0 and first["usd"] == 0
    rows = [priced.add(priced.step(np.arange(12), slot, length, wave, keep)) for _ in range(3)]
    assert rows[-1]["cum_hours"] == pytest.approx(3 * rows[0]["step_s"] / 3600)
    assert rows[-1]["gpu_hours"] == pytest.approx(8 * rows[-1]["cum_hours"])
    assert rows[-1]["usd"] == pytest.approx(3.0 * rows[-1]["gpu_hours"])
    assert math.isnan(free.add(free.step(np.arange(12), slot, length, wave, keep))["usd"])


def test_prompt_lengths_are_reproducible_clipped_and_have_their_mean():
    s = spec(prompt_len={"mean": 300.0, "sigma": 0.5, "max": 900})
    a = draw_prompt_lengths(s, 20_000, np.random.SeedSequence(5))
    assert (a == draw_prompt_lengths(s, 20_000, np.random.SeedSequence(5))).all()
    assert a.min() >= 1 and a.max() == 900
    unclipped = draw_prompt_lengths(spec(prompt_len={"mean": 300.0, "sigma": 0.5, "max": 10**6}), 20_000, np.random.SeedSequence(5))
    assert unclipped.mean() == pytest.approx(300, rel=0.02)  # 20,000 draws: standard error 0.4%
    assert (draw_prompt_lengths(spec(prompt_len={"mean": 123.4, "sigma": 0.0}), 5, np.random.SeedSequence(1)) == 123).all()


def test_simple_model_has_no_timeline():
    s = spec(rollout={"gen_model": "simple"})
    P, slot, length, wave, keep = two_waves()
    row = step_times(s, P, slot, length, wave, keep)
    assert row["gen_s"] > 0 and math.isnan(row["straggler_share"]) and row["preemptions"] == 0


def reference_step(s: CostSpec, P, slot, length, wave, keep) -> dict:
    """The ledger wave by wave in plain Python (numpy), as a reference for the step kernel."""
    gen = strag = useful = capacity = 0.0
    pre = 0
    for w in np.unique(wave):
        idx = np.flatnonzero(wave == w)
        prompt = np.unique(slot[idx], return_inverse=True)[1]
        T, st, p = wave_time(s, P[slot[idx]], length[idx], prompt)
        gen, strag, pre, useful = gen + T, strag + st, pre + p, useful + float(length[idx].sum())
        capacity += T * peak_rate(s, P[slot[idx]], length[idx])
    return {"gen_s": gen, "straggler_share": strag / gen, "gen_util": useful / capacity, "preemptions": pre,
            "train_s": float(P[slot[keep]].sum() + length[keep].sum()) * train_seconds_per_token(s),
            "overhead_s": len(np.unique(wave)) * s.overhead.wave_s + s.overhead.sync_s}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["chunk", "per_rollout"]), st.sampled_from(["event", "simple"]),
       st.booleans(), st.booleans(), st.integers(1, 64))
def test_step_kernel_equals_the_wave_by_wave_reference(seed, dispatch, gen_model, prefix_cache, preemption, max_num_seqs):
    rng = np.random.default_rng(seed)
    s = spec(rollout={"dispatch": dispatch, "gen_model": gen_model, "prefix_cache": prefix_cache, "preemption": preemption,
                      "max_num_seqs": max_num_seqs, "gpu_mem_util": 0.2})  # a small KV cache: preemption happens
    n_slots = int(rng.integers(1, 40))
    P = rng.integers(1, 1024, n_slots)
    counts = rng.integers(1, 6, size=int(rng.integers(1, 4)))  # samples per wave, in hundreds at most
    slot = np.concatenate([rng.integers(0, n_slots, 20 * c) for c in counts])
    wave = np.repeat(np.arange(len(counts)), 20 * counts)
    length = rng.integers(1, 16384, len(slot)).astype(np.int32)
    keep = rng.random(len(slot)) < 0.6
    got, want = step_times(s, P, slot, length, wave, keep), reference_step(s, P, slot, length, wave, keep)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-12, nan_ok=True), key


def test_gen_util_is_near_one_when_saturated_and_low_when_a_wave_underfills_the_engines():
    # 4 full batches of equal sequences per engine: every iteration runs at the full batch (only prefills are extra)
    s = spec(rollout={"max_num_seqs": 32})
    n = 4 * 32 * 8
    full = step_times(s, np.full(n, 200), np.arange(n), np.full(n, 1000), np.zeros(n, np.int64), np.ones(n, bool))
    assert 0.95 < full["gen_util"] <= 1.0 and full["straggler_share"] == 0.0  # all finish together
    # 8 sequences per engine against room for 32
    m = 64
    thin = step_times(s, np.full(m, 200), np.arange(m), np.full(m, 1000), np.zeros(m, np.int64), np.ones(m, bool))
    assert thin["gen_util"] < 0.5
