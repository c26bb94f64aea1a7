"""Greedy knapsack: hand out samples by marginal gain per cost, with a heap.

The utilities are concave in n for n >= 1 but not at the origin (f(0) = f(1)
= 0 < f(2)).  Activation is therefore one *chunk*: from 0 straight to the
s in [n_min, n_max] with the best average gain per sample (s = 2 for the
mixed-group probability, where f(2)/2 = p(1-p) = f(3) - f(2)); after that the
item grows one sample at a time.  When per-sample gains are non-increasing
after the chunk, greedy solves the continuous relaxation, and it equals the
exact DP for unit costs whenever it never has to skip a piece that does not
fit (tests/test_knapsack_solvers.py checks both).
"""
from __future__ import annotations

import heapq

import numpy as np

from simbench.core._numba import jit


@jit
def activation_chunks(V, n_min, n_max):
    """Per item, the activation size s in [n_min, n_max] maximising (V[s] - V[0]) / s (smallest on ties)."""
    M = V.shape[0]
    size = np.full(M, n_min, np.int64)
    for i in range(M):
        best = (V[i, n_min] - V[i, 0]) / n_min
        for s in range(n_min + 1, n_max + 1):
            r = (V[i, s] - V[i, 0]) / s
            if r > best * (1.0 + 1e-12) + 1e-300:
                best = r
                size[i] = s
    return size


@jit
def _push_next(heap, V, cost, size, n_max, i, ni, rank):
    """Push item i's next piece (activation chunk or one more sample) if it gains anything."""
    if ni == 0:
        s = size[i]
    elif ni < n_max:
        s = 1
    else:
        return
    gain = V[i, ni + s] - V[i, ni]
    if gain > 0.0:
        c = cost[i] * s
        ratio = gain / c if c > 0.0 else np.inf
        heapq.heappush(heap, (-ratio, rank[i], i, s))


@jit
def greedy_kernel(V, cost, budget, n_min, n_max, n0, rank):
    """Heap greedy from the starting allocation ``n0`` with ``budget`` left to spend.

    Parameters
    ----------
    V : (M, n_max + 1) float64 value table.
    cost : (M,) float64 cost of one sample of each item (> 0).
    budget : float, what may still be spent on top of ``n0``.
    n_min, n_max : int, allowed counts are {0} U [n_min, n_max].
    n0 : (M,) int64 starting counts (0 or in [n_min, n_max]).
    rank : (M,) int64 tie-break order (equal ratios: lower rank first).

    Returns
    -------
    n : (M,) int64, spent : float.
    """
    M = V.shape[0]
    n = n0.copy()
    size = activation_chunks(V, n_min, n_max)
    heap = [(0.0, np.int64(0), np.int64(0), np.int64(0))]
    heap.pop()
    for i in range(M):
        _push_next(heap, V, cost, size, n_max, i, n[i], rank)
    spent = 0.0
    while len(heap) > 0:
        _, _, i, s = heapq.heappop(heap)
        c = cost[i] * s
        if spent + c <= budget:
            spent += c
            n[i] += s
            _push_next(heap, V, cost, size, n_max, i, n[i], rank)
        # a piece that does not fit drops the item: its later pieces need this one
    return n, spent


def greedy_allocate(V: np.ndarray, cost: np.ndarray, budget: float, n_min: int, n_max: int,
                    n0: np.ndarray | None = None, rank: np.ndarray | None = None) -> np.ndarray:
    """Greedy allocation maximising sum_i V[i, n_i] s.t. sum_i cost_i n_i <= budget.

    ``rank`` breaks ties between equal ratios (default: item order); pass the
    items' prompt ids to make the result independent of slot order.
    """
    V = np.ascontiguousarray(V, np.float64)
    M = V.shape[0]
    cost = np.ascontiguousarray(cost, np.float64)
    n0 = np.zeros(M, np.int64) if n0 is None else np.ascontiguousarray(n0, np.int64)
    rank = np.arange(M, dtype=np.int64) if rank is None else np.ascontiguousarray(rank, np.int64)
    if M == 0 or not budget > 0:
        return n0.copy()
    n, _ = greedy_kernel(V, cost, float(budget), int(n_min), int(n_max), n0, rank)
    return n
