"""Kimi k1.5-style prioritised sampling: prompts drawn in proportion to 1 - success rate."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.roles import PromptSelector, StepView


@register
class Kimi(PromptSelector):
    """Kimi k1.5: sample prompts with probability proportional to 1 - tracked success rate (unseen: 1)."""

    name = "kimi"

    def select(self, k: int, view: StepView) -> np.ndarray:
        h = view.history
        s = np.where(h.n > 0, h.pos / np.maximum(h.n, 1), 0.0)
        w = 1.0 - s
        n = self.info.n_prompts
        live = int(np.count_nonzero(w > 0))
        if live >= k:
            return self.rng.choice(n, size=k, replace=False, p=w / w.sum()).astype(np.int64)
        # fewer prompts with weight than slots: all of them, then the solved ones uniformly
        first = np.flatnonzero(w > 0)
        rest = self.rng.choice(np.flatnonzero(w == 0), size=min(k - live, n - live), replace=False)
        out = np.concatenate([first, rest])
        if len(out) < k:
            out = np.concatenate([out, self.rng.choice(n, k - len(out))])
        return out.astype(np.int64)
