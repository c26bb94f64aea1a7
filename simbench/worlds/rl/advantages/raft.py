"""RAFT / RAFT++: supervised fine-tuning on the correct samples."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.roles import AdvantageEstimator, StepView


@register
class RAFT(AdvantageEstimator):
    """RAFT/RAFT++: weight 1 on kept correct samples, 0 on incorrect ones (SFT on positives)."""

    name = "raft"

    def advantages(self, view: StepView, keep: np.ndarray) -> np.ndarray:
        # RAFT++ sets negative rewards to 0; with 0/1 rewards the weight is the reward itself.
        return np.where(keep, np.maximum(view.sample_reward, 0), 0).astype(np.float64)
