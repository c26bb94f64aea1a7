"""Majority vote weighted by the reward model (Brown et al., arXiv 2407.21787, appendix D).

Each sample votes with its reward mapped to a probability by a logistic, so that a
negative score lowers a vote's weight without casting a vote against the answer
(simbench's reading; ``bon_weighted`` sums the raw scores).
"""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.inference.answers import tally
from simbench.worlds.inference.roles import Picker, View


@register
class RewardMajority(Picker):
    """Reward-weighted majority: votes weighted by the logistic of each sample's reward (ties at random from the tape)."""

    name = "rm_majority"

    def pick(self, view: View):
        weight = 1.0 / (1.0 + np.exp(-view.score))
        return tally(view.answer, view.n, weight, view.uniforms(), 0.0)[0]
