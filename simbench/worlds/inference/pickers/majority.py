"""Majority vote (self-consistency): the plurality answer."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.inference.answers import tally
from simbench.worlds.inference.roles import Picker, View


@register
class Majority(Picker):
    """Majority vote: the most frequent answer, ties broken uniformly at random from the query's tape."""

    name = "majority"

    def pick(self, view: View):
        return tally(view.answer, view.n, np.empty((view.n_queries, 0)), view.uniforms(), 0.0)[0]
