"""Uniform GRPO: the same number of responses for every prompt of the batch."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.config import require
from simbench.registry import register
from simbench.roles import SampleAllocator, StepView


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


@register
class Uniform(SampleAllocator):
    """GRPO baseline: a fixed n responses for each prompt of the batch, in one wave."""

    name = "uniform"
    Params = UniformParams

    def allocate(self, view: StepView) -> np.ndarray:
        want = np.where(view.added_wave == view.wave, self.params.n, 0).astype(np.int64)
        if view.wave > 0:
            return np.zeros(view.n_slots, np.int64)
        return fit_to_budget(want, view.cost, view.budget_left)
