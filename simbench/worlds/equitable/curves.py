"""Learning curves perf_g(n) = e_g - a_g n^(-b_g) (error a_g n^(-b_g) + 1 - e_g), fitted by least squares."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simbench.core._numba import jit

B_RANGE = (0.05, 2.0)  # the exponents a fit may take
_GRID = np.exp(np.linspace(math.log(B_RANGE[0]), math.log(B_RANGE[1]), 81))
_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True)
class Curve:
    """perf(n) = ceiling - a n^(-b), concave and increasing in n > 0."""

    a: float
    b: float
    ceiling: float

    def __call__(self, n):
        return self.ceiling - self.a * np.power(np.maximum(n, 1e-9), -self.b)

    def slope(self, n):
        return self.a * self.b * np.power(np.maximum(n, 1e-9), -self.b - 1)


@jit
def _projected_fit(logn, perf, b):
    """Least squares of perf = c - a n^-b for a given b, with a >= 0 and 0 <= c <= 1: (sse, a, c).

    For a given b the model is linear in (a, c): a convex quadratic on a box, whose
    optimum is the unconstrained one if feasible, else the best of the optima on
    the edges a = 0, c = 0 and c = 1.  Sums run in order (numba, no fastmath), so
    the fit is the same on every machine.
    """
    m = len(logn)
    t = np.exp(-b * logn)
    st = 0.0
    sp = 0.0
    stt = 0.0
    stp = 0.0
    for i in range(m):
        st += t[i]
        sp += perf[i]
        stt += t[i] * t[i]
        stp += t[i] * perf[i]
    cand_a = np.zeros(4)
    cand_c = np.zeros(4)
    ok = np.zeros(4, np.bool_)
    det = m * stt - st * st
    if det > 0:
        a = -(m * stp - st * sp) / det  # the slope of perf on t is -a
        c = (sp + a * st) / m
        if a >= 0 and 0 <= c <= 1:
            cand_a[0], cand_c[0], ok[0] = a, c, True
    cand_a[1], cand_c[1], ok[1] = 0.0, min(max(sp / m, 0.0), 1.0), True
    for k in range(2):
        c = float(k)
        cand_a[2 + k] = max((c * st - stp) / stt, 0.0) if stt > 0 else 0.0
        cand_c[2 + k] = c
        ok[2 + k] = True
    best = np.inf
    best_a = 0.0
    best_c = 0.0
    for j in range(4):
        if not ok[j]:
            continue
        sse = 0.0
        for i in range(m):
            r = cand_c[j] - cand_a[j] * t[i] - perf[i]
            sse += r * r
        if sse < best:
            best, best_a, best_c = sse, cand_a[j], cand_c[j]
    return best, best_a, best_c


def fit_curve(n: np.ndarray, perf: np.ndarray) -> Curve:
    """Least-squares fit of perf = c - a n^-b with a >= 0, b in [0.05, 2], c in [0, 1].

    Variable projection: for a given b the model is linear in (a, c) and solved
    exactly (:func:`_projected_fit`); the residual is minimised over b on a
    log-spaced grid, then refined by golden-section search around the best grid
    point.  Global in b, and free of any solver whose arithmetic depends on the machine.
    """
    n, perf = np.asarray(n, float), np.asarray(perf, float)
    ok = (n > 0) & np.isfinite(perf)
    n, perf = n[ok], perf[ok]
    if len(n) < 3 or np.ptp(n) == 0:
        c = float(np.clip(perf.max(initial=0.0), 0, 1))
        return Curve(max(c, 1e-3), 0.5, c)
    logn = np.log(n)

    def sse(b: float) -> tuple[float, float, float]:
        return _projected_fit(logn, perf, b)

    errs = [sse(float(b))[0] for b in _GRID]
    i = int(np.argmin(errs))
    lo, hi = float(_GRID[max(i - 1, 0)]), float(_GRID[min(i + 1, len(_GRID) - 1)])
    x1, x2 = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    f1, f2 = sse(x1)[0], sse(x2)[0]
    for _ in range(60):
        if f1 <= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - _GOLDEN * (hi - lo)
            f1 = sse(x1)[0]
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + _GOLDEN * (hi - lo)
            f2 = sse(x2)[0]
    best_b = min((float(_GRID[i]), x1, x2), key=lambda b: sse(b)[0])
    _, a, c = sse(best_b)
    return Curve(float(a), float(best_b), float(c))
