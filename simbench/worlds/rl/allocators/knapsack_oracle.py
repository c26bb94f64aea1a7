"""Knapsack oracle: the knapsack allocator fed the latent pass rates (an upper reference, not a method)."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.allocators.knapsack import Knapsack
from simbench.worlds.rl.roles import StepView


@register
class KnapsackOracle(Knapsack):
    """Knapsack on the latent p_i and G_i (uses_oracle): what a perfect estimate would allocate."""

    name = "knapsack_oracle"
    uses_oracle = True

    def pass_rates(self, view: StepView, order: np.ndarray):
        """The latent p (and G for the variance objective) in canonical order; the posterior settings are unused."""
        if view.truth_p is None:
            raise RuntimeError("knapsack_oracle needs view.truth_p: the engine fills it for roles with uses_oracle = True")
        p = np.asarray(view.truth_p, np.float64)[order]
        G = None if view.truth_G is None else np.asarray(view.truth_G, np.float64)[order]
        return p, None, None, G
