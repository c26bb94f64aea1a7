"""The knapsack allocators as roles: optimality against each other, the oracle, config errors, history fallback."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simbench.core.config import ConfigError
from simbench.registry import make
from simbench.testing import make_view
from simbench.worlds.rl.allocators.knapsack import Knapsack, KnapsackParams
from simbench.worlds.rl.allocators.knapsack_oracle import KnapsackOracle
from simbench.worlds.rl.allocators.knapsack_rl import KnapsackRL, KnapsackRLParams
from simbench.worlds.rl.knapsack.utilities import value_table

SETTINGS = settings(max_examples=25, deadline=None)


def run(alloc, view, seed=0):
    alloc.reset(view.info, np.random.default_rng(seed))
    return alloc.allocate(view), alloc.step_metrics()


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(1, 40), per=st.integers(1, 12),
       utility=st.sampled_from(["mixed", "knapsack_rl", "coverage", "variance"]))
def test_dp_is_at_least_as_good_as_greedy_and_cvxpy(seed, S, per, utility):
    view = make_view(np.random.default_rng(seed), S, budget=float(per * S))
    got = {}
    for solver in ("greedy", "dp", "cvxpy"):
        n, m = run(Knapsack(KnapsackParams(utility=utility, solver=solver, posterior="mean", n_max=24)), view)
        assert n.sum() <= per * S
        got[solver] = m["knapsack_utility"]
    assert got["dp"] >= got["greedy"] - 1e-9 * (1 + abs(got["dp"]))
    assert got["dp"] >= got["cvxpy"] - 1e-9 * (1 + abs(got["dp"]))


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(1, 40), per=st.integers(2, 12))
def test_oracle_dp_is_optimal_on_the_truth(seed, S, per):
    """No allocator with the same budget gets more true utility than the DP oracle."""
    view = make_view(np.random.default_rng(seed), S, budget=float(per * S), with_truth=True)
    oracle, _ = run(KnapsackOracle(KnapsackParams(solver="dp", n_max=24)), view)
    V = value_table("mixed", 24, p=view.truth_p)
    true = lambda n: float(V[np.arange(S), n].sum())  # noqa: E731
    for params in (KnapsackParams(n_max=24), KnapsackParams(n_max=24, posterior="thompson")):
        n, _ = run(Knapsack(params), view)
        assert true(oracle) >= true(n) - 1e-12
    uniform = np.full(S, min(per, 8))
    assert true(oracle) >= true(uniform) - 1e-12


def test_posterior_not_truth():
    """The non-oracle allocator gives the same answer whatever the latent truth says."""
    view = make_view(np.random.default_rng(1), 30, budget=240.0, with_truth=True)
    a, _ = run(Knapsack(KnapsackParams(solver="dp", n_max=24)), view)
    view.truth_p = 1.0 - view.truth_p
    b, _ = run(Knapsack(KnapsackParams(solver="dp", n_max=24)), view)
    np.testing.assert_array_equal(a, b)


def test_a_tight_budget_activates_the_prompt_most_likely_to_be_mixed():
    """Two samples: only one prompt can be activated, the one with the largest E[p(1-p)] (20 of 40 correct)."""
    for budget, check in ((2.0, lambda n: n.tolist() == [0, 2, 0]), (24.0, lambda n: n.sum() == 24 and (n >= 2).all())):
        view = make_view(np.random.default_rng(2), 3, budget=budget, history_steps=0)
        view.prompts[:] = [0, 1, 2]
        h = view.history
        h.n[:3], h.pos[:3] = [40, 40, 40], [0, 20, 40]
        for solver in ("greedy", "dp", "cvxpy"):
            n, _ = run(Knapsack(KnapsackParams(solver=solver, n_max=24, posterior="mean")), view)
            assert check(n), (solver, budget, n)


def test_dp_too_large_falls_back_or_raises():
    view = make_view(np.random.default_rng(3), 64, budget=512.0)
    n, m = run(Knapsack(KnapsackParams(solver="dp", dp_max_work=10.0)), view)
    assert m["knapsack_dp_fallback"] == 1 and n.sum() <= 512
    from simbench.worlds.rl.allocators.knapsack import DPTooLarge

    with pytest.raises(DPTooLarge, match="dp_max_work"):
        run(Knapsack(KnapsackParams(solver="dp", dp_max_work=10.0, on_dp_too_large="error")), view)


@pytest.mark.parametrize("spec, key", [
    ({"kind": "knapsack", "solver": "lp"}, "solver"),
    ({"kind": "knapsack", "n_min": 5, "n_max": 3}, "n_max"),
    ({"kind": "knapsack", "prior_a": 0.0}, "prior_a"),
    ({"kind": "knapsack", "utility": "entropy"}, "utility"),
    ({"kind": "knapsack_rl", "alpha": 1.5}, "alpha"),
    ({"kind": "knapsack_rl", "max_n": 2}, "max_n"),
])
def test_bad_parameters_name_the_key(spec, key):
    with pytest.raises(ConfigError, match=key):
        make("allocator", spec)


def test_knapsack_rl_reads_history_when_it_did_not_observe():
    """One visit per prompt: the engine's history holds exactly what the reward buffers would."""
    from test_knapsack_rl import record, step_view

    from simbench.worlds.rl.roles import History

    S = 40
    rng = np.random.default_rng(5)
    hist = History.empty(S)
    rewards = [list(rng.integers(0, 2, 16)) for _ in range(S)]
    v = step_view(S, 1, np.arange(S), rewards, hist)
    record(hist, v)
    watched = KnapsackRL(KnapsackRLParams())
    watched.reset(v.info, np.random.default_rng(0))
    watched.observe(v, np.ones(len(v.sample_slot), bool), np.zeros(len(v.sample_slot)))
    blind = KnapsackRL(KnapsackRLParams())
    blind.reset(v.info, np.random.default_rng(0))
    nxt = step_view(S, 2, np.arange(S), [[] for _ in range(S)], hist)
    np.testing.assert_array_equal(watched.allocate(nxt), blind.allocate(nxt))
    assert watched.allocate(nxt).std() > 0  # a real knapsack plan, not uniform


def test_dp_top_up_spends_what_quantisation_left():
    view = make_view(np.random.default_rng(6), 32, budget=150_000.0, unit="tokens")
    plain, m0 = run(Knapsack(KnapsackParams(solver="dp", dp_top_up=False, n_max=24)), view)
    topped, m1 = run(Knapsack(KnapsackParams(solver="dp", n_max=24)), view)
    assert (topped >= plain).all()
    assert float(view.cost @ plain) <= float(view.cost @ topped) <= min(150_000.0, 8 * view.cost.sum())
    assert m1["knapsack_utility"] >= m0["knapsack_utility"]
