"""Equal sampling: the same number of samples (or the same spending) from every group."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.registry import register
from simbench.worlds.equitable.collectors.base import Collector, CollectState, split


@dataclass(frozen=True)
class EqualParams:
    """``by = "count"``: equal counts (n_g = B / sum_h c_h at the end); ``"spend"``: equal spending per group."""

    by: Literal["count", "spend"] = "count"


@register
class Equal(Collector):
    """Equal: the same number of samples from every group (or, by spend, the same budget)."""

    name = "equal"
    Params = EqualParams

    def plan(self, state: CollectState) -> np.ndarray:
        w = np.ones(len(state.costs)) if self.params.by == "count" else 1.0 / state.costs
        return split(w, state)
