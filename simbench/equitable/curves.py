"""Learning curves perf_g(n) = e_g - a_g n^(-b_g) (error a_g n^(-b_g) + 1 - e_g), fitted by least squares."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares


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


def fit_curve(n: np.ndarray, perf: np.ndarray) -> Curve:
    """Least-squares fit of perf = c - a n^-b with a >= 0, b in [0.05, 2], c in [0, 1]."""
    n, perf = np.asarray(n, float), np.asarray(perf, float)
    ok = (n > 0) & np.isfinite(perf)
    n, perf = n[ok], perf[ok]
    if len(n) < 3 or np.ptp(n) == 0:
        c = float(np.clip(perf.max(initial=0.0), 0, 1))
        return Curve(max(c, 1e-3), 0.5, c)

    def resid(x):
        a, b, c = x
        return c - a * n ** -b - perf

    x0 = [max(perf.max() - perf.min(), 1e-3) * n.min() ** 0.5, 0.5, min(perf.max() + 0.05, 1.0)]
    res = least_squares(resid, x0, bounds=([0.0, 0.05, 0.0], [np.inf, 2.0, 1.0]))
    a, b, c = res.x
    return Curve(float(a), float(b), float(c))
