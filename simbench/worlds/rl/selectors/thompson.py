"""MoPPS-style Thompson sampling on discounted Beta posteriors (arXiv 2507.04632)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.roles import PromptSelector, RunInfo, StepView
from simbench.worlds.rl.selectors._posterior import BetaPosteriors


@dataclass(frozen=True)
class ThompsonParams:
    """Prior Beta(prior_alpha, prior_beta); discount ``lam`` (1.0 for math, 0.5 elsewhere in MoPPS);
    ``ts_ratio`` x k candidates are drawn; ``mode``: ``nearest_half`` keeps the k draws nearest 1/2,
    ``band`` picks at random among draws in [band_low, band_high] and fills by distance to 1/2."""

    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    lam: float = 1.0
    ts_ratio: int = 16
    mode: Literal["nearest_half", "band"] = "nearest_half"
    band_low: float = 0.3
    band_high: float = 0.7

    def check(self) -> None:
        require(self.prior_alpha > 0, "prior_alpha", self.prior_alpha, "a positive number")
        require(self.prior_beta > 0, "prior_beta", self.prior_beta, "a positive number")
        require(0 <= self.lam <= 1, "lam", self.lam, "a number in [0, 1]")
        require(self.ts_ratio >= 1, "ts_ratio", self.ts_ratio, "an integer >= 1")
        require(0 <= self.band_low <= self.band_high <= 1, "band_low", (self.band_low, self.band_high), "0 <= band_low <= band_high <= 1")


@register
class Thompson(PromptSelector):
    """MoPPS: Thompson draws from discounted Beta posteriors; keep the prompts whose draw is nearest 1/2."""

    name = "thompson"
    Params = ThompsonParams

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        p = self.params
        self.post = BetaPosteriors(info.n_prompts, p.prior_alpha, p.prior_beta, p.lam)

    def select(self, k: int, view: StepView) -> np.ndarray:
        n = self.info.n_prompts
        cand = self.rng.choice(n, size=min(n, self.params.ts_ratio * k), replace=False)
        draw = self.rng.beta(self.post.alpha[cand], self.post.beta[cand])
        dist = (draw - 0.5) ** 2
        if self.params.mode == "band":
            inside = (draw >= self.params.band_low) & (draw <= self.params.band_high)
            dist = np.where(inside, -self.rng.random(len(cand)), dist)  # in-band first, in random order
        chosen = cand[np.argsort(dist, kind="stable")[:k]]
        if len(chosen) < k:  # fewer prompts than asked: repeat, as a sampler with replacement would
            chosen = np.concatenate([chosen, self.rng.choice(n, k - len(chosen))])
        return chosen.astype(np.int64)

    def observe(self, view: StepView, keep: np.ndarray, advantage: np.ndarray) -> None:
        self.post.update(view)
