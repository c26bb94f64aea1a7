"""Resample until the verifier passes a sample (Stroebl et al., arXiv 2411.17501): with false positives it is bounded."""
from __future__ import annotations

from simbench.registry import register
from simbench.worlds.inference.answers import first_accepted
from simbench.worlds.inference.roles import Picker, View


@register
class ResampleUntilPass(Picker):
    """Resample until pass: the first sample the verifier accepts; abstain if none is accepted."""

    name = "resample_until_pass"

    def pick(self, view: View):
        return first_accepted(view.answer, view.accept, view.n)
