"""Input-adaptive allocation by marginal gain (Damani et al., ICLR 2025).

Each query's success curve ``rho_q(n) = 1 - (1 - p_q)^n`` (an oracle or verifier picker) is predicted from
``p_hat_q``, the posterior mean of its acceptance rate after ``probe_samples`` probes (``oracle``: the true pass rate,
no probes); the remaining budget goes greedily to the largest marginal gains ``p (1 - p)^n``, computed in closed form
by water-filling: every query gets the samples whose gain is above one level, the left-over samples to the next
largest gains (ties by the queries' keys).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.allocators._curves import estimated_pass_rate
from simbench.worlds.inference.roles import InferenceAllocator, View, fit


@dataclass(frozen=True)
class MarginalGainParams:
    """``probe_samples`` per query (charged to the budget); ``oracle``: plan with the true pass rates."""

    probe_samples: int = 4
    oracle: bool = False

    def check(self) -> None:
        require(self.probe_samples >= 1, "probe_samples", self.probe_samples, "an integer >= 1")


def samples_above(p: np.ndarray, n0: np.ndarray, level: float) -> np.ndarray:
    """Per query, how many samples beyond ``n0`` have marginal gain ``p (1 - p)^n >= level``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        top = np.where(p >= 1.0, np.where(p >= level, 1.0, 0.0),
                       np.where(p > 0, np.floor(np.log(level / p) / np.log1p(-p)) + 1.0, 0.0))
    top = np.where((p > 0) & (p >= level), np.maximum(top, 1.0), 0.0)
    return np.maximum(np.minimum(top, 1e12) - n0, 0).astype(np.int64)


def water_fill(p: np.ndarray, n0: np.ndarray, room: int, keys: np.ndarray) -> np.ndarray:
    """The greedy allocation of ``room`` samples by marginal coverage gain, beyond the ``n0`` samples drawn."""
    lo, hi = 1e-300, 1.0
    if samples_above(p, n0, lo).sum() <= room:
        return samples_above(p, n0, lo)
    for _ in range(200):  # bisection on the log of the level
        mid = np.sqrt(lo * hi)
        if samples_above(p, n0, mid).sum() > room:
            lo = mid
        else:
            hi = mid
    out = samples_above(p, n0, hi)
    left = room - int(out.sum())
    nxt = p * (1.0 - p) ** (n0 + out)
    order = np.lexsort((keys, -nxt))
    out[order[:left]] += 1
    return out


@register
class MarginalGain(InferenceAllocator):
    """Marginal gain: probe, then give each next sample to the query whose predicted coverage gains most from it."""

    name = "marginal_gain"
    Params = MarginalGainParams
    default_picker = "oracle_any"

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.uses_oracle = self.params.oracle

    def allocate(self, view: View) -> np.ndarray:
        Q, P = view.n_queries, self.params
        if not P.oracle and view.wave == 0:
            return fit(np.full(Q, P.probe_samples), view)
        if view.wave > (0 if P.oracle else 1):
            return np.zeros(Q, np.int64)
        p = view.oracle_p if P.oracle else estimated_pass_rate(view)
        return fit(water_fill(p, view.n, view.room(), view.keys), view)
