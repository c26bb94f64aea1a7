"""Knapsack solvers against brute force, each other and the convex relaxation; utilities against integration."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_knapsack import brute_force, naive_greedy
from scipy import integrate, stats

from simbench.worlds.rl.knapsack.dp import dp_allocate, mck_dp_kernel, quantise
from simbench.worlds.rl.knapsack.greedy import greedy_allocate
from simbench.worlds.rl.knapsack.relaxation import round_and_repair, solve_relaxation, variance_bounded, variance_closed_form, variance_cvxpy
from simbench.worlds.rl.knapsack.utilities import UTILITIES, value_table, variance_weight

FAST = settings(max_examples=60, deadline=None)
SLOW = settings(max_examples=20, deadline=None)
probs = st.floats(0.001, 0.999)


def total(V, n):
    return float(V[np.arange(len(n)), n].sum())


@FAST
@given(data=st.data(), M=st.integers(1, 4), n_min=st.integers(1, 3), extra=st.integers(0, 3), cap=st.integers(0, 24),
       utility=st.sampled_from(UTILITIES), allow_zero=st.booleans())
def test_dp_equals_brute_force(data, M, n_min, extra, cap, utility, allow_zero):
    n_max = n_min + extra
    p = np.array(data.draw(st.lists(probs, min_size=M, max_size=M)))
    units = np.array(data.draw(st.lists(st.integers(1, 3), min_size=M, max_size=M)), np.int64)
    V = value_table(utility, n_max, p=p)
    n = dp_allocate(V, units.astype(float), float(cap), n_min, n_max, allow_zero=allow_zero)
    best = brute_force(V, units, cap, n_min, n_max, allow_zero)
    if best == -math.inf:
        assert n.sum() == 0  # infeasible (every item forced active): nothing
        return
    assert int(units @ n) <= cap
    assert all(k == 0 or n_min <= k <= n_max for k in n)
    assert total(V, n) == pytest.approx(best, rel=1e-12, abs=1e-12)


@FAST
@given(data=st.data(), M=st.integers(1, 4), K=st.integers(1, 4), cap=st.integers(0, 16))
def test_exact_fill_dp_equals_brute_force(data, M, K, cap):
    p = np.array(data.draw(st.lists(probs, min_size=M, max_size=M)))
    V = value_table("knapsack_rl", K + 2, p=p)[:, 2:]  # item k: value of 2 + k rollouts
    V[:, 0] = 0.0
    w = np.ones(M, np.int64)
    best, _ = mck_dp_kernel(np.ascontiguousarray(V), w, cap, 1, K, True, True)
    for b in range(cap + 1):
        ref = brute_force(V, w, b, 1, K, True, exact=True)
        assert (best[b] == ref) if ref == -math.inf else best[b] == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_quantised_costs_never_exceed_the_budget():
    rng = np.random.default_rng(3)
    for _ in range(50):
        cost = rng.uniform(100, 2000, 20)
        budget = float(rng.uniform(0, 40_000))
        V = value_table("mixed", 16, p=rng.uniform(0.05, 0.95, 20))
        n = dp_allocate(V, cost, budget, 2, 16, quantum=256.0)
        assert float(cost @ n) <= budget
        w, cap = quantise(cost, budget, 256.0)
        assert int(w @ n) <= cap


@FAST
@given(data=st.data(), M=st.integers(1, 6), n_max=st.integers(1, 8), budget=st.integers(0, 40))
def test_greedy_equals_dp_for_a_concave_utility_and_unit_costs(data, M, n_max, budget):
    """Coverage 1 - (1-p)^n is concave from n = 0: greedy is exact."""
    p = np.array(data.draw(st.lists(probs, min_size=M, max_size=M)))
    V = value_table("coverage", n_max, p=p)
    c = np.ones(M)
    g = greedy_allocate(V, c, float(budget), 1, n_max)
    d = dp_allocate(V, c, float(budget), 1, n_max)
    assert g.sum() <= budget
    assert total(V, g) == pytest.approx(total(V, d), rel=1e-12, abs=1e-14)


@FAST
@given(data=st.data(), M=st.integers(1, 6), n_max=st.integers(2, 8), budget=st.integers(0, 40),
       utility=st.sampled_from(["mixed", "knapsack_rl", "variance"]))
def test_greedy_with_activation_chunk_against_dp(data, M, n_max, budget, utility):
    """Non-concave at the origin: activation is a chunk.  Greedy equals the DP unless a chunk had to be
    skipped, and then it is within one chunk's gain of it; the heap matches the scanning reference."""
    p = np.array(data.draw(st.lists(probs, min_size=M, max_size=M)))
    V = value_table(utility, n_max, p=p)
    c = np.ones(M)
    g = greedy_allocate(V, c, float(budget), 2, n_max)
    ref, skipped = naive_greedy(V, c, float(budget), 2, n_max)
    np.testing.assert_array_equal(g, ref)
    d = dp_allocate(V, c, float(budget), 2, n_max)
    gap = total(V, d) - total(V, g)
    assert gap >= -1e-12
    if not skipped:
        assert gap == pytest.approx(0.0, abs=1e-12)
    assert gap <= V[:, 2:].max() + 1e-12


