"""DUMP: distribution-level UCB over data sources on mean |advantage| (arXiv 2504.09710)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.roles import PromptSelector, RunInfo, StepView


@dataclass(frozen=True)
class DUMPParams:
    """Reference defaults: window 300 advantages per source, exploration c = 1, softmax temperature 0.1."""

    window: int = 300
    c: float = 1.0
    tau: float = 0.1

    def check(self) -> None:
        require(self.window >= 1, "window", self.window, "an integer >= 1")
        require(self.c >= 0, "c", self.c, "a non-negative number")
        require(self.tau > 0, "tau", self.tau, "a positive number")


def dump_weights(windows: list, counts: np.ndarray, c: float, tau: float, available: np.ndarray) -> np.ndarray:
    """Softmax(UCB / tau) over sources; UCB_j = mean|A| over the window + c sqrt(2 ln(sum n + 1) / (n_j + 1))."""
    mu = np.array([np.mean(w) if len(w) else 0.0 for w in windows])
    ucb = mu + c * np.sqrt(2.0 * np.log(counts.sum() + 1.0) / (counts + 1.0))
    z = np.where(available, ucb / tau, -np.inf)
    z = z - z[available].max()
    w = np.exp(z)
    return w / w.sum()


@register
class DUMP(PromptSelector):
    """DUMP: each slot draws a data source from softmax(UCB/tau) on mean |advantage|, then a prompt uniformly."""

    name = "dump"
    Params = DUMPParams

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        G = len(info.group_names)
        self.members = [np.flatnonzero(info.group == g).astype(np.int64) for g in range(G)]
        self.available = np.array([len(m) > 0 for m in self.members])
        self.windows = [deque(maxlen=self.params.window) for _ in range(G)]
        self.counts = np.zeros(G)
        self.weights = dump_weights(self.windows, self.counts, self.params.c, self.params.tau, self.available)

    def select(self, k: int, view: StepView) -> np.ndarray:
        out = np.empty(k, np.int64)
        for s in range(k):  # per slot: a source, then a prompt of it uniformly with replacement (the reference's order)
            g = self.rng.choice(len(self.weights), p=self.weights)
            out[s] = self.members[g][self.rng.integers(len(self.members[g]))]
        return out

    def observe(self, view: StepView, keep: np.ndarray, advantage: np.ndarray) -> None:
        groups = view.group[view.sample_slot[keep]]
        for g, a in zip(groups.tolist(), np.abs(advantage[keep]).tolist()):
            self.windows[g].append(a)
            self.counts[g] += 1
        self.weights = dump_weights(self.windows, self.counts, self.params.c, self.params.tau, self.available)

    def step_metrics(self) -> dict:
        return {f"dump_weight_{name}": float(w) for name, w in zip(self.info.group_names, self.weights)}
