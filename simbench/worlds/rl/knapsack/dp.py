"""Exact multiple-choice knapsack by dynamic programming over integer n.

dp_i[b] = max(dp_{i-1}[b] + V_i[0], max_{n in [n_min, n_max]} dp_{i-1}[b - w_i n] + V_i[n]),
O(M B K) time with K = n_max - n_min + 1 (O(M B log B) for unit-weight items
with concave values), O(B) values and an (M, B + 1) table of choices for
backtracking.  Token costs are quantised: w_i = ceil(c_i / q)
units per sample and B = floor(budget / q) units, so that a DP-feasible
allocation never spends more than the budget in real units.
"""
from __future__ import annotations

import math

import numpy as np

from simbench.core._numba import jit


@jit
def concave_on_range(V, i, n_min, n_max):
    """Whether V[i, n] has non-increasing differences on [n_min, n_max], up to rounding (a few ulps of the O(1) terms the utilities are computed from)."""
    for n in range(n_min + 1, n_max):
        tol = 8.0 * 2.220446049250313e-16 * (abs(V[i, n + 1]) + abs(V[i, n]) + abs(V[i, n - 1]) + 1.0)
        if V[i, n + 1] - V[i, n] > V[i, n] - V[i, n - 1] + tol:
            return False
    return True


@jit
def concave_row(old, new, ch, V, i, cap, n_min, n_max):
    """new[b] = max(new[b], max_n old[b - n] + V[i, n]) for a unit-weight item with concave values.

    The source index j = b - n of the best option is non-decreasing in b (the
    matrix old[j] + g(b - j) is Monge for concave g), so divide and conquer over
    b finds every row maximum in O(cap log cap) instead of O(cap K).  Among
    equal maxima the largest j (smallest n) wins, as in the plain loop.
    """
    if n_min > cap:
        return
    stack = np.empty((64, 4), np.int64)
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = n_min, cap, 0, cap - n_min
    top = 1
    while top > 0:
        top -= 1
        bl, bh, jl, jh = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        if bl > bh:
            continue
        m = (bl + bh) // 2
        lo = max(jl, m - n_max)
        hi = min(jh, m - n_min)
        best = -np.inf
        bj = hi
        for j in range(hi, lo - 1, -1):
            val = old[j] + V[i, m - j]
            if val > best:
                best = val
                bj = j
        if best > new[m]:
            new[m] = best
            ch[m] = m - bj
        stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = bl, m - 1, jl, bj
        stack[top + 1, 0], stack[top + 1, 1], stack[top + 1, 2], stack[top + 1, 3] = m + 1, bh, bj, jh
        top += 2


@jit
def mck_dp_kernel(V, w, cap, n_min, n_max, allow_zero, exact, fast=True):
    """Fill the DP over items in order.

    Parameters
    ----------
    V : (M, n_max + 1) float64 values; V[i, 0] is the value of giving nothing.
    w : (M,) int64 units per sample (>= 1).
    cap : int, capacity in units.
    n_min, n_max : int, allowed non-zero counts.
    allow_zero : bool, whether n = 0 is allowed.
    exact : bool, dp[b] means "exactly b units" (else "at most b units").
    fast : bool, allow the concave divide-and-conquer path (False: plain loops, for tests).

    Returns
    -------
    best : (cap + 1,) float64 final row (-inf: unreachable).
    choice : (M, cap + 1) int16 the count chosen for item i at capacity b.

    Ties keep the earliest option in the order 0, n_min, ..., n_max.  Items of
    unit weight whose values are concave on [n_min, n_max] (all the built-in
    utilities) take the O(cap log cap) ``concave_row`` path.
    """
    M = V.shape[0]
    old = np.full(cap + 1, -np.inf)
    if exact:
        old[0] = 0.0
    else:
        old[:] = 0.0
    new = np.empty(cap + 1)
    choice = np.zeros((M, cap + 1), np.int16)
    for i in range(M):
        ch = choice[i]
        if allow_zero:
            v0 = V[i, 0]
            for b in range(cap + 1):
                new[b] = old[b] + v0
        else:
            new[:] = -np.inf
        wi = w[i]
        if fast and wi == 1 and concave_on_range(V, i, n_min, n_max):
            concave_row(old, new, ch, V, i, cap, n_min, n_max)
            old, new = new, old
            continue
        for n in range(n_min, n_max + 1):
            wn = wi * n
            if wn > cap:
                break
            v = V[i, n]
            # contiguous inner loop over b: vectorises
            for b in range(wn, cap + 1):
                cand = old[b - wn] + v
                if cand > new[b]:
                    new[b] = cand
                    ch[b] = n
        old, new = new, old
    return old, choice


@jit
def backtrack(choice, w, b):
    """Counts per item from the choice table, starting at capacity ``b``."""
    M = choice.shape[0]
    n = np.zeros(M, np.int64)
    for i in range(M - 1, -1, -1):
        k = choice[i, b]
        n[i] = k
        b -= w[i] * k
    return n


def quantise(cost: np.ndarray, budget: float, quantum: float) -> tuple[np.ndarray, int]:
    """Integer units per sample (rounded up) and capacity (rounded down) for quantum ``quantum``."""
    w = np.maximum(np.ceil(np.asarray(cost, np.float64) / quantum - 1e-9), 1).astype(np.int64)
    cap = int(math.floor(budget / quantum + 1e-9)) if np.isfinite(budget) else -1
    return w, cap


def dp_work(M: int, cap: int, n_min: int, n_max: int) -> float:
    """Cells the DP visits (an upper bound on its inner-loop iterations)."""
    return float(M) * float(cap + 1) * float(n_max - n_min + 1)


def dp_allocate(V: np.ndarray, cost: np.ndarray, budget: float, n_min: int, n_max: int, quantum: float = 1.0,
                allow_zero: bool = True) -> np.ndarray:
    """Exact maximiser of sum_i V[i, n_i] s.t. sum_i ceil(cost_i / q) n_i <= floor(budget / q).

    With ``allow_zero=False`` every item gets at least ``n_min`` (all-zero if
    that does not fit).  An infinite budget gives every item its best count.
    """
    V = np.ascontiguousarray(V, np.float64)
    M = V.shape[0]
    if M == 0:
        return np.zeros(0, np.int64)
    if n_max > np.iinfo(np.int16).max:
        raise ValueError(f"n_max = {n_max} exceeds the DP's int16 choice table")
    if not np.isfinite(budget):  # no budget: each item on its own
        cols = np.arange(n_min, n_max + 1, dtype=np.int64)
        if allow_zero:
            cols = np.r_[np.int64(0), cols]
        return cols[np.argmax(V[:, cols], axis=1)]
    w, cap = quantise(cost, budget, quantum)
    if cap < 0:
        return np.zeros(M, np.int64)
    best, choice = mck_dp_kernel(V, w, cap, int(n_min), int(n_max), bool(allow_zero), False)
    if not np.isfinite(best[cap]):
        return np.zeros(M, np.int64)
    return backtrack(choice, w, cap)