@FAST
@given(data=st.data(), M=st.integers(1, 30), n_max=st.integers(2, 40), budget=st.floats(0, 3000))
def test_greedy_respects_budget_and_bounds_with_token_costs(data, M, n_max, budget):
    p = np.array(data.draw(st.lists(probs, min_size=M, max_size=M)))
    c = np.array(data.draw(st.lists(st.floats(1.0, 500.0), min_size=M, max_size=M)))
    V = value_table("mixed", n_max, p=p)
    n = greedy_allocate(V, c, budget, 2, n_max)
    assert float(c @ n) <= budget * (1 + 1e-12)
    assert all(k == 0 or 2 <= k <= n_max for k in n)


@SLOW
@given(data=st.data(), M=st.integers(1, 12), n_max=st.integers(3, 16), utility=st.sampled_from(UTILITIES))
def test_relaxation_bounds_dp_from_above(data, M, n_max, utility):
    p = np.array(data.draw(st.lists(st.floats(0.01, 0.99), min_size=M, max_size=M)))
    c = np.array(data.draw(st.lists(st.integers(1, 4), min_size=M, max_size=M)), float)
    budget = float(data.draw(st.integers(0, int(c.sum() * n_max))))
    V = value_table(utility, n_max, p=p)
    w = variance_weight(p)
    x, relaxed = solve_relaxation(utility, p, c, budget, 2, n_max, w=w)
    d = dp_allocate(V, c, budget, 2, n_max)
    assert relaxed >= total(V, d) - 1e-6 * (1 + abs(total(V, d)))  # solver tolerance
    assert float(c @ x) <= budget * (1 + 1e-6) + 1e-6
    r = round_and_repair(x, V, c, budget, 2, n_max)
    assert float(c @ r) <= budget
    assert total(V, r) <= total(V, d) + 1e-9  # the DP is exact


@FAST
@given(data=st.data(), M=st.integers(1, 40), n_min=st.integers(1, 4), n_max=st.integers(4, 20), budget=st.floats(0, 2000))
def test_rounding_and_repair_never_break_the_budget(data, M, n_min, n_max, budget):
    """Any continuous input, feasible or not (even nan / negative / huge), rounds into the budget and the bounds."""
    x = np.array(data.draw(st.lists(st.one_of(st.floats(-5, 100), st.just(math.nan)), min_size=M, max_size=M)))
    c = np.array(data.draw(st.lists(st.floats(0.5, 50.0), min_size=M, max_size=M)))
    V = value_table("mixed", n_max, p=np.array(data.draw(st.lists(probs, min_size=M, max_size=M))))
    n = round_and_repair(x, V, c, budget, n_min, n_max)
    assert n.dtype == np.int64
    assert float(c @ n) <= budget
    assert all(k == 0 or n_min <= k <= n_max for k in n)


def test_variance_closed_form_matches_cvxpy():
    rng = np.random.default_rng(0)
    for M in (3, 50, 512):
        w = rng.uniform(0.05, 5.0, M)
        c = rng.uniform(0.5, 3.0, M)
        B = 8.0 * c.sum()
        closed = variance_closed_form(w, c, B)
        solved = variance_cvxpy(w, c, B)
        assert float(c @ closed) == pytest.approx(B, rel=1e-12)
        assert np.sum(w / closed) <= np.sum(w / solved) * (1 + 1e-9)  # the closed form is the optimum
        np.testing.assert_allclose(closed, solved, rtol=2e-3)


