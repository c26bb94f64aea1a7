"""Success curves from estimated pass rates, shared by the allocators that plan with them."""
from __future__ import annotations

import numpy as np

from simbench.worlds.inference.roles import View


def estimated_pass_rate(view: View) -> np.ndarray:
    """Per query, the posterior mean ``(accepted + 1) / (n + 2)`` of its acceptance rate (uniform prior)."""
    cols = np.arange(view.answer.shape[1])[None, :] < view.n[:, None]
    accepted = (view.accept & cols).sum(axis=1)
    return (accepted + 1.0) / (view.n + 2.0)


def mean_score(view: View) -> np.ndarray:
    """Per query, the mean verifier score of its samples (0 before any): the verifier's view of its difficulty."""
    cols = np.arange(view.answer.shape[1])[None, :] < view.n[:, None]
    s = np.where(cols & np.isfinite(view.score), view.score, 0.0).sum(axis=1)
    return s / np.maximum(view.n, 1)


def quantile_bins(d: np.ndarray, keys: np.ndarray, bins: int) -> np.ndarray:
    """Bin index 0 (hardest, lowest ``d``) .. bins - 1 of every query by rank of (d, key): equal-count bins, order-free."""
    rank = np.empty(len(d), np.int64)
    rank[np.lexsort((keys, d))] = np.arange(len(d))
    return rank * bins // max(len(d), 1)
