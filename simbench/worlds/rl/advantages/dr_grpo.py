"""Dr. GRPO: the group-mean baseline without std normalisation."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.advantages.grpo import group_advantage
from simbench.worlds.rl.roles import AdvantageEstimator, StepView


@register
class DrGRPO(AdvantageEstimator):
    """Dr. GRPO: r - group mean (no division by the std)."""

    name = "dr_grpo"

    def advantages(self, view: StepView, keep: np.ndarray) -> np.ndarray:
        return group_advantage(view, keep, False, 0.0, False)
