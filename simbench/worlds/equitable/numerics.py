"""Linear algebra of the equitable world that gives the same bits on every CPU and BLAS build.

Why: the adaptive collector fits learning curves to validation scores and
rounds the allocation it solves for, so a last-bit difference in a product
(BLAS kernels sum in different orders on different CPUs and thread counts) can
send the next batch to another group and change a whole run.  Here every sum
has a fixed order:

- genotype cross-products ``G^T G`` are exact integers: a float32 BLAS product of
  values in {0, 1, 2} is exact, whatever the order, while every partial sum
  stays below 2^24 (``ROWS_EXACT`` rows at a time);
- every other sum runs in a numba loop in a fixed order, compiled without
  fastmath (no reassociation and no fused multiply-add);
- the standardised statistics are built from the integer ones elementwise.
"""
from __future__ import annotations

import math

import numpy as np

from simbench.core._numba import jit

ROWS_EXACT = 1 << 20  # 4 * rows < 2^24: every partial sum of G^T G is an exact float32 integer


def cross_counts(geno: np.ndarray) -> np.ndarray:
    """``G^T G`` of a genotype matrix (values 0, 1, 2) as exact integers in float64."""
    out = np.zeros((geno.shape[1], geno.shape[1]))
    for start in range(0, len(geno), ROWS_EXACT):
        g = geno[start:start + ROWS_EXACT].astype(np.float32)
        out += (g.T @ g).astype(np.float64)
    return out


@jit
def standardised_gram(counts, colsum, n, centre, scale):
    """``X^T X`` for ``X = (G - centre) * scale`` from the integer statistics of G, exactly symmetric.

    ``X^T X = scale scale^T * (G^T G - (c S^T + S c^T) + n c c^T)`` with S the column sums of G;
    entry (j, k) adds the same numbers as entry (k, j), so the result is symmetric to the bit.
    """
    M = len(centre)
    out = np.empty((M, M))
    for j in range(M):
        for k in range(M):
            cross = centre[j] * colsum[k] + centre[k] * colsum[j]
            out[j, k] = (counts[j, k] - cross + n * (centre[j] * centre[k])) * (scale[j] * scale[k])
    return out


@jit
def genotype_tdot(geno, y):
    """``G^T y`` summed over rows in order."""
    n, M = geno.shape
    out = np.zeros(M)
    for i in range(n):
        yi = y[i]
        for m in range(M):
            out[m] += geno[i, m] * yi
    return out


@jit
def predict(geno, centre, scale, beta):
    """``X beta`` with ``X = (G - centre) * scale``, each row summed over SNPs in order."""
    n, M = geno.shape
    out = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for m in range(M):
            acc += (geno[i, m] - centre[m]) * scale[m] * beta[m]
        out[i] = acc
    return out


@jit
def correlation(x, y):
    """Pearson correlation (two passes, sums in order); 0 when either side is constant."""
    n = len(x)
    mx = 0.0
    my = 0.0
    for i in range(n):
        mx += x[i]
        my += y[i]
    mx /= n
    my /= n
    sxy = 0.0
    sxx = 0.0
    syy = 0.0
    for i in range(n):
        dx = x[i] - mx
        dy = y[i] - my
        sxy += dx * dy
        sxx += dx * dx
        syy += dy * dy
    if sxx <= 0.0 or syy <= 0.0:
        return 0.0
    return sxy / math.sqrt(sxx * syy)


@jit
def _dot(a, b):
    acc = 0.0
    for i in range(len(a)):
        acc += a[i] * b[i]
    return acc


@jit
def _ridge_matvec(A, lam, v, out):
    # A is symmetric: accumulate its rows scaled by v[k], so the inner loop runs over
    # contiguous memory with one independent sum per output (vectorisable, no reassociation)
    M = len(v)
    for j in range(M):
        out[j] = lam * v[j]
    for k in range(M):
        vk = v[k]
        for j in range(M):
            out[j] += A[k, j] * vk


@jit
def ridge_cg(A, lam, b, x0, rtol, maxiter):
    """Solve ``(A + lam I) x = b`` by conjugate gradients from ``x0``, until ``|r| <= rtol |b|``."""
    M = len(b)
    x = x0.copy()
    bnorm = math.sqrt(_dot(b, b))
    if bnorm == 0.0:
        return np.zeros(M)
    Ap = np.empty(M)
    _ridge_matvec(A, lam, x, Ap)
    r = b - Ap
    p = r.copy()
    rs = _dot(r, r)
    for _ in range(maxiter):
        if math.sqrt(rs) <= rtol * bnorm:
            break
        _ridge_matvec(A, lam, p, Ap)
        alpha = rs / _dot(p, Ap)
        for j in range(M):
            x[j] += alpha * p[j]
            r[j] -= alpha * Ap[j]
        rs_new = _dot(r, r)
        beta = rs_new / rs
        rs = rs_new
        for j in range(M):
            p[j] = r[j] + beta * p[j]
    return x


def weighted_sum(weights: np.ndarray, arrays: np.ndarray) -> np.ndarray:
    """``sum_g weights[g] * arrays[g]``, groups added in order (np.tensordot would call BLAS)."""
    out = np.zeros(arrays.shape[1:])
    for w, a in zip(weights, arrays):
        out += float(w) * a
    return out


def fsum_dot(a: np.ndarray, b: np.ndarray) -> float:
    """A dot product correctly rounded (math.fsum), independent of any summation order."""
    return math.fsum((np.asarray(a, float) * np.asarray(b, float)).tolist())
