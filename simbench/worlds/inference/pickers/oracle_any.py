"""Coverage (pass@k): a query is solved if any of its samples is correct (Brown et al., arXiv 2407.21787)."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.inference.roles import Picker, View


@register
class OracleAny(Picker):
    """Coverage: the correct answer if any sample has it (an oracle verifier); else the first sample's answer."""

    name = "oracle_any"

    def pick(self, view: View) -> np.ndarray:
        cols = np.arange(view.answer.shape[1])[None, :] < view.n[:, None]
        hit = ((view.answer == 0) & cols).any(axis=1)
        first = np.where(view.n > 0, view.answer[:, 0] if view.answer.shape[1] else -1, -1)
        return np.where(hit, 0, first).astype(np.int64)
