"""Adaptive inference-time compute by self-evaluation (Manvi et al., arXiv 2410.02725).

Before (and mid-way through) each sample the model gives a noisy estimate of its success probability,
``s = clip(p_q + sigma z)``; the query is sampled again while the estimated probability that a new sample does
better, ``1 - s``, exceeds ``threshold``, up to ``max_samples``; a sample whose mid-generation estimate is below
``prune_below`` is pruned at ``prune_fraction`` of its length (saving ``(1 - f) L`` tokens; it gives no answer).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.roles import Allocation, InferenceAllocator, View, fit


@dataclass(frozen=True)
class SelfEvalParams:
    """``max_samples``, ``threshold`` on ``1 - s``, the signal's noise ``sigma``, ``prune_below``, ``prune_fraction``
    [simbench defaults; the paper reports 16 samples at most]."""

    max_samples: int = 16
    threshold: float = 0.5
    sigma: float = 0.1
    prune_below: float = 0.05
    prune_fraction: float = 0.25

    def check(self) -> None:
        require(self.max_samples >= 1, "max_samples", self.max_samples, "an integer >= 1")
        require(0 <= self.threshold <= 1, "threshold", self.threshold, "a probability in [0, 1]")
        require(self.sigma >= 0, "sigma", self.sigma, "a non-negative number")
        require(0 <= self.prune_below <= 1, "prune_below", self.prune_below, "a probability in [0, 1]")
        require(0 < self.prune_fraction <= 1, "prune_fraction", self.prune_fraction, "a fraction in (0, 1]")


@register
class SelfEvalPrune(InferenceAllocator):
    """Self-evaluation: resample while the model doubts its answer; prune samples it expects to fail mid-way."""

    name = "self_eval_prune"
    Params = SelfEvalParams
    default_picker = "bon"

    def reset(self, info, rng) -> None:
        super().reset(info, rng)
        self.last = None

    def allocate(self, view: View) -> Allocation:
        P = self.params
        s = view.self_eval(P.sigma)
        go = view.n == 0
        if self.last is not None:
            go |= (1.0 - self.last > P.threshold) & (view.n < P.max_samples)
        count = fit(go.astype(np.int64), view)
        self.last = np.where(count > 0, s, self.last if self.last is not None else s)
        return Allocation(count, fraction=np.where(s < P.prune_below, P.prune_fraction, 1.0))
