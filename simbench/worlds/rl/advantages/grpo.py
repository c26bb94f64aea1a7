"""GRPO's group-normalised advantage with verl's conventions."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.registry import register
from simbench.worlds.rl import kernels
from simbench.worlds.rl.roles import AdvantageEstimator, StepView


@dataclass(frozen=True)
class GRPOParams:
    """``norm_adv_by_std``: divide by the group std (verl's ``norm_adv_by_std_in_grpo``).

    ``global_stats``: take mean and std over *all* samples drawn for the prompt
    this step, not only the kept ones (Reinforce-Ada's estimator).
    """

    norm_adv_by_std: bool = True
    epsilon: float = 1e-6
    global_stats: bool = False


def group_advantage(view: StepView, keep: np.ndarray, norm_by_std: bool, eps: float, global_stats: bool) -> np.ndarray:
    """(r - mean) / (std + eps) per slot; a group of one gets mean 0, std 1 (verl).

    ``global_stats`` (Reinforce-Ada): statistics over every drawn sample and sigma = max(std, eps)
    before adding eps again.
    """
    return kernels.group_advantage(view.sample_slot, view.sample_reward, keep, view.drawn, view.pos, norm_by_std, eps, global_stats)


@register
class GRPO(AdvantageEstimator):
    """GRPO: (r - group mean) / (unbiased group std + 1e-6), verl's conventions."""

    name = "grpo"
    Params = GRPOParams

    def advantages(self, view: StepView, keep: np.ndarray) -> np.ndarray:
        p = self.params
        return group_advantage(view, keep, p.norm_adv_by_std, p.epsilon, p.global_stats)
