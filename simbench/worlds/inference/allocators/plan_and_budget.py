"""Plan-and-Budget's token budgets by difficulty level (Lin et al., ICLR 2026, arXiv 2505.16122; reference ``junhongmit/P-and-B``).

A query of level l in 1..5 gets the length cap ``B(l)`` of the reference, {200, 250, 350, 450, 600} (words there,
``tokens_per_word`` tokens here), for each of its ``n`` samples; a response longer than its cap is cut and gives no
answer, so a query's success probability becomes ``p_q P(L <= b)``.  The reference's planner judges the level; here
the level is the query's true difficulty quintile (level 5: the hardest fifth).  Its metric is E3 = A^2 / T.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.allocators._curves import quantile_bins
from simbench.worlds.inference.roles import Allocation, InferenceAllocator, View, fit


@dataclass(frozen=True)
class PlanAndBudgetParams:
    """``budgets``: cap per level, easiest first; ``tokens_per_word``; ``n``: samples per query."""

    budgets: tuple[float, ...] = (200.0, 250.0, 350.0, 450.0, 600.0)
    tokens_per_word: float = 1.0
    n: int = 1

    def check(self) -> None:
        require(len(self.budgets) >= 1 and all(b >= 1 for b in self.budgets), "budgets", self.budgets,
                "a non-empty array of caps >= 1, one per difficulty level, easiest first")
        require(self.tokens_per_word > 0, "tokens_per_word", self.tokens_per_word, "a positive number")
        require(self.n >= 1, "n", self.n, "an integer >= 1")


@register
class PlanAndBudget(InferenceAllocator):
    """Plan-and-Budget: a length cap per difficulty quintile (200-600 from easy to hard), n samples each."""

    name = "plan_and_budget"
    Params = PlanAndBudgetParams
    uses_oracle = True

    def allocate(self, view: View) -> Allocation:
        Q, P = view.n_queries, self.params
        if view.wave:
            return Allocation(np.zeros(Q, np.int64))
        levels = len(P.budgets)
        hardness = levels - 1 - quantile_bins(view.oracle_p, view.keys, levels)  # bin 0 is the hardest: the last level
        cap = np.ceil(np.asarray(P.budgets)[hardness] * P.tokens_per_word).astype(np.int64)
        return Allocation(fit(np.full(Q, P.n), view), cap=cap)
