"""Beta posteriors of each slot's pass rate from what the engine recorded in earlier steps."""
from __future__ import annotations

import numpy as np

from simbench.worlds.rl.roles import StepView


def beta_posterior(view: StepView, a0: float, b0: float, evidence: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """Beta(a, b) per slot: the prior plus the prompt's outcomes.

    ``evidence``: ``all`` (every earlier step, ``history.n`` / ``history.pos``)
    or ``last`` (only the prompt's latest step, since the policy moves on).
    Samples already drawn in this step (``view.drawn`` / ``view.pos``) count too.
    Never reads the latent truth.
    """
    h = view.history
    if evidence == "all":
        n, s = h.n[view.prompts], h.pos[view.prompts]
    elif evidence == "last":
        n, s = h.last_n[view.prompts], h.last_pos[view.prompts]
    else:
        raise ValueError(f"unknown evidence {evidence!r}; allowed: 'all', 'last'")
    n = n + view.drawn
    s = s + view.pos
    return a0 + s.astype(np.float64), b0 + (n - s).astype(np.float64)


def canonical_order(prompts: np.ndarray) -> np.ndarray:
    """Slot order by prompt id (then slot): solving in this order makes results independent of slot order."""
    return np.lexsort((np.arange(len(prompts)), prompts))
