"""Best-of-Majority (arXiv 2510.03199): Best-of-N among the answers sampled often enough.

Keeps the answers whose share of the samples is at least ``alpha`` and returns the
highest-scored sample among them; ``alpha = 0`` is Best-of-N sample for sample.
Regret (the paper's bounds): BoM's is ``eps_opt + O(sqrt(C* eps_RM^2 / k)) + O(C* exp(-N / (32 C*)))``, the last term
vanishing once ``N >= 16 C* log(k C* / eps_RM^2)``; a matching lower bound holds for every algorithm (minimax
optimal, scaling-monotonic).  Majority vote has Omega(1) regret even with a perfect reward model once
``N >= 9 C* log(2k + 2)``; Best-of-N's grows as ``Omega(min(1, sqrt(N eps_RM^2 / k)))`` once ``N > C*``.
"""
from __future__ import annotations

from dataclasses import dataclass

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.answers import best_scored
from simbench.worlds.inference.roles import Picker, View


@dataclass(frozen=True)
class BoMParams:
    """``alpha``: the least share of samples an answer needs to be considered (the paper's experiments: 0.005; 0.015 at N = 100)."""

    alpha: float = 0.005

    def check(self) -> None:
        require(0 <= self.alpha <= 1, "alpha", self.alpha, "a share in [0, 1]")


@register
class BestOfMajority(Picker):
    """Best-of-Majority: the highest-scored sample among answers with a share >= alpha (alpha = 0: Best-of-N)."""

    name = "bom"
    Params = BoMParams

    def pick(self, view: View):
        return best_scored(view.answer, view.score, view.n, self.params.alpha)
