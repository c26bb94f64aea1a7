"""Knapsack-RL preset against a plain restatement of liziniu/KnapsackRL, and its observed figures qualitatively."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_knapsack import naive_knapsack_rl_plan, naive_p_hat

from simbench.worlds.rl.allocators.knapsack_rl import KnapsackRL, KnapsackRLParams
from simbench.worlds.rl.roles import History, RunInfo, StepView

SETTINGS = settings(max_examples=40, deadline=None)


def fresh(S, **kw):
    alloc = KnapsackRL(KnapsackRLParams(**kw))
    alloc.reset(RunInfo(S, np.zeros(S, np.int32), ("g",), S, "samples", np.inf, 3072), np.random.default_rng(0))
    return alloc


def step_view(S, step, prompts, rewards_per_slot, history):
    """A finished step's view: slot s drew ``rewards_per_slot[s]`` (in arrival order)."""
    drawn = np.array([len(r) for r in rewards_per_slot], np.int64)
    slot = np.repeat(np.arange(len(prompts)), drawn)
    reward = np.concatenate([np.asarray(r, np.int8) for r in rewards_per_slot]) if drawn.sum() else np.zeros(0, np.int8)
    pos = np.bincount(slot, weights=reward, minlength=len(prompts)).astype(np.int64)
    return StepView(step=step, wave=0, prompts=np.asarray(prompts, np.int64), added_wave=np.zeros(len(prompts), np.int64),
                    group=np.zeros(len(prompts), np.int32), drawn=drawn, pos=pos, cost=np.ones(len(prompts)),
                    budget_left=np.inf, sample_slot=slot, sample_reward=reward,
                    sample_length=np.full(len(slot), 100, np.int32), sample_wave=np.zeros(len(slot), np.int64),
                    history=history, info=RunInfo(S, np.zeros(S, np.int32), ("g",), len(prompts), "samples", np.inf, 3072))


def record(history, view):
    """What the engine does after a step."""
    got = view.drawn > 0
    pr = view.prompts[got]
    history.n[pr] += view.drawn[got]
    history.pos[pr] += view.pos[got]
    history.last_n[pr] = view.drawn[got]
    history.last_pos[pr] = view.pos[got]
    history.last_step[pr] = view.step


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 5), epoch=st.booleans(), robust=st.booleans())
def test_p_hat_buffers_match_the_per_visit_lists(seed, steps, epoch, robust):
    rng = np.random.default_rng(seed)
    S = 6
    alloc = fresh(S, epoch_estimation=epoch, robust_epoch_estimation=robust)
    hist = History.empty(S)
    lists = {i: [] for i in range(S)}
    for step in range(1, steps + 1):
        prompts = rng.permutation(S)[: rng.integers(1, S + 1)]
        rewards = [list(rng.integers(0, 2, rng.integers(1, 24))) for _ in prompts]
        v = step_view(S, step, prompts, rewards, hist)
        record(hist, v)
        alloc.observe(v, np.ones(len(v.sample_slot), bool), np.zeros(len(v.sample_slot)))
        for i, r in zip(prompts, rewards):
            lists[int(i)].append(r)
    for i in range(S):
        if lists[i]:
            assert alloc.p_hat[i] == pytest.approx(naive_p_hat(lists[i], 16, epoch, robust), abs=1e-12)
            assert alloc.count[i] == sum(map(len, lists[i]))


@SETTINGS
@given(data=st.data(), S=st.integers(1, 10), n=st.integers(2, 8), max_n=st.integers(3, 12), fallback=st.booleans())
def test_plan_matches_the_plain_restatement(data, S, n, max_n, fallback):
    counts = np.array(data.draw(st.lists(st.integers(0, 24), min_size=S, max_size=S)))
    p_hat = np.array(data.draw(st.lists(st.integers(0, 16), min_size=S, max_size=S))) / 16.0
    alloc = fresh(S, n=n, max_n=max_n, allow_fallback=fallback)
    got, _, _ = alloc.plan(counts, p_hat, n * S)
    want = naive_knapsack_rl_plan(list(counts), list(p_hat), n=n, max_n=max_n, fallback=fallback)
    if fallback and all(c >= 8 and 0 < p < 1 for c, p in zip(counts, p_hat)):
        return  # the reference divides by zero when the fallback has no candidate; covered below
    assert got.tolist() == want
    assert got.sum() == n * S  # the reference asserts its budget is spent exactly


def test_fallback_without_candidates_runs_the_dp_on_the_whole_budget():
    counts, p_hat = np.full(4, 16), np.full(4, 0.5)  # every prompt an item; E = 4 x 3 < 24
    got, used, _ = fresh(4).plan(counts, p_hat, 32)
    assert not used
    assert got.sum() == 32 and (got >= 2).all()


