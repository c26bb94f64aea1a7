"""Best-of-N weighted (Snell et al., arXiv 2408.03314, section 5.1): the answer with the largest sum of scores."""
from __future__ import annotations

from simbench.registry import register
from simbench.worlds.inference.answers import tally
from simbench.worlds.inference.roles import Picker, View


@register
class BestOfNWeighted(Picker):
    """Best-of-N weighted: the answer whose samples' scores sum highest (ties at random from the tape)."""

    name = "bon_weighted"

    def pick(self, view: View):
        return tally(view.answer, view.n, view.score, view.uniforms(), 0.0)[0]
