"""GRESO: skip prompts that were recently all-correct or all-wrong, with adaptive probabilities (arXiv 2506.02177)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.roles import PromptSelector, RunInfo, StepView


@dataclass(frozen=True)
class GRESOParams:
    """Reference defaults: easy if mean reward >= 0.98, hard if <= 0.11; p_easy = p_hard = 0.5 at start,
    moved by 0.01 per step after the first epoch towards a zero-variance target of 0.25 (1/3 easy, 2/3 hard),
    clamped to [0.05, 0.95]; skip probability 1 - max(p^z, 0.01)."""

    easy_threshold: float = 0.98
    hard_threshold: float = 0.11
    p_start: float = 0.5
    step_size: float = 0.01
    target_zero_variance: float = 0.25
    easy_share: float = 1.0 / 3.0
    p_min: float = 0.05
    p_max: float = 0.95
    min_keep: float = 0.01

    def check(self) -> None:
        require(0 <= self.hard_threshold < self.easy_threshold <= 1, "easy_threshold", (self.hard_threshold, self.easy_threshold),
                "0 <= hard_threshold < easy_threshold <= 1")
        require(0 < self.p_min <= self.p_start <= self.p_max <= 1, "p_start", self.p_start, "0 < p_min <= p_start <= p_max <= 1")


def greso_update(p: float, observed: float, target: float, step: float, lo: float, hi: float) -> float:
    """One adaptive step: skip more (p down) when the observed zero-variance ratio reaches its target."""
    p = p - step if observed >= target else p + step
    return min(max(p, lo), hi)


@register
class GRESO(PromptSelector):
    """GRESO: skip prompts with a run of all-correct or all-wrong visits with probability 1 - max(p^z, 0.01)."""

    name = "greso"
    Params = GRESOParams

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        self.easy_run = np.zeros(info.n_prompts, np.int64)
        self.hard_run = np.zeros(info.n_prompts, np.int64)
        self.p_easy = self.p_hard = self.params.p_start
        self.order = np.empty(0, np.int64)
        self.pos = 0
        self.steps = 0
        self.skipped = 0

    def select(self, k: int, view: StepView) -> np.ndarray:
        p = self.params
        chosen: list[int] = []
        tries = 0
        while len(chosen) < k and tries < 4 * self.info.n_prompts:
            if self.pos == len(self.order):
                self.order = self.rng.permutation(self.info.n_prompts).astype(np.int64)
                self.pos = 0
            i = int(self.order[self.pos])
            self.pos += 1
            tries += 1
            if self.easy_run[i] > 0:
                keep_prob = max(self.p_easy ** self.easy_run[i], p.min_keep)
            elif self.hard_run[i] > 0:
                keep_prob = max(self.p_hard ** self.hard_run[i], p.min_keep)
            else:
                keep_prob = 1.0
            if keep_prob >= 1.0 or self.rng.random() < keep_prob:
                chosen.append(i)
            else:
                self.skipped += 1
        out = np.array(chosen, np.int64)
        if len(out) < k:
            out = np.concatenate([out, self.rng.choice(self.info.n_prompts, k - len(out))]).astype(np.int64)
        return out

    def observe(self, view: StepView, keep: np.ndarray, advantage: np.ndarray) -> None:
        p = self.params
        got = view.drawn > 0
        pr = view.prompts[got]
        mean = view.pos[got] / view.drawn[got]
        easy = mean >= p.easy_threshold
        hard = mean <= p.hard_threshold
        self.easy_run[pr] = np.where(easy, self.easy_run[pr] + 1, 0)
        self.hard_run[pr] = np.where(hard, self.hard_run[pr] + 1, 0)
        self.steps += 1
        if self.steps * self.info.batch_prompts > self.info.n_prompts and got.any():  # after the first epoch
            all_pass = float(np.mean(view.pos[got] == view.drawn[got]))
            all_fail = float(np.mean(view.pos[got] == 0))
            target = p.target_zero_variance
            self.p_easy = greso_update(self.p_easy, all_pass, target * p.easy_share, p.step_size, p.p_min, p.p_max)
            self.p_hard = greso_update(self.p_hard, all_fail, target * (1 - p.easy_share), p.step_size, p.p_min, p.p_max)

    def step_metrics(self) -> dict:
        return {"greso_p_easy": self.p_easy, "greso_p_hard": self.p_hard, "greso_skipped": self.skipped}
