"""Kernels over the answers drawn so far, per query: tallies, pluralities, the best-scored sample, the first accepted one."""
from __future__ import annotations

import numpy as np

from simbench.core._numba import jit
from simbench.worlds.inference.tape import NO_ANSWER


@jit
def _sorted_runs(row):
    """Distinct values of ``row`` (sorted) and their positions in it: (order, run starts)."""
    order = np.argsort(row, kind="mergesort")
    starts = [0]
    for i in range(1, row.shape[0]):
        if row[order[i]] != row[order[i - 1]]:
            starts.append(i)
    starts.append(row.shape[0])
    return order, starts


@jit
def tally(answer, n, weight, tie_u, min_share):
    """Per query, the answer with the largest total ``weight`` among its samples (``weight`` None-like: all ones when
    ``weight.shape[1] == 0``), over answers with a share of samples >= ``min_share``; ties uniformly at random by
    ``tie_u[q]``.  Samples without an answer do not vote.

    Returns (winner (Q,), votes of the winner (Q,), votes of the runner-up (Q,), distinct answers (Q,)); the winner is
    NO_ANSWER when no sample has one.
    """
    Q = answer.shape[0]
    win = np.full(Q, NO_ANSWER, np.int64)
    v1 = np.zeros(Q)
    v2 = np.zeros(Q)
    distinct = np.zeros(Q, np.int64)
    ones = weight.shape[1] == 0
    for q in range(Q):
        k = n[q]
        if k == 0:
            continue
        row = answer[q, :k]
        order, starts = _sorted_runs(row)
        best, second, nbest = -np.inf, -np.inf, 0
        totals = np.empty(len(starts) - 1)
        for r in range(len(starts) - 1):
            a = row[order[starts[r]]]
            size = starts[r + 1] - starts[r]
            if a == NO_ANSWER or size < min_share * k:
                totals[r] = -np.inf
                continue
            distinct[q] += 1
            t = 0.0
            for i in range(starts[r], starts[r + 1]):
                t += 1.0 if ones else weight[q, order[i]]
            totals[r] = t
            if t > best:
                second, best, nbest = best, t, 1
            elif t == best:
                nbest += 1
                second = t
            elif t > second:
                second = t
        if nbest == 0:
            continue
        pick = int(tie_u[q] * nbest)
        for r in range(len(starts) - 1):
            if totals[r] == best:
                if pick == 0:
                    win[q] = row[order[starts[r]]]
                    break
                pick -= 1
        v1[q] = best
        v2[q] = max(second, 0.0)
    return win, v1, v2, distinct


@jit
def best_scored(answer, score, n, min_share):
    """Per query, the answer of its highest-scored sample (first such sample on ties) among samples whose answer has a
    share >= ``min_share`` of the query's samples (``min_share`` = 0: Best-of-N); NO_ANSWER if none."""
    Q = answer.shape[0]
    out = np.full(Q, NO_ANSWER, np.int64)
    for q in range(Q):
        k = n[q]
        if k == 0:
            continue
        row = answer[q, :k]
        keep = np.ones(k, np.bool_)
        if min_share > 0:
            order, starts = _sorted_runs(row)
            for r in range(len(starts) - 1):
                if starts[r + 1] - starts[r] < min_share * k:
                    for i in range(starts[r], starts[r + 1]):
                        keep[order[i]] = False
        best = -np.inf
        for j in range(k):
            if keep[j] and row[j] != NO_ANSWER and score[q, j] > best:
                best = score[q, j]
                out[q] = row[j]
    return out


@jit
def first_accepted(answer, accept, n):
    """Per query, the answer of its first accepted sample, NO_ANSWER if none was accepted."""
    out = np.full(answer.shape[0], NO_ANSWER, np.int64)
    for q in range(answer.shape[0]):
        for j in range(n[q]):
            if accept[q, j]:
                out[q] = answer[q, j]
                break
    return out


def unbiased_pass_at_k(n: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """Brown et al. (arXiv 2407.21787) Eq. 1: ``1 - C(n - c, k) / C(n, k)`` per query (nan where n < k)."""
    n, c = np.asarray(n, float), np.asarray(c, float)
    out = np.full(n.shape, np.nan)
    ok = n >= k
    # the ratio of binomials as a product: prod_{i=0}^{k-1} (n - c - i) / (n - i), zero once n - c < k
    for idx in np.flatnonzero(ok):
        nn, cc = n[idx], c[idx]
        if nn - cc < k:
            out[idx] = 1.0
        else:
            i = np.arange(k)
            out[idx] = 1.0 - float(np.prod((nn - cc - i) / (nn - i)))
    return out
