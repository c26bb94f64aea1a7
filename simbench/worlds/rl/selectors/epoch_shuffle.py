"""Epoch-wise shuffling without replacement, as verl's default sampler does."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.roles import PromptSelector, RunInfo, StepView


@register
class EpochShuffle(PromptSelector):
    """Every prompt once per epoch, in a fresh random order each epoch (verl's sampler)."""

    name = "epoch_shuffle"

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        self.order = np.empty(0, np.int64)
        self.pos = 0

    def select(self, k: int, view: StepView) -> np.ndarray:
        out = []
        while k > 0:
            if self.pos == len(self.order):
                self.order = self.rng.permutation(self.info.n_prompts).astype(np.int64)
                self.pos = 0
            take = min(k, len(self.order) - self.pos)
            out.append(self.order[self.pos:self.pos + take])
            self.pos += take
            k -= take
        return np.concatenate(out) if out else np.empty(0, np.int64)
