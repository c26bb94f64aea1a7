"""Uniform GRPO: the same number of responses for every prompt of the batch."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.roles import SampleAllocator, StepView


@dataclass(frozen=True)
class UniformParams:
    """``n``: responses per prompt (verl's ``rollout.n``)."""

    n: int = 8

    def check(self) -> None:
        require(self.n >= 1, "n", self.n, "an integer >= 1")


def fit_to_budget(n: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """Scale a per-slot request down, uniformly, until ``sum(n * cost) <= budget``.

    The request is cut to ``min(n, m)`` with the largest common cap ``m`` that
    fits, which keeps the result equivariant to slot order.
    """
    if not np.isfinite(budget) or float(np.dot(n, cost)) <= budget:
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
    if not np.isfinite(budget) or float(np.dot(n, cost)) <= budget:
        return n
    fits = np.cumsum(n * cost) <= budget * (1 + 1e-12)
    fits &= np.cumsum(~fits) == 0  # a prefix: stop at the first group that does not fit
    return np.where(fits, n, 0)


@register
class Uniform(SampleAllocator):
    """GRPO baseline: a fixed n responses for each prompt of the batch, in one wave.

    When the step's budget binds, whole groups are generated in slot order until
    the next would not fit (the batch is cut short; groups stay of size n).
    """

    name = "uniform"
    Params = UniformParams

    def allocate(self, view: StepView) -> np.ndarray:
        want = np.where(view.added_wave == view.wave, self.params.n, 0).astype(np.int64)
        if view.wave > 0:
            return np.zeros(view.n_slots, np.int64)
        return fit_whole_groups(want, view.cost, view.budget_left)
