"""Convex relaxation of the knapsack in cvxpy, rounding and budget repair; the variance closed form.

The feasible set {0} U [n_min, n_max] of one item is relaxed to its convex
hull with an activation fraction lam in [0, 1]: n_min lam <= n <= n_max lam,
and the item's concave utility u(n) is replaced by its perspective
lam u(n / lam), which is jointly concave and agrees with u at lam = 1 and
with u(0) = 0 at lam = n = 0.  The relaxation therefore bounds the integer
optimum from above.  In DCP form, lam p^(n/lam) <= z is the exponential cone
(n log p, lam, z), so

    maximise  sum_i s_i (lam_i - z1_i - z2_i)      (mixed: z1 for p^n, z2 for (1-p)^n)

with s_i = p(1-p)^2 for Knapsack-RL's value, 1 for the mixed-group
probability; coverage drops z1; the variance objective w (1 - 1/n) has the
perspective w (lam - lam^2 / n) (``quad_over_lin``).  Solved with Clarabel.
Relaxing only [n_min, n_max] (lam fixed to 1) is the same problem when the
budget activates every item.
"""
from __future__ import annotations

import numpy as np

from simbench.worlds.rl.knapsack.greedy import greedy_allocate

RELAXABLE = ("mixed", "knapsack_rl", "coverage", "variance")


def solve_relaxation(utility: str, p: np.ndarray, cost: np.ndarray, budget: float, n_min: int, n_max: int,
                     w: np.ndarray | None = None, solver: str = "CLARABEL") -> tuple[np.ndarray, float]:
    """Continuous optimum (n, value) of the hull relaxation for point pass rates ``p``.

    ``w``: the variance weights (``variance`` only).
    """
    import cvxpy as cp  # imported when first needed: listing the roles must not load the solver

    if utility not in RELAXABLE:
        raise ValueError(f"no relaxation for utility {utility!r}; allowed: {', '.join(RELAXABLE)}")
    p = np.clip(np.asarray(p, np.float64), 1e-12, 1 - 1e-12)
    cost = np.asarray(cost, np.float64)
    M = len(p)
    n = cp.Variable(M)
    lam = cp.Variable(M)
    cons = [lam >= 0, lam <= 1, n >= n_min * lam, n <= n_max * lam, cost @ n <= budget]
    if utility == "variance":
        w = np.asarray(w, np.float64)
        t = cp.Variable(M)  # t >= lam^2 / n as a second-order cone, vectorised over items
        cons.append(cp.SOC(n + t, cp.vstack([2 * lam, n - t]), axis=0))
        objective = w @ (lam - t)
    else:
        scale = p * (1 - p) ** 2 if utility == "knapsack_rl" else np.ones(M)
        z2 = cp.Variable(M)
        cons.append(cp.constraints.ExpCone(cp.multiply(np.log1p(-p), n), lam, z2))
        body = lam - z2
        if utility != "coverage":
            z1 = cp.Variable(M)
            cons.append(cp.constraints.ExpCone(cp.multiply(np.log(p), n), lam, z1))
            body = body - z1
        objective = scale @ body
    prob = cp.Problem(cp.Maximize(objective), cons)
    prob.solve(solver=solver)
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise RuntimeError(f"cvxpy relaxation ended with status {prob.status}")
    return np.clip(np.asarray(n.value, np.float64), 0.0, n_max), float(prob.value)


def variance_closed_form(w: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """argmin sum_i w_i / n_i s.t. sum_i c_i n_i = B (n > 0): n_i = B sqrt(w_i / c_i) / sum_j sqrt(w_j c_j)."""
    w = np.asarray(w, np.float64)
    cost = np.asarray(cost, np.float64)
    return budget * np.sqrt(w / cost) / np.sum(np.sqrt(w * cost))


def variance_bounded(w: np.ndarray, cost: np.ndarray, budget: float, n_min: float, n_max: float) -> np.ndarray:
    """argmin sum w_i / n_i s.t. c . n <= B, n_min <= n <= n_max: n_i = clip(sqrt(w_i / (mu c_i)), n_min, n_max).

    The multiplier mu is found by bisection on log mu (KKT of a separable convex problem).
    """
    w = np.asarray(w, np.float64)
    cost = np.asarray(cost, np.float64)
    spend = lambda mu: float(cost @ np.clip(np.sqrt(w / (mu * cost)), n_min, n_max))  # noqa: E731
    if spend(1e-300) <= budget:
        return np.full(len(w), float(n_max))
    lo, hi = -700.0, 700.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if spend(np.exp(mid)) > budget:
            lo = mid
        else:
            hi = mid
    return np.clip(np.sqrt(w / (np.exp(hi) * cost)), n_min, n_max)


def variance_cvxpy(w: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """The same problem as ``variance_closed_form`` solved by cvxpy (for testing the closed form)."""
    import cvxpy as cp
    n = cp.Variable(len(w))
    prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(np.asarray(w, np.float64), cp.inv_pos(n)))), [np.asarray(cost) @ n == budget])
    prob.solve(solver="CLARABEL")
    return np.asarray(n.value, np.float64)


def repair_down(n: np.ndarray, V: np.ndarray, cost: np.ndarray, budget: float, n_min: int) -> np.ndarray:
    """Remove samples, cheapest loss per cost first, until sum(cost * n) <= budget.

    An item at n_min drops to 0 in one move.  Never increases any count.
    """
    n = np.asarray(n, np.int64).copy()
    rows = np.arange(len(n))
    while len(n) and float(np.dot(n, cost)) > budget:
        active = n > 0
        step = np.where(n > n_min, 1, n)
        loss = V[rows, n] - V[rows, n - step]
        ratio = np.where(active, loss / (cost * np.maximum(step, 1)), np.inf)
        i = int(np.argmin(ratio))  # first index on ties: callers pass items in a canonical order
        n[i] -= step[i]
    return n


def round_and_repair(x: np.ndarray, V: np.ndarray, cost: np.ndarray, budget: float, n_min: int, n_max: int,
                     rank: np.ndarray | None = None) -> np.ndarray:
    """Integer allocation in {0} U [n_min, n_max] from a continuous one, within the budget.

    1. Floor the counts of items at or above n_min; fractional activations (x < n_min) start at 0.
    2. Largest remainder: in decreasing order of residual x - floor(x), give one more sample
       (an activation for items at 0) while it fits.
    3. Greedy repair: spend what is left by marginal gain per cost (``greedy_allocate``).
    4. Should anything exceed the budget (a wildly infeasible ``x``), remove samples (``repair_down``).
    """
    x = np.clip(np.nan_to_num(np.asarray(x, np.float64), nan=0.0), 0.0, n_max)
    cost = np.asarray(cost, np.float64)
    M = len(x)
    rank = np.arange(M, dtype=np.int64) if rank is None else np.asarray(rank, np.int64)
    k = np.floor(x + 1e-9).astype(np.int64)
    k[k < n_min] = 0
    k = repair_down(k, V, cost, budget, n_min)
    resid = x - k
    left = budget - float(np.dot(k, cost))
    for i in np.lexsort((rank, -resid)):
        if resid[i] <= 1e-9:
            break
        step = 1 if k[i] > 0 else n_min
        if k[i] + step <= n_max and step * cost[i] <= left and V[i, k[i] + step] > V[i, k[i]]:
            k[i] += step
            left -= step * cost[i]
    k = greedy_allocate(V, cost, max(left, 0.0), n_min, n_max, n0=k, rank=rank)
    return repair_down(k, V, cost, budget, n_min)
