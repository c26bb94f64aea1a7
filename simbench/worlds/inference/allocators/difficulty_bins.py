"""Compute-optimal allocation by difficulty bins (Snell et al., arXiv 2408.03314).

Difficulty is each query's mean verifier score over ``probe_samples`` probes (Snell's model-predicted difficulty;
``oracle_difficulty``: the true pass rate, probes free, as Snell who does not count this cost), binned into
``bins`` equal-count quantiles.  Snell selects each bin's hyper-parameters by cross-validation; here (a simbench
option, not in Snell) the remaining budget is re-allocated across bins: one sample more to every query of the bin with
the largest estimated gain in coverage per sample, greedily, each bin's queries sharing one N.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.allocators._curves import estimated_pass_rate, mean_score, quantile_bins
from simbench.worlds.inference.roles import InferenceAllocator, View, fit


@dataclass(frozen=True)
class DifficultyBinsParams:
    """``probe_samples`` per query (charged to the budget), ``bins`` (Snell: 5 quantiles), ``oracle_difficulty``."""

    probe_samples: int = 16
    bins: int = 5
    oracle_difficulty: bool = False

    def check(self) -> None:
        require(self.probe_samples >= 1, "probe_samples", self.probe_samples, "an integer >= 1")
        require(self.bins >= 1, "bins", self.bins, "an integer >= 1")


def bin_targets(p_hat: np.ndarray, bins: np.ndarray, n0: np.ndarray, room: int) -> np.ndarray:
    """Per query, the samples its bin's shared N gives it beyond ``n0``, N grown greedily by coverage gain per sample."""
    labels = np.unique(bins)
    members = [bins == b for b in labels]
    N = np.array([int(n0[m].max()) for m in members])
    size = np.array([int(m.sum()) for m in members])
    miss = [1.0 - p_hat[m] for m in members]
    cost = np.array([int((n0[m] <= N[i]).sum()) for i, m in enumerate(members)])  # queries that one more N adds a sample to
    p_bin = [p_hat[m] for m in members]
    value = lambda i: float((miss[i] ** N[i] * p_bin[i]).mean()) * size[i] / max(int(cost[i]), 1)  # noqa: E731  gain per sample
    gain = np.array([value(i) for i in range(len(labels))])
    while True:
        best = int(np.argmax(np.where(cost > room, -1.0, gain)))
        if gain[best] <= 0 or cost[best] > room:
            break
        room -= cost[best]
        N[best] += 1
        cost[best] = int((n0[members[best]] <= N[best]).sum())
        gain[best] = value(best)  # only the grown bin's gain changes
    out = np.zeros(len(p_hat), np.int64)
    for i, m in enumerate(members):
        out[m] = np.maximum(N[i] - n0[m], 0)
    return out


@register
class DifficultyBins(InferenceAllocator):
    """Difficulty bins: probe, bin queries into difficulty quintiles, then grow each bin's N by coverage gain per sample."""

    name = "difficulty_bins"
    Params = DifficultyBinsParams

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.uses_oracle = self.params.oracle_difficulty

    def allocate(self, view: View) -> np.ndarray:
        Q, P = view.n_queries, self.params
        if not P.oracle_difficulty and view.wave == 0:
            return fit(np.full(Q, P.probe_samples), view)
        if view.wave > (0 if P.oracle_difficulty else 1):
            return np.zeros(Q, np.int64)
        d = view.oracle_p if P.oracle_difficulty else mean_score(view)
        p_hat = view.oracle_p if P.oracle_difficulty else estimated_pass_rate(view)
        return fit(bin_targets(p_hat, quantile_bins(d, view.keys, P.bins), view.n, view.room()), view)
