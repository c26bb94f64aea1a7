"""Oracle collection: the true learning curves (estimated once offline from many runs), solved once."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.equitable.collectors.base import Collector, CollectState, split
from simbench.worlds.equitable.collectors.solve import best_allocation, towards


@register
class Oracle(Collector):
    """Oracle: the optimal allocation for the true learning curves (test-set performance of offline runs)."""

    name = "oracle"
    uses_oracle = True

    def plan(self, state: CollectState) -> np.ndarray:
        if not hasattr(self, "target") or self.target is None:
            self.target = best_allocation(state.oracle_curves, state.costs, state.shares, state.objective_spec,
                                          state.spent + state.remaining, np.zeros(len(state.costs)))
        return split(towards(self.target, state), state)

    def reset(self, info, rng) -> None:
        super().reset(info, rng)
        self.target = None
