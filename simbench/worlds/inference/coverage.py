"""Coverage laws of repeated sampling: pass@k under a Beta population, its fit to published points, its power law.

If ``p ~ Beta(a, b)``, ``pass@k = 1 - B(a, b + k) / B(a, b)`` and ``-log pass@k`` falls as ``k^(-a)`` for large k
(Schaeffer et al., "How do large language monkeys get their power (laws)?"); Brown et al. (arXiv 2407.21787) fit
``log c = a k^b`` to measured coverage instead.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import betaln


def beta_pass_at_k(a: float, b: float, k) -> np.ndarray:
    """Expected coverage with k samples of a query whose pass rate is Beta(a, b): ``1 - B(a, b + k) / B(a, b)``."""
    k = np.asarray(k, float)
    return 1.0 - np.exp(betaln(a, b + k) - betaln(a, b))


def loglog_slope(a: float, b: float, k: float, step: float = 1.01) -> float:
    """The local slope of ``log(-log pass@k)`` against ``log k`` at k (tends to ``-a``)."""
    y = lambda x: np.log(-np.log(beta_pass_at_k(a, b, x)))  # noqa: E731
    return float((y(k * step) - y(k / step)) / (2 * np.log(step)))


def fit_beta(pass1: float, k: int, pass_k: float) -> tuple[float, float]:
    """The Beta(a, b) with mean ``pass1`` (pass@1) and coverage ``pass_k`` at ``k`` samples."""
    def gap(log_s):  # a + b = exp(log_s), a = pass1 (a + b)
        s = np.exp(log_s)
        return float(beta_pass_at_k(pass1 * s, (1 - pass1) * s, k)) - pass_k
    log_s = brentq(gap, np.log(1e-4), np.log(1e4))
    s = np.exp(log_s)
    return pass1 * s, (1 - pass1) * s
