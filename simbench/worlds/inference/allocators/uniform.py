"""Repeated sampling with the same number of samples per query (Large Language Monkeys, Brown et al., arXiv 2407.21787)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.roles import InferenceAllocator, View, fit


@dataclass(frozen=True)
class UniformParams:
    """``n``: samples per query (0: the budget split evenly, the left-over samples one each to queries chosen by key)."""

    n: int = 0

    def check(self) -> None:
        require(self.n >= 0, "n", self.n, "an integer >= 0 (0: the budget split evenly)")


@register
class Uniform(InferenceAllocator):
    """Uniform: N = B / n_queries samples per query, in one parallel round."""

    name = "uniform"
    Params = UniformParams

    def allocate(self, view: View) -> np.ndarray:
        Q = view.n_queries
        if self.params.n:
            return fit(np.full(Q, self.params.n) if view.wave == 0 else np.zeros(Q, np.int64), view)
        # tokens are priced at the mean length: a round left budget over spends it in a further round
        return fit(np.full(Q, -(-view.room() // Q)), view)
