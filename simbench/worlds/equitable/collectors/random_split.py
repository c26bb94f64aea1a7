"""Random batch splits (Dirichlet weights): the exploration the oracle's offline curves are fitted on."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.equitable.collectors.base import Collector, CollectState, split


@register
class RandomSplit(Collector):
    """Random: each batch split across groups with Dirichlet(1) weights (exploration for the oracle's curves)."""

    name = "random_split"
    params_seed = 0

    def reset(self, info, rng) -> None:
        super().reset(info, np.random.default_rng([0xC0, self.params_seed]))

    def plan(self, state: CollectState) -> np.ndarray:
        return split(self.rng.dirichlet(np.ones(len(state.costs))), state)
