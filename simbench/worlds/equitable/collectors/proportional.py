"""Proportional (representative) sampling: samples in proportion to the population shares."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.registry import register
from simbench.worlds.equitable.collectors.base import Collector, CollectState, split


@dataclass(frozen=True)
class ProportionalParams:
    """``by = "count"``: n_g ∝ pi_g (n_g = B pi_g / sum_h pi_h c_h at the end); ``"spend"``: spending ∝ pi_g."""

    by: Literal["count", "spend"] = "count"


@register
class Proportional(Collector):
    """Proportional: samples in proportion to each group's population share (representative sampling)."""

    name = "proportional"
    Params = ProportionalParams

    def plan(self, state: CollectState) -> np.ndarray:
        w = state.shares if self.params.by == "count" else state.shares / state.costs
        return split(w, state)
