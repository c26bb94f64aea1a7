"""SPEED-RL screening (arXiv 2506.09016): a few screening rollouts, continuation only for mixed prompts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.allocators._budget import fit_whole_groups
from simbench.worlds.rl.roles import SampleAllocator, StepView


@dataclass(frozen=True)
class SpeedRLParams:
    """Reference defaults: 4 screening rollouts, 12 more for prompts with 0 < p_hat < 1 (a multiple of n_init)."""

    n_init: int = 4
    n_cont: int = 12

    def check(self) -> None:
        require(self.n_init >= 1, "n_init", self.n_init, "an integer >= 1")
        require(self.n_cont >= 0, "n_cont", self.n_cont, "an integer >= 0")


@register
class SpeedRL(SampleAllocator):
    """SPEED-RL: n_init screening rollouts per prompt, then n_cont more only where 0 < p_hat < 1."""

    name = "speed_rl"
    Params = SpeedRLParams

    def allocate(self, view: StepView) -> np.ndarray:
        p = self.params
        if view.wave == 0:
            want = np.full(view.n_slots, p.n_init, np.int64)
        elif view.wave == 1:
            want = np.where((view.pos > 0) & (view.pos < view.drawn), p.n_cont, 0).astype(np.int64)
        else:
            return np.zeros(view.n_slots, np.int64)
        return fit_whole_groups(want, view.cost, view.budget_left)

    def default_downsampler(self):
        from simbench.worlds.rl.downsamplers.speed_rl_keep import SpeedRLKeep

        return SpeedRLKeep()