def test_fallback_sends_the_surplus_to_zero_rate_prompts():
    # 4 items at p = 1/2 (cost ln 0.1 / ln 0.5 = 3.3 -> 3) and 4 valid prompts at p = 0, n = 8:
    # 16 spent on minima, 48 left, E = 12 < 48: 36 go to the 4 zero-rate prompts (+9 each),
    # the DP places 12 extra rollouts exactly, 3 on each (identical concave items).
    counts = np.full(8, 16)
    p_hat = np.array([0.5] * 4 + [0.0] * 4)
    got, used, _ = fresh(8).plan(counts, p_hat, 64)
    assert used
    assert got.tolist() == [5, 5, 5, 5, 11, 11, 11, 11]


def test_unseen_prompts_get_uniform_n():
    got, _, _ = fresh(5).plan(np.array([0, 7, 0, 3, 0]), np.array([0.5, 0.5, 0.0, 1.0, 0.2]), 40)
    assert got.tolist() == [8] * 5


def test_zero_extra_quirk_versus_paper():
    """Code: the first extra rollout of an item is worth v(3) (k = 0 scores 0), so easy items (p = 15/16)
    get one while hard ones are still hungry; paper (k = 0 scores v(2)): it is worth v(3) - v(2), and the
    hard items take everything.  4 hard + 28 easy items, 194 rollouts: 64 minima + 130 extra."""
    S = 32
    p = np.r_[np.full(4, 1 / 16), np.full(28, 15 / 16)]
    counts = np.full(S, 16)
    code, _, _ = fresh(S, allow_fallback=False).plan(counts, p, 194)
    paper, _, _ = fresh(S, allow_fallback=False, zero_extra="paper").plan(counts, p, 194)
    assert code.sum() == paper.sum() == 194
    assert (code[4:] > 2).sum() > (paper[4:] > 2).sum()
    assert code[:4].min() < paper[:4].min()


def test_dp_and_greedy_fallback_reach_the_same_value():
    rng = np.random.default_rng(4)
    S = 48
    counts, p = np.full(S, 16), rng.integers(1, 16, S) / 16
    exact = fresh(S, allow_fallback=False)
    heap = fresh(S, allow_fallback=False, dp_max_work=1.0)
    a, _, g1 = exact.plan(counts, p, 8 * S)
    b, _, g2 = heap.plan(counts, p, 8 * S)
    assert (g1, g2) == (False, True)
    v = lambda n: float(np.sum((1 - p**n - (1 - p) ** n) * p * (1 - p) ** 2))  # noqa: E731
    assert a.sum() == b.sum() == 8 * S
    assert v(a) == pytest.approx(v(b), rel=1e-9)


def test_observed_figures_on_64_prompts():
    """Knapsack-RL (arXiv 2509.25849), 64 prompts, n = 8: harder prompts (p_hat = 1/16) get more rollouts than p_hat = 1/2,
    p_hat in {0, 1} get 2, the budget 512 is spent exactly; p_hat reached through observe() from 16 outcomes."""
    S = 64
    rng = np.random.default_rng(0)
    k = np.r_[np.full(6, 1), np.full(6, 2), np.full(6, 4), np.full(6, 8), np.full(6, 13), np.full(6, 15),
              np.full(14, 0), np.full(14, 16)]  # correct answers out of 16
    alloc = fresh(S, allow_fallback=False)
    hist = History.empty(S)
    rewards = [list(rng.permutation(np.r_[np.ones(ki), np.zeros(16 - ki)]).astype(int)) for ki in k]
    v = step_view(S, 1, np.arange(S), rewards, hist)
    record(hist, v)
    alloc.observe(v, np.ones(len(v.sample_slot), bool), np.zeros(len(v.sample_slot)))
    view = step_view(S, 2, np.arange(S), [[] for _ in range(S)], hist)
    n = alloc.allocate(view)
    by_p = {ki: n[k == ki] for ki in np.unique(k)}
    assert n.sum() == 8 * S
    assert by_p[1].min() > by_p[8].max()  # 0.0625 gets more than 0.5
    assert by_p[4].min() > by_p[8].max()  # 0.25 more than 0.5
    assert by_p[13].min() > by_p[15].max()  # 0.81 more than 0.94
    assert (by_p[0] == 2).all() and (by_p[16] == 2).all()
    # with the fallback on, an easy batch leaves surplus: zero-rate prompts then get more than 2
    fb = fresh(S)
    fb.observe(v, np.ones(len(v.sample_slot), bool), np.zeros(len(v.sample_slot)))
    easy = np.isin(k, (8, 16, 0))
    view_easy = step_view(S, 2, np.flatnonzero(easy), [[] for _ in range(easy.sum())], hist)
    m = fb.allocate(view_easy)
    assert fb.step_metrics()["knapsack_fallback"] == 1
    assert (m[k[easy] == 0] > 2).all()
