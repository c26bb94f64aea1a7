"""Uniform GRPO: the same number of responses for every prompt of the batch."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.allocators._budget import fit_whole_groups
from simbench.worlds.rl.roles import SampleAllocator, StepView


@dataclass(frozen=True)
class UniformParams:
    """``n``: responses per prompt (verl's ``rollout.n``)."""

    n: int = 8

    def check(self) -> None:
        require(self.n >= 1, "n", self.n, "an integer >= 1")


@register
class Uniform(SampleAllocator):
    """GRPO baseline: a fixed n responses for each prompt of the batch, in one wave.

    When the step's budget binds, whole groups are generated in slot order until
    the next would not fit (the batch is cut short; groups stay of size n).
    """

    name = "uniform"
    Params = UniformParams
    waves = 1  # its allocate returns all zeros after wave 0

    def allocate(self, view: StepView) -> np.ndarray:
        if view.wave > 0:
            return np.zeros(view.n_slots, np.int64)
        want = np.where(view.added_wave == view.wave, self.params.n, 0).astype(np.int64)
        return fit_whole_groups(want, view.cost, view.budget_left)
