"""Best-of-N: the answer of the highest-scored sample."""
from __future__ import annotations

from simbench.registry import register
from simbench.worlds.inference.answers import best_scored
from simbench.worlds.inference.roles import Picker, View


@register
class BestOfN(Picker):
    """Best-of-N: the answer of the sample with the highest verifier score (the first such sample on ties)."""

    name = "bon"

    def pick(self, view: View):
        return best_scored(view.answer, view.score, view.n, 0.0)
