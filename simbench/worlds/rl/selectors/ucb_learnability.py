"""UCB on learnability p(1 - p) from per-prompt Beta posteriors."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.roles import PromptSelector, RunInfo, StepView
from simbench.worlds.rl.selectors._posterior import BetaPosteriors, top_k


@dataclass(frozen=True)
class UCBLearnabilityParams:
    """Prior Beta(prior_alpha, prior_beta); ``level``: the credible interval's coverage; ``lam``: discount."""

    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    level: float = 0.9
    lam: float = 1.0

    def check(self) -> None:
        require(0 < self.level < 1, "level", self.level, "a number in (0, 1)")
        require(0 <= self.lam <= 1, "lam", self.lam, "a number in [0, 1]")


def learnability_ucb(alpha: np.ndarray, beta: np.ndarray, level: float) -> np.ndarray:
    """Upper confidence bound of p(1-p): 1/4 if the credible interval holds 1/2, else at its end nearest 1/2."""
    from scipy import stats  # imported when first needed: listing the roles must not load scipy.stats

    lo = stats.beta.ppf((1 - level) / 2, alpha, beta)
    hi = stats.beta.ppf((1 + level) / 2, alpha, beta)
    nearest = np.clip(0.5, lo, hi)
    return nearest * (1 - nearest)


@register
class UCBLearnability(PromptSelector):
    """UCB on learnability p(1-p): prompts whose credible interval reaches p = 1/2 first."""

    name = "ucb_learnability"
    Params = UCBLearnabilityParams

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        p = self.params
        self.post = BetaPosteriors(info.n_prompts, p.prior_alpha, p.prior_beta, p.lam)

    def select(self, k: int, view: StepView) -> np.ndarray:
        score = learnability_ucb(self.post.alpha, self.post.beta, self.params.level)
        chosen = top_k(score, min(k, self.info.n_prompts), self.rng)
        if len(chosen) < k:
            chosen = np.concatenate([chosen, self.rng.choice(self.info.n_prompts, k - len(chosen))]).astype(np.int64)
        return chosen

    def observe(self, view: StepView, keep: np.ndarray, advantage: np.ndarray) -> None:
        self.post.update(view)
