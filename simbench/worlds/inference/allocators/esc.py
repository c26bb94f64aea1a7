"""Early-Stopping Self-Consistency (Li et al., ICLR 2024, arXiv 2401.10480; reference ``Yiwei98/ESC``).

Samples in windows of ``window``; a query stops once every answer of its latest window agrees (window entropy 0)
or at ``max_samples``.  Defaults of the reference code: window 5, 40 samples.  Expected samples, with
``q = sum_a pi_a^w`` the chance that a window is unanimous: ``E[N] = w (1 - (1 - q)^(L/w)) / q``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.roles import InferenceAllocator, View, fit


@dataclass(frozen=True)
class ESCParams:
    """``window``: samples per window; ``max_samples``: the most a query gets (a multiple of the window)."""

    window: int = 5
    max_samples: int = 40

    def check(self) -> None:
        require(self.window >= 1, "window", self.window, "an integer >= 1")
        require(self.max_samples >= self.window and self.max_samples % self.window == 0, "max_samples", self.max_samples,
                f"a multiple of window = {self.window}")


def window_unanimous(view: View, w: int) -> np.ndarray:
    """Per query: it has >= w samples and its last w answers are one and the same answer."""
    idx = np.clip(view.n[:, None] - w + np.arange(w)[None, :], 0, None)
    last = np.take_along_axis(view.answer, np.minimum(idx, max(view.answer.shape[1] - 1, 0)), axis=1) if view.answer.shape[1] else None
    if last is None:
        return np.zeros(view.n_queries, bool)
    return (view.n >= w) & (last == last[:, :1]).all(axis=1) & (last[:, 0] >= 0)


def expected_samples(pi, window: int, max_samples: int) -> float:
    """ESC's expected number of samples when answers are drawn i.i.d. from ``pi`` (the reference's control scheme)."""
    q = float(np.sum(np.asarray(pi, float) ** window))
    return window * (1 - (1 - q) ** (max_samples // window)) / q


@register
class ESC(InferenceAllocator):
    """ESC: windows of 5 samples until a window is unanimous, at most 40; the majority answer."""

    name = "esc"
    Params = ESCParams

    def allocate(self, view: View) -> np.ndarray:
        w, top = self.params.window, self.params.max_samples
        done = window_unanimous(view, w) | (view.n >= top)
        return fit(np.where(done, 0, np.minimum(w, top - view.n)), view)
