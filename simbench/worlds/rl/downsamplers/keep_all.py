"""Train on every drawn sample."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.roles import Downsampler, StepView


@register
class KeepAll(Downsampler):
    """Keep every drawn sample (plain GRPO)."""

    name = "keep_all"

    def keep(self, view: StepView) -> np.ndarray:
        return np.ones(len(view.sample_slot), bool)