def test_bounded_variance_matches_cvxpy():
    import cvxpy as cp

    rng = np.random.default_rng(1)
    w = rng.uniform(0.01, 10.0, 64)
    c = rng.uniform(0.5, 3.0, 64)
    B = 6.0 * c.sum()
    x = variance_bounded(w, c, B, 2, 24)
    n = cp.Variable(64)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(w, cp.inv_pos(n)))), [c @ n <= B, n >= 2, n <= 24])
    prob.solve(solver="CLARABEL")
    assert float(c @ x) <= B * (1 + 1e-9)
    assert np.sum(w / x) == pytest.approx(prob.value, rel=1e-6)


@pytest.mark.parametrize("utility", ["mixed", "knapsack_rl", "coverage"])
def test_posterior_expected_utilities_match_integration(utility):
    a, b = np.array([0.7, 3.0, 12.0]), np.array([2.5, 3.0, 1.5])
    V = value_table(utility, 12, a=a, b=b)
    for i in range(3):
        for n in (0, 1, 2, 5, 12):
            point = lambda p, n=n, i=i: value_table(utility, 12, p=np.array([p]))[0, n] * stats.beta.pdf(p, a[i], b[i])  # noqa: E731
            ref, _ = integrate.quad(point, 0, 1, limit=200)
            assert V[i, n] == pytest.approx(ref, rel=1e-6, abs=1e-10)


def test_utility_shapes():
    p = np.linspace(0.01, 0.99, 99)
    V = value_table("mixed", 20, p=p)
    assert (V[:, :2] == 0).all()
    d = np.diff(V[:, 2:], axis=1)
    assert (d[:, 1:] <= d[:, :-1] + 1e-15).all()  # concave for n >= 2
    np.testing.assert_allclose(V[:, 2] / 2, p * (1 - p))  # the activation chunk's rate equals f(3) - f(2)
    np.testing.assert_allclose(V[:, 3] - V[:, 2], p * (1 - p))
    v = value_table("knapsack_rl", 200, p=p)[:, -1]
    assert abs(p[np.argmax(v)] - 1 / 3) < 0.011  # p (1-p)^2 peaks at 1/3


@pytest.mark.parametrize("utility", ["mixed", "knapsack_rl", "coverage"])
def test_expected_table_recurrence_matches_beta_functions(utility):
    from simbench.worlds.rl.knapsack import utilities as U

    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.2, 60, 200), rng.uniform(0.2, 60, 200)
    fn = {"mixed": U.expected_mixed, "knapsack_rl": U.expected_knapsack_rl_value, "coverage": U.expected_coverage}[utility]
    n = np.arange(129)[None, :]
    np.testing.assert_allclose(value_table(utility, 128, a=a, b=b), fn(n, a[:, None], b[:, None]), rtol=1e-10, atol=1e-13)


@FAST
@given(data=st.data(), M=st.integers(1, 12), n_min=st.integers(1, 3), extra=st.integers(0, 30), cap=st.integers(0, 300),
       utility=st.sampled_from(UTILITIES), allow_zero=st.booleans(), exact=st.booleans(), expected=st.booleans())
def test_concave_fast_path_equals_plain_loops(data, M, n_min, extra, cap, utility, allow_zero, exact, expected):
    """The divide-and-conquer row for concave unit-weight items gives the plain DP's values at every capacity."""
    n_max = n_min + extra
    if expected:
        a = np.array(data.draw(st.lists(st.floats(0.2, 30), min_size=M, max_size=M)))
        V = value_table(utility, n_max, a=a, b=a[::-1].copy())
    else:
        V = value_table(utility, n_max, p=np.array(data.draw(st.lists(probs, min_size=M, max_size=M))))
    w = np.array(data.draw(st.lists(st.sampled_from([1, 1, 1, 2]), min_size=M, max_size=M)), np.int64)
    fast, ch_fast = mck_dp_kernel(V, w, cap, n_min, n_max, allow_zero, exact, True)
    slow, ch_slow = mck_dp_kernel(V, w, cap, n_min, n_max, allow_zero, exact, False)
    np.testing.assert_array_equal(np.isfinite(fast), np.isfinite(slow))
    ok = np.isfinite(slow)
    np.testing.assert_allclose(fast[ok], slow[ok], rtol=1e-12, atol=1e-12)
    b = int(np.flatnonzero(ok)[-1]) if ok.any() else 0
    if ok.any():
        from simbench.worlds.rl.knapsack.dp import backtrack

        n = backtrack(ch_fast, w, b)
        assert int(w @ n) <= b and (not exact or int(w @ n) == b)
        assert total(V, n) == pytest.approx(slow[b], rel=1e-12, abs=1e-12)
