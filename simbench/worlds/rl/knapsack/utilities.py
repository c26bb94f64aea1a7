"""Per-prompt utilities u_i(n) of giving n responses to a prompt with pass rate p.

Every solver works on a *value table* ``V`` of shape ``(M, n_max + 1)`` with
``V[i, n] = u_i(n)`` and ``V[i, 0] = 0``; utilities are either evaluated at a
point ``p`` or averaged over a Beta(a, b) posterior (Knapsack-RL, arXiv 2509.25849;
GVM, arXiv 2505.02391).  All point forms are exact at integer n; the posterior forms use
``E[p^i (1 - p)^j] = B(a + i, b + j) / B(a, b)``.

Utilities
---------
``mixed``        f(n, p) = 1 - p^n - (1-p)^n for n >= 2, f(0) = f(1) = 0.
``knapsack_rl``  Knapsack-RL's value f(n, p) * p * (1-p)^2.
``coverage``     1 - (1-p)^n (at least one correct response).
``variance``     w * (1 - 1/n), the reduction of GVM's per-prompt variance
                 w / n relative to one sample, w = G^2 / (p + alpha / p^(beta-1))
                 (alpha = 0: Neyman, w = G^2 / p).  u(0) = u(1) = 0: a group of
                 one carries no GRPO signal.
"""
from __future__ import annotations

import numpy as np

UTILITIES = ("mixed", "knapsack_rl", "coverage", "variance")


def mixed(n, p):
    """Probability that a group of n responses has both outcomes (0 for n < 2)."""
    n = np.asarray(n, np.float64)
    p = np.asarray(p, np.float64)
    f = 1.0 - p**n - (1.0 - p) ** n
    return np.where(n >= 2, f, 0.0)


def knapsack_rl_value(n, p):
    """Knapsack-RL's value v(n, p) = f(n, p) * p * (1 - p)^2."""
    p = np.asarray(p, np.float64)
    return mixed(n, p) * p * (1.0 - p) ** 2


def coverage(n, p):
    """Probability of at least one correct response among n."""
    n = np.asarray(n, np.float64)
    return 1.0 - (1.0 - np.asarray(p, np.float64)) ** n


