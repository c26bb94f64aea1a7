"""The allocation of a total budget that maximises an objective of concave learning curves (cvxpy)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simbench.worlds.equitable.curves import Curve
from simbench.worlds.equitable.objectives import expression, value

if TYPE_CHECKING:  # cvxpy and scipy.optimize are imported when first needed: listing the roles must not load them
    import cvxpy as cp


def _power(x: cp.Expression, p: float) -> cp.Expression:
    """x^p through the exact power cone where cvxpy has it (>= 1.8), else its rational approximation."""
    import cvxpy as cp
    try:
        return cp.power(x, p, approx=False)
    except TypeError:
        return cp.power(x, p)


def best_allocation(curves: list[Curve], costs: np.ndarray, shares: np.ndarray, spec, budget: float, floor: np.ndarray) -> np.ndarray:
    """Continuous n maximising objective(curve_g(n_g)) s.t. costs . n <= budget, n >= floor.

    Convex for the population-mean, group-average and worst-group objectives (each
    curve is concave in n): solved with cvxpy.  The fairness-penalty objective
    subtracts max(u) and is not concave: solved with SLSQP from several starts.
    """
    import cvxpy as cp
    from scipy.optimize import minimize
    K = len(curves)
    floor = np.maximum(np.asarray(floor, float), 1.0)
    if float(costs @ floor) >= budget:
        return floor
    if spec.kind != "fairness_penalty":
        # in units of `unit` samples, so that the solver sees numbers of order one
        unit = budget / costs.sum()
        x = cp.Variable(K)
        u = cp.hstack([c.ceiling - c.a * unit ** -c.b * _power(x[g], -c.b) for g, c in enumerate(curves)])
        prob = cp.Problem(cp.Maximize(expression(u, shares, spec)), [costs @ x <= budget / unit, x >= floor / unit])
        try:
            prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
        except cp.SolverError:
            prob.solve()
        if x.value is not None and prob.status in ("optimal", "optimal_inaccurate"):
            return np.maximum(np.asarray(x.value, float) * unit, floor)
    # fairness penalty (or a solver failure): local optimisation from several starts
    def neg(x):
        return -value(np.array([c(v) for c, v in zip(curves, x)]), shares, spec)

    cons = [{"type": "ineq", "fun": lambda x: budget - costs @ x}]
    bounds = [(f, budget / c) for f, c in zip(floor, costs)]
    best = None
    for w in (np.ones(K), shares, 1 / costs):
        x0 = floor + (budget - costs @ floor) * w / (w @ costs)
        res = minimize(neg, x0, method="SLSQP", bounds=bounds, constraints=cons)
        if best is None or res.fun < best.fun:
            best = res
    return np.maximum(best.x, floor)


def towards(target: np.ndarray, state) -> np.ndarray:
    """The next batch's weights: each group's shortfall from the target allocation."""
    gap = np.clip(target - state.n, 0, None)
    return gap if gap.sum() > 0 else np.maximum(target, 1e-9)
