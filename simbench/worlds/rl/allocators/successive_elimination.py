"""Successive elimination within a step, with a Bayesian stopping rule."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.allocators._budget import fit_whole_groups
from simbench.worlds.rl.roles import SampleAllocator, StepView


@dataclass(frozen=True)
class SuccessiveEliminationParams:
    """Waves of ``round_size`` samples per active prompt, at most ``max_per_prompt`` per step.

    A prompt stops once P(its group is mixed | data) >= 1 - ``delta`` (with exact 0/1 rewards:
    once it has a correct and a wrong answer), or once the posterior-expected gain of one more
    round, P(the next round makes the group mixed | data), per sample falls below ``price``.
    The posterior is Beta(prior + all the prompt's earlier samples + this step's).
    """

    round_size: int = 4
    max_per_prompt: int = 32
    delta: float = 0.05
    price: float = 0.01
    prior_alpha: float = 1.0
    prior_beta: float = 1.0

    def check(self) -> None:
        require(self.round_size >= 1, "round_size", self.round_size, "an integer >= 1")
        require(self.max_per_prompt >= self.round_size, "max_per_prompt", self.max_per_prompt, "an integer >= round_size")
        require(0 < self.delta < 1, "delta", self.delta, "a number in (0, 1)")
        require(self.price >= 0, "price", self.price, "a non-negative number")


def gain_of_next_round(a: np.ndarray, b: np.ndarray, pos: np.ndarray, neg: np.ndarray, r: int) -> np.ndarray:
    """P(the group becomes mixed after r more samples | Beta(a, b) posterior, pos and neg so far)."""
    from scipy.special import betaln  # imported when first needed: listing the roles must not load scipy

    # no answer yet: P(r samples are mixed) = 1 - E p^r - E (1-p)^r; all correct so far: P(a wrong one) = 1 - E p^r; all wrong: 1 - E (1-p)^r
    e_pr = np.exp(betaln(a + r, b) - betaln(a, b))
    e_qr = np.exp(betaln(a, b + r) - betaln(a, b))
    none = np.where(r >= 2, 1 - e_pr - e_qr, 0.0)
    return np.where((pos == 0) & (neg == 0), none, np.where(neg == 0, 1 - e_pr, np.where(pos == 0, 1 - e_qr, 0.0)))


@register
class SuccessiveElimination(SampleAllocator):
    """Successive elimination: rounds per prompt until a mixed group is (1-delta) sure or another round is not worth its price."""

    name = "successive_elimination"
    Params = SuccessiveEliminationParams

    def allocate(self, view: StepView) -> np.ndarray:
        p = self.params
        h = view.history
        neg = view.drawn - view.pos
        a = p.prior_alpha + h.pos[view.prompts] + view.pos
        b = p.prior_beta + (h.n - h.pos)[view.prompts] + neg
        mixed_prob = ((view.pos > 0) & (neg > 0)).astype(float)  # exact 0/1 rewards: certain once both are seen
        r = np.minimum(p.round_size, p.max_per_prompt - view.drawn)
        gain = gain_of_next_round(a, b, view.pos, neg, p.round_size)
        go = (mixed_prob < 1 - p.delta) & (r > 0) & (gain / p.round_size >= p.price)
        if view.wave > 0:
            go &= view.drawn > 0  # a slot the budget skipped in the first wave never started
        want = np.where(go, r, 0).astype(np.int64)
        return fit_whole_groups(want, view.cost, view.budget_left)
