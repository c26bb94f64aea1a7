"""Per-prompt Beta posteriors kept by selectors across steps (optionally discounted)."""
from __future__ import annotations

import numpy as np

from simbench.worlds.rl.roles import StepView


class BetaPosteriors:
    """alpha_i, beta_i for every train prompt, prior (a0, b0), discount ``lam`` (1: no forgetting).

    MoPPS's update for a prompt seen with s successes out of k:
    alpha <- lam alpha + (1 - lam) a0 + s,  beta <- lam beta + (1 - lam) b0 + k - s.
    """

    def __init__(self, n: int, a0: float = 1.0, b0: float = 1.0, lam: float = 1.0):
        self.a0, self.b0, self.lam = a0, b0, lam
        self.alpha = np.full(n, a0)
        self.beta = np.full(n, b0)

    def update(self, view: StepView) -> None:
        got = view.drawn > 0
        pr = view.prompts[got]
        s = np.zeros(len(self.alpha))
        k = np.zeros(len(self.alpha))
        np.add.at(s, pr, view.pos[got])
        np.add.at(k, pr, view.drawn[got])
        seen = np.unique(pr)
        lam = self.lam
        self.alpha[seen] = lam * self.alpha[seen] + (1 - lam) * self.a0 + s[seen]
        self.beta[seen] = lam * self.beta[seen] + (1 - lam) * self.b0 + (k - s)[seen]

    def mean(self) -> np.ndarray:
        return self.alpha / (self.alpha + self.beta)


def top_k(score: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``k`` largest scores, ties broken at random (so no prompt index is favoured)."""
    order = rng.permutation(len(score))
    best = order[np.argsort(-score[order], kind="stable")[:k]]
    return best.astype(np.int64)
