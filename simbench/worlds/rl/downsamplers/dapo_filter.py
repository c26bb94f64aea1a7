"""DAPO's filter: drop zero-variance groups, keep the first train_batch groups."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl import kernels
from simbench.worlds.rl.filters import informative
from simbench.worlds.rl.roles import Downsampler, StepView


@dataclass(frozen=True)
class DAPOFilterParams:
    """``train_batch``: groups to keep (0: the engine's batch_prompts); ``epsilon``: zero-variance tolerance."""

    train_batch: int = 0
    epsilon: float = 1e-6

    def check(self) -> None:
        require(self.train_batch >= 0, "train_batch", self.train_batch, "an integer >= 0")
        require(self.epsilon >= 0, "epsilon", self.epsilon, "a non-negative number")


@register
class DAPOFilter(Downsampler):
    """DAPO: keep groups with reward variance, in generation order, up to train_batch groups."""

    name = "dapo_filter"
    Params = DAPOFilterParams

    def keep(self, view: StepView) -> np.ndarray:
        everything = np.ones(len(view.sample_slot), bool)
        count, pos = kernels.group_counts(view.sample_slot, view.sample_reward, everything, view.n_slots)
        ok = informative(count, pos, self.params.epsilon)
        limit = self.params.train_batch or view.info.batch_prompts
        # excess informative groups beyond the train batch are generated but wasted
        chosen = ok & (np.cumsum(ok) <= limit)
        return chosen[view.sample_slot]
