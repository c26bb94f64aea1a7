"""SPEED-RL: train only on prompts that passed screening (screening + continuation samples)."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.roles import Downsampler, StepView


@register
class SpeedRLKeep(Downsampler):
    """SPEED-RL: keep every sample of the prompts that passed screening (those that got continuation samples)."""

    name = "speed_rl_keep"

    def keep(self, view: StepView) -> np.ndarray:
        continued = np.bincount(view.sample_slot[view.sample_wave >= 1], minlength=view.n_slots) > 0
        return continued[view.sample_slot]
