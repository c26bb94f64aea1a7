"""PODS: max-variance downsampling of each group to m samples (arXiv 2504.13818)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core._numba import jit
from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.roles import Downsampler, StepView


@dataclass(frozen=True)
class PODSParams:
    """Keep ``m`` of each group (reference: n = 64 drawn, m = 16 kept on one GPU)."""

    m: int = 16

    def check(self) -> None:
        require(self.m >= 1, "m", self.m, "an integer >= 1")


@jit
def pods_keep(slot, reward, n_slots, m):
    """Per slot: sort rewards descending (stable), keep top-i and bottom-(m-i) with the largest variance."""
    keep = np.zeros(slot.shape[0], np.bool_)
    order = np.argsort(slot, kind="mergesort")
    start = 0
    T = slot.shape[0]
    while start < T:
        s = slot[order[start]]
        end = start
        while end < T and slot[order[end]] == s:
            end += 1
        idx = order[start:end]
        size = end - start
        if size <= m:
            for t in idx:
                keep[t] = True
        else:
            r = reward[idx].astype(np.float64)
            desc = idx[np.argsort(-r, kind="mergesort")]
            rs = reward[desc].astype(np.float64)
            best_i, best_var = 0, -1.0
            for i in range(m + 1):
                tot = 0.0
                sq = 0.0
                for j in range(i):
                    tot += rs[j]
                    sq += rs[j] * rs[j]
                for j in range(size - (m - i), size):
                    tot += rs[j]
                    sq += rs[j] * rs[j]
                var = sq / m - (tot / m) ** 2
                if var > best_var + 1e-12:
                    best_var, best_i = var, i
            for j in range(best_i):
                keep[desc[j]] = True
            for j in range(size - (m - best_i), size):
                keep[desc[j]] = True
        start = end
    return keep


@register
class PODS(Downsampler):
    """PODS: keep the m samples of each group (top-i and bottom-(m-i) rewards) with the largest reward variance."""

    name = "pods"
    Params = PODSParams

    def keep(self, view: StepView) -> np.ndarray:
        return pods_keep(view.sample_slot, view.sample_reward, view.n_slots, self.params.m)