def variance_weight(p, G=1.0, alpha=1e-3, beta=2.0):
    """GVM's per-prompt variance weight w = G^2 / (p + alpha / p^(beta - 1)).

    With ``alpha > 0`` the weight goes to 0 as p -> 0 (GVM's penalty); with
    ``alpha = 0`` it is the Neyman weight G^2 / p (infinite at p = 0).
    """
    p = np.asarray(p, np.float64)
    G = np.asarray(G, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = p + alpha * np.power(p, 1.0 - beta) if alpha > 0 else p
        w = G * G / denom
    return np.where(np.isnan(w), 0.0, w)


def variance_gain(n, w):
    """w * (1 - 1/n) for n >= 1, 0 at n = 0."""
    n = np.asarray(n, np.float64)
    with np.errstate(divide="ignore"):
        return np.where(n >= 1, np.asarray(w, np.float64) * (1.0 - 1.0 / np.maximum(n, 1.0)), 0.0)


def beta_moment(a, b, i, j):
    """E[p^i (1 - p)^j] under Beta(a, b) (broadcasting)."""
    from scipy.special import betaln  # imported when first needed: listing the roles must not load scipy

    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return np.exp(betaln(a + i, b + j) - betaln(a, b))


def expected_mixed(n, a, b):
    """Posterior-expected mixed-group probability 1 - B(a+n, b)/B(a, b) - B(a, b+n)/B(a, b)."""
    n = np.asarray(n, np.float64)
    f = 1.0 - beta_moment(a, b, n, 0) - beta_moment(a, b, 0, n)
    return np.where(n >= 2, f, 0.0)


def expected_knapsack_rl_value(n, a, b):
    """E[f(n, p) p (1-p)^2] = E[p(1-p)^2] - E[p^(n+1)(1-p)^2] - E[p(1-p)^(n+2)]."""
    n = np.asarray(n, np.float64)
    v = beta_moment(a, b, 1, 2) - beta_moment(a, b, n + 1, 2) - beta_moment(a, b, 1, n + 2)
    return np.where(n >= 2, v, 0.0)


def expected_coverage(n, a, b):
    """Posterior-expected coverage 1 - B(a, b+n)/B(a, b)."""
    return 1.0 - beta_moment(a, b, 0, np.asarray(n, np.float64))


def _expected_table(utility: str, n_max: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Posterior-expected tables from the recurrences E[p^(n+1)] = E[p^n] (a+n)/(a+b+n) (no special functions)."""
    k = np.arange(n_max + 2, dtype=np.float64)[None, :]
    Ep = np.cumprod(np.c_[np.ones_like(a), (a + k[:, :-1]) / (a + b + k[:, :-1])], axis=1)  # E p^n, n = 0..n_max+1
    Eq = np.cumprod(np.c_[np.ones_like(a), (b + k[:, :-1]) / (a + b + k[:, :-1])], axis=1)  # E (1-p)^n
    n = np.arange(n_max + 1)
    active = n[None, :] >= 2
    if utility == "mixed":
        return np.where(active, 1.0 - Ep[:, : n_max + 1] - Eq[:, : n_max + 1], 0.0)
    if utility == "coverage":
        return 1.0 - Eq[:, : n_max + 1]
    s = a + b
    Ep_q2 = Ep[:, 1:] * b * (b + 1) / ((s + k[:, 1:]) * (s + k[:, 1:] + 1))  # E p^(n+1) (1-p)^2, n = 0..n_max
    q_n2 = np.c_[Eq[:, 2:], Eq[:, -1:] * (b + n_max + 1) / (s + n_max + 1)]  # E (1-p)^(n+2), n = 0..n_max
    Ep1_qn2 = q_n2 * a / (s + n[None, :] + 2)  # E p (1-p)^(n+2)
    return np.where(active, Ep_q2[:, :1] - Ep_q2 - Ep1_qn2, 0.0)


def value_table(utility: str, n_max: int, *, p=None, a=None, b=None, G=None,
                variance_alpha: float = 1e-3, variance_beta: float = 2.0) -> np.ndarray:
    """The (M, n_max + 1) table V[i, n] = u_i(n), n = 0..n_max.

    Give ``p`` for the point utility, or ``a`` and ``b`` for the expectation
    over a Beta(a, b) posterior (``variance`` then plugs in the posterior
    mean, since E[1/p] diverges for a <= 1).  ``G``: gradient-norm scale for
    ``variance`` (default 1).
    """
    if utility not in UTILITIES:
        raise ValueError(f"unknown utility {utility!r}; allowed: {', '.join(UTILITIES)}")
    n = np.arange(n_max + 1, dtype=np.float64)[None, :]
    if p is None and (a is None or b is None):
        raise ValueError("value_table needs p, or a and b")
    if p is not None:
        p = np.asarray(p, np.float64)[:, None]
        if utility == "mixed":
            return mixed(n, p)
        if utility == "knapsack_rl":
            return knapsack_rl_value(n, p)
        if utility == "coverage":
            return coverage(n, p)
    else:
        a = np.asarray(a, np.float64)[:, None]
        b = np.asarray(b, np.float64)[:, None]
        if utility != "variance":
            return _expected_table(utility, n_max, a, b)
        p = a / (a + b)
    M = p.shape[0]
    G = np.ones(M) if G is None else np.broadcast_to(np.asarray(G, np.float64), (M,))
    w = variance_weight(p[:, 0], G, variance_alpha, variance_beta)
    if not np.isfinite(w).all():
        raise ValueError("variance weight is infinite (Neyman weight G^2/p at p = 0): use variance_alpha > 0 or a Beta posterior")
    return variance_gain(n, w[:, None])
