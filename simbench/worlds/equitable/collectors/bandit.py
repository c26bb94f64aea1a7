"""A UCB bandit over groups on the observed marginal objective gain per unit cost."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.equitable.collectors.base import Collector, CollectState, split


@dataclass(frozen=True)
class BanditParams:
    """Each batch goes to the group with the highest UCB of its gain per unit cost; ``c``: exploration."""

    c: float = 1.0

    def check(self) -> None:
        require(self.c >= 0, "c", self.c, "a non-negative number")


@register
class Bandit(Collector):
    """Bandit: UCB on the validation objective's gain per unit cost of a batch from each group."""

    name = "bandit"
    Params = BanditParams

    def reset(self, info, rng) -> None:
        super().reset(info, rng)
        self.rewards: list[list[float]] = []
        self.last = None

    def plan(self, state: CollectState) -> np.ndarray:
        K = len(state.costs)
        if not self.rewards:
            self.rewards = [[] for _ in range(K)]
        if self.last is not None and len(state.history) >= 2:
            g, spent = self.last
            gain = state.history[-1][2] - state.history[-2][2]
            self.rewards[g].append(gain / max(spent, 1e-12))
        pulls = np.array([len(r) for r in self.rewards])
        if (pulls == 0).any():
            g = int(np.flatnonzero(pulls == 0)[0])  # pull every arm once, in order
        else:
            mean = np.array([np.mean(r) for r in self.rewards])
            scale = max(np.abs(np.concatenate(self.rewards)).max(), 1e-12)
            ucb = mean + self.params.c * scale * np.sqrt(2 * np.log(pulls.sum()) / pulls)
            g = int(np.argmax(ucb))
        w = np.zeros(K)
        w[g] = 1.0
        plan = split(w, state)
        self.last = (g, float(plan @ state.costs))
        return plan
