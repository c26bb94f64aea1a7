"""Discard the first wave's samples (GVM's stage-1 estimation samples)."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.roles import Downsampler, StepView


@register
class DropFirstWave(Downsampler):
    """Keep samples of waves >= 1 only: estimation samples count in the budget but do not train (GVM)."""

    name = "drop_first_wave"

    def keep(self, view: StepView) -> np.ndarray:
        return view.sample_wave >= 1
