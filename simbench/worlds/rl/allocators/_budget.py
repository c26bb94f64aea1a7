"""Fitting a per-slot request into the step's budget: shared by the allocators."""
from __future__ import annotations

import math

import numpy as np


def fit_to_budget(n: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """Scale a per-slot request down, uniformly, until ``sum(n * cost) <= budget``.

    The request is cut to ``min(n, m)`` with the largest common cap ``m`` that
    fits, which keeps the result equivariant to slot order.
    """
    if not math.isfinite(budget) or float(np.dot(n, cost)) <= budget:
        return n
    lo, hi = 0, int(n.max(initial=0))
    while lo < hi:  # largest cap m with sum(min(n, m) * cost) <= budget
        mid = (lo + hi + 1) // 2
        if float(np.dot(np.minimum(n, mid), cost)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return np.minimum(n, lo)


def fit_whole_groups(n: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """Keep the requested groups whole, in slot order, while they fit in ``budget``.

    Like a generation batch cut short: the first slots get their full request,
    the rest nothing once the next group would not fit.  Slot order is the
    selector's random order, so no prompt is favoured.
    """
    if not math.isfinite(budget) or float(np.dot(n, cost)) <= budget:
        return n
    fits = np.cumsum(n * cost) <= budget * (1 + 1e-12)
    fits &= np.cumsum(~fits) == 0  # a prefix: stop at the first group that does not fit
    return np.where(fits, n, 0)
