"""Online difficulty filtering (arXiv 2504.03380): fill the batch with prompts of intermediate pass rate."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.roles import PromptSelector, RunInfo, StepView


@dataclass(frozen=True)
class DifficultyFilterParams:
    """Keep prompts whose latest estimated pass rate is in [low, high] (unseen prompts are admitted)."""

    low: float = 0.2
    high: float = 0.8

    def check(self) -> None:
        require(0 <= self.low <= self.high <= 1, "low", (self.low, self.high), "0 <= low <= high <= 1")


@register
class DifficultyFilter(PromptSelector):
    """Online difficulty filter: walk the epoch order, skip prompts whose latest pass rate is outside [low, high]."""

    name = "difficulty_filter"
    Params = DifficultyFilterParams

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        self.order = np.empty(0, np.int64)
        self.pos = 0

    def next_epoch(self) -> None:
        self.order = self.rng.permutation(self.info.n_prompts).astype(np.int64)
        self.pos = 0

    def select(self, k: int, view: StepView) -> np.ndarray:
        h = view.history
        est = np.where(h.last_n > 0, h.last_pos / np.maximum(h.last_n, 1), np.nan)
        ok = np.isnan(est) | ((est >= self.params.low) & (est <= self.params.high))
        chosen: list[int] = []
        skipped: list[int] = []
        walked = 0
        while len(chosen) < k and walked < self.info.n_prompts:
            if self.pos == len(self.order):
                self.next_epoch()
            i = int(self.order[self.pos])
            self.pos += 1
            walked += 1
            (chosen if ok[i] else skipped).append(i)
        if len(chosen) < k:  # a whole epoch had too few in the band: the skipped ones nearest the band
            dist = np.maximum(self.params.low - est[skipped], est[skipped] - self.params.high)
            fill = [skipped[j] for j in np.argsort(dist, kind="stable")[: k - len(chosen)]]
            chosen += fill
        out = np.array(chosen, np.int64)
        if len(out) < k:
            out = np.concatenate([out, self.rng.choice(self.info.n_prompts, k - len(out))]).astype(np.int64)
        return out
