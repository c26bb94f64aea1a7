"""What a collector sees and the shared rounding under budget."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simbench.core.roles import Role


@dataclass
class CollectState:
    """The collection so far.

    Attributes
    ----------
    batch : index of the batch being planned (from 0).
    n : (K,) samples collected per group (training and validation parts).
    spent, remaining : budget spent and left, in cost units.
    batch_size : samples per batch.
    costs, shares : (K,) cost per sample and population share per group.
    history : list of (n per group, validation performance per group, validation objective) after each batch.
    objective : callable from a performance vector to the objective's value.
    probe : callable(scale) -> validation performance per group of the PRS refitted with
        each group's training statistics weighted by ``scale`` (an expected subsample).
    """

    batch: int
    n: np.ndarray
    spent: float
    remaining: float
    batch_size: int
    costs: np.ndarray
    shares: np.ndarray
    history: list = field(default_factory=list)
    objective: object = None
    objective_spec: object = None
    oracle_curves: list | None = None
    probe: object = None


class Collector(Role):
    """Plans the next batch: (K,) non-negative integers, at most ``batch_size`` in all, within the remaining budget."""

    role = "collector"

    def plan(self, state: CollectState) -> np.ndarray:
        raise NotImplementedError


def split(weights: np.ndarray, state: CollectState) -> np.ndarray:
    """Integers proportional to ``weights`` summing to the batch (fewer if the budget is short), within budget.

    Largest-remainder rounding from the floor (not ``gvm.largest_remainder``, which starts from
    round-half-to-even and so breaks some ties the other way, e.g. (1.5, 1.5, 0) to 3: results
    would change); then, while over budget, one sample less from the
    group whose removal saves the most (ties: the lowest index).  Equivariant
    to the order of groups up to exact ties.
    """
    w = np.clip(np.asarray(weights, float), 0, None)
    if w.sum() <= 0:
        w = np.ones(len(w))
    affordable = int(np.floor(state.remaining / state.costs.min() + 1e-9)) if np.isfinite(state.remaining) else state.batch_size
    size = max(0, min(state.batch_size, affordable))
    x = w / w.sum() * size
    k = np.floor(x).astype(np.int64)
    short = size - int(k.sum())
    if short > 0:
        k[np.argsort(-(x - k), kind="stable")[:short]] += 1
    while k.sum() > 0 and float(k @ state.costs) > state.remaining + 1e-9:
        cand = np.flatnonzero(k > 0)
        k[cand[np.argmax(state.costs[cand])]] -= 1
    return k
