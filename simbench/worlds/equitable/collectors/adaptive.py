"""Adaptive collection (Cai et al.'s approach): re-fit learning curves after each batch, re-solve, move towards it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.equitable.collectors.base import Collector, CollectState, split
from simbench.worlds.equitable.collectors.solve import best_allocation, towards
from simbench.worlds.equitable.curves import fit_curve


@dataclass(frozen=True)
class AdaptiveParams:
    """``warmup``: batches split equally before the first fit; ``fractions``: subsample sizes probed per group
    after each batch (each group's own data scaled down, the others' kept), giving points of its own curve."""

    warmup: int = 2
    fractions: tuple[float, ...] = (0.25, 0.5)

    def check(self) -> None:
        require(self.warmup >= 1, "warmup", self.warmup, "an integer >= 1")
        require(all(0 < f < 1 for f in self.fractions), "fractions", self.fractions, "numbers in (0, 1)")


@register
class Adaptive(Collector):
    """Adaptive: fit perf_g(n) = e - a n^-b per group on validation data after each batch, solve the rest with cvxpy."""

    name = "adaptive"
    Params = AdaptiveParams

    def reset(self, info, rng) -> None:
        super().reset(info, rng)
        self.target = None
        self.points: list[list[tuple[float, float]]] = []

    def plan(self, state: CollectState) -> np.ndarray:
        K = len(state.costs)
        if not self.points:
            self.points = [[] for _ in range(K)]
        if len(state.history) >= 2:
            n_now, val_now = state.history[-1][0], state.history[-1][1]
            for g in range(K):
                self.points[g].append((float(n_now[g]), float(val_now[g])))
            if state.probe is not None:
                for f in self.params.fractions:
                    for g in range(K):
                        scale = np.ones(K)
                        scale[g] = f
                        self.points[g].append((f * float(n_now[g]), float(state.probe(scale)[g])))
        if state.batch < self.params.warmup:
            return split(np.ones(K), state)
        curves = [fit_curve(*np.array(self.points[g]).T) for g in range(K)]
        self.target = best_allocation(curves, state.costs, state.shares, state.objective_spec, state.spent + state.remaining, state.n)
        return split(towards(self.target, state), state)
