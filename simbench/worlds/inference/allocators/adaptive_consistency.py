"""Adaptive-Consistency (Aggarwal et al., EMNLP 2023, arXiv 2305.11860; reference ``Pranjal2041/AdaptiveConsistency``).

One sample at a time per query; after each, a stopping criterion on the answer counts; at most ``max_gens``.
Criteria and thresholds as in the reference's ``stopping_criterias.py``: ``beta`` (default; with v1, v2 the two
largest counts, stop when ``P(x > 1/2)`` under a density ``x^v1 (1 - x)^v2`` is >= 0.95), ``dirichlet`` (the same over
the five most frequent answers, by Monte Carlo; ``beta`` below three distinct answers), ``entropy`` (normalised
entropy <= 0.75), ``majority`` (top share >= 0.8), ``random`` (stop with probability 0.1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import betainc

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.roles import InferenceAllocator, View, fit

THRESHOLDS = {"beta": 0.95, "dirichlet": 0.95, "entropy": 0.75, "majority": 0.8, "random": 0.1}


@dataclass(frozen=True)
class ACParams:
    """``criterion`` and its ``threshold`` (0: the reference's default for it); ``max_gens``: samples at most;
    ``mc_draws``: Monte-Carlo draws of the ``dirichlet`` criterion."""

    criterion: Literal["beta", "dirichlet", "entropy", "majority", "random"] = "beta"
    threshold: float = 0.0
    max_gens: int = 40
    mc_draws: int = 4096

    def check(self) -> None:
        require(0 <= self.threshold <= 1, "threshold", self.threshold, "a number in [0, 1] (0: the criterion's default)")
        require(self.max_gens >= 1, "max_gens", self.max_gens, "an integer >= 1")
        require(self.mc_draws >= 16, "mc_draws", self.mc_draws, "an integer >= 16")


def beta_confidence(v1, v2) -> np.ndarray:
    """``int_{1/2}^1 x^v1 (1-x)^v2 dx / int_0^1 x^v1 (1-x)^v2 dx``: the Beta(v1 + 1, v2 + 1) mass above one half."""
    return 1.0 - betainc(np.asarray(v1, float) + 1.0, np.asarray(v2, float) + 1.0, 0.5)


def _counts(row: np.ndarray) -> np.ndarray:
    _, c = np.unique(row[row >= 0], return_counts=True)
    return np.sort(c)[::-1]


@register
class AdaptiveConsistency(InferenceAllocator):
    """Adaptive-Consistency: one sample at a time until a stopping criterion (default Beta, 0.95) fires; at most 40."""

    name = "adaptive_consistency"
    Params = ACParams

    @property
    def threshold(self) -> float:
        return self.params.threshold or THRESHOLDS[self.params.criterion]

    def stop(self, view: View) -> np.ndarray:
        """Per query: the criterion fires on its answers so far (never before the first sample)."""
        crit, t = self.params.criterion, self.threshold
        has = view.n > 0
        if crit == "random":
            return has & (view.uniforms(12) < t)
        v1, v2, distinct = view.votes()
        if crit == "beta":
            return has & (beta_confidence(v1, v2) >= t)
        out = np.zeros(view.n_queries, bool)
        for q in np.flatnonzero(view.n > 1 if crit in ("entropy", "majority") else has):
            c = _counts(view.answer[q, :view.n[q]])
            if c.size == 0:
                continue
            if crit == "majority":
                out[q] = c[0] / view.n[q] >= t
            elif crit == "entropy":
                c = np.append(c, 1) if c.size < 2 else c  # the reference pads a single answer with a count of 1
                prob = c / c.sum()
                out[q] = -(prob * np.log2(prob)).sum() / np.log2(c.size) <= t
            else:
                out[q] = self._dirichlet(c, view, q) >= t
        return out

    def _dirichlet(self, c: np.ndarray, view: View, q: int) -> float:
        if c.size < 3:
            return float(beta_confidence(c[0], c[1] if c.size > 1 else 0))
        top = c[:5]
        rng = np.random.default_rng([int(view.keys[q]), int(view.n[q])])  # the query's own draws: order-free
        x = rng.dirichlet(top + 1.0, self.params.mc_draws)
        return float(np.mean(x[:, 0] > x[:, 1:].max(axis=1)))

    def allocate(self, view: View) -> np.ndarray:
        done = self.stop(view) | (view.n >= self.params.max_gens)
        return fit(np.where(done, 0, 1), view)
