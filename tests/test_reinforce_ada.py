"""Reinforce-Ada: contract, differential test against the reference loop, exact cost table, and the engine."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_ada import exact_cost, reference_ada

from simbench.testing import AllocatorContract
from simbench.worlds import parse_scenario
from simbench.worlds.rl.allocators.reinforce_ada import ReinforceAda, ReinforceAdaParams
from simbench.worlds.rl.roles import History, RunInfo, StepView


class TestReinforceAdaBalanced(AllocatorContract):
    equivariant_under_budget = False  # a binding budget gives whole rounds to slots in slot order

    def make_allocator(self):
        return ReinforceAda(ReinforceAdaParams())


class TestReinforceAdaPositive(AllocatorContract):
    equivariant_under_budget = False  # as above
    wave = 1

    def make_allocator(self):
        return ReinforceAda(ReinforceAdaParams(choice="positive_focused"))


def drive(streams, params):
    """Run the allocator and its downsampler wave by wave on fixed per-slot reward streams (a mini engine)."""
    S = len(streams)
    info = RunInfo(S, np.zeros(S, np.int32), ("all",), S, "samples", np.inf, 3072)
    alloc = ReinforceAda(params)
    alloc.reset(info, np.random.default_rng(0))
    slot, reward, wave_of = [], [], []
    drawn = np.zeros(S, np.int64)
    pos = np.zeros(S, np.int64)

    def view(w):
        a = lambda x, t: np.asarray(x, t)  # noqa: E731
        return StepView(step=1, wave=w, prompts=np.arange(S), added_wave=np.zeros(S, np.int64), group=np.zeros(S, np.int32),
                        drawn=drawn.copy(), pos=pos.copy(), cost=np.ones(S), budget_left=np.inf,
                        sample_slot=a(slot, np.int64), sample_reward=a(reward, np.int8), sample_length=np.ones(len(slot), np.int32),
                        sample_wave=a(wave_of, np.int64), history=History.empty(S), info=info)

    for w in range(64):
        n = alloc.allocate(view(w))
        if n.sum() == 0:
            break
        for i in range(S):
            for _ in range(n[i]):
                r = streams[i][drawn[i]]
                slot.append(i)
                reward.append(r)
                wave_of.append(w)
                drawn[i] += 1
                pos[i] += r
    v = view(w)
    keep = alloc.default_downsampler().keep(v)
    kept = []
    order = np.zeros(S, np.int64)
    index_in_slot = np.empty(len(slot), np.int64)
    for t, i in enumerate(slot):
        index_in_slot[t] = order[i]
        order[i] += 1
    for i in range(S):
        kept.append(sorted(index_in_slot[(v.sample_slot == i) & keep].tolist()))
    return drawn.tolist(), kept


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), choice=st.sampled_from(["balanced", "positive_focused"]), S=st.integers(1, 40),
       keep=st.integers(1, 6), rounds=st.integers(1, 5), M=st.integers(1, 9))
def test_same_samples_and_kept_samples_as_the_reference_loop(seed, choice, S, keep, rounds, M):
    rng = np.random.default_rng(seed)
    p = rng.choice([0.0, 1.0, 0.05, 0.3, 0.5, 0.9], S)
    streams = [list((rng.random(rounds * M) < pi).astype(int)) for pi in p]
    params = ReinforceAdaParams(choice=choice, max_rounds=rounds, round_repeat=M, final_keep_per_prompt=keep)
    want = reference_ada(streams, choice, rounds, M, keep)
    got = drive(streams, params)
    assert got == want


# Reinforce-Ada (arXiv 2510.04996, RLHFlow/Reinforce-Ada) with M = 8, 4 rounds, keep 4: expected samples and
# fallback probability per p; exact enumeration reproduces them to their printed precision
TABLE = [  # p, E balanced, P fallback balanced, E positive, P fallback positive
    (0.05, 27.3, 0.52, 19.2, 0.19), (0.10, 21.0, 0.16, 13.6, 0.034), (0.20, 13.4, 0.007, 9.6, 0.0008),
    (0.30, 10.3, 0.0002, 8.5, 0.0000), (0.50, 8.6, 0.0000, 8.0, 0.0000), (0.90, 21.0, 0.16, 8.0, 0.0000),
]


@pytest.mark.parametrize("p, eb, fb, ep, fp", TABLE)
def test_exact_cost_matches_the_published_table(p, eb, fb, ep, fp):
    e, f = exact_cost(p, "balanced")
    assert round(e, 1) == eb and abs(f - fb) <= 0.5 * 10 ** -len(str(fb).split(".")[1]) + 1e-12
    e, f = exact_cost(p, "positive_focused")
    assert round(e, 1) == ep and abs(f - fp) <= 0.5 * 10 ** -len(str(fp).split(".")[1]) + 1e-12


@pytest.mark.parametrize("choice, p", [("balanced", 0.1), ("positive_focused", 0.1), ("balanced", 0.3), ("balanced", 0.9)])
def test_engine_cost_and_fallback_match_the_exact_values(tmp_path, choice, p):
    """Prompts with one pass rate and no learning: mean samples per prompt and the fallback share within 4.5 SE."""
    from simbench.worlds.rl.allocators.reinforce_ada import finished
    from simbench.worlds.rl.engine import Cell

    (tmp_path / "p.csv").write_text("p\n" + f"{p}\n" * 10)
    data = {"name": "ada", "seeds": 1, "population": {"train_prompts": 512, "test_prompts": 8,
            "pass_rate": {"kind": "table", "path": str(tmp_path / "p.csv")}},
            "learner": {"lr_shared": 0.0, "lr_prompt": 0.0}, "engine": {"steps": 8, "batch_prompts": 512},
            "strategies": [{"allocator": {"kind": "reinforce_ada", "choice": choice}}]}
    cell = Cell(parse_scenario(data, base_dir=str(tmp_path)), 0, 0)
    drawn, fell_back = [], []
    for step in range(1, 9):
        v, keep, adv, waves = cell.run_step(step, np.inf)
        drawn.append(v.drawn.copy())
        fell_back.append(~finished(v.pos, v.drawn - v.pos, choice, 4))
    drawn, fell_back = np.concatenate(drawn), np.concatenate(fell_back)
    e, f = exact_cost(p, choice)
    assert abs(drawn.mean() - e) < 4.5 * drawn.std() / np.sqrt(len(drawn)) + 1e-9
    se = np.sqrt(max(f * (1 - f), 1e-12) / len(drawn))
    assert abs(fell_back.mean() - f) < 4.5 * se + 1.0 / len(drawn)
    assert (drawn[fell_back] == 32).all()
