"""The PRS learner on everything collected, with incremental sufficient statistics.

Each group's collected samples are split once, as they arrive, into a training
part (folded into A_g = X^T X and b_g = X^T y, float64, BLAS) and a validation
part (kept for the collectors' learning-curve estimates).  The pooled ridge PRS
solves (sum_g A_g + lam I) beta = sum_g b_g by conjugate gradients warm-started
from the previous solution; the marginal (GWAS) PRS is beta = sum_g b_g / n.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg
from scipy.stats import rankdata

from simbench.equitable.spec import PRSSpec


def performance(pred: np.ndarray, y: np.ndarray, metric: str) -> float:
    """R^2 (squared correlation), correlation, or AUC of a PRS on one group's data."""
    if len(y) < 3 or np.std(pred) == 0 or np.std(y) == 0:
        return 0.0
    if metric == "auc":
        pos = y > 0.5
        n1, n0 = pos.sum(), (~pos).sum()
        if n1 == 0 or n0 == 0:
            return 0.5
        ranks = rankdata(pred)
        return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
    r = float(np.corrcoef(pred, y)[0, 1])
    return r * r if metric == "r2" else r


class PRSLearner:
    """Sufficient statistics per group and the PRS fitted on them."""

    def __init__(self, spec: PRSSpec, K: int, M: int):
        self.spec, self.K, self.M = spec, K, M
        self.A = np.zeros((K, M, M))
        self.b = np.zeros((K, M))
        self.n = np.zeros(K, np.int64)
        self.val_X: list[list[np.ndarray]] = [[] for _ in range(K)]
        self.val_y: list[list[np.ndarray]] = [[] for _ in range(K)]
        self.beta = np.zeros(M)
        self.beta_g = np.zeros((K, M))

    def add(self, g: int, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """Fold a batch of group ``g`` into the statistics (its validation share kept aside)."""
        val = rng.random(len(y)) < self.spec.validation_share
        Xt, yt = X[~val], y[~val]
        self.A[g] += Xt.T @ Xt  # float32 BLAS product, accumulated in float64
        self.b[g] += Xt.T.astype(np.float64) @ yt
        self.n[g] += len(yt)
        if val.any():
            self.val_X[g].append(X[val])
            self.val_y[g].append(y[val])

    def solve(self, A: np.ndarray, b: np.ndarray, n: float, x0: np.ndarray) -> np.ndarray:
        if self.spec.kind == "marginal":
            return b / max(n, 1.0)
        lam = self.spec.lam
        op = LinearOperator((self.M, self.M), matvec=lambda v: A @ v + lam * v, dtype=np.float64)
        x, _ = cg(op, b, x0=x0, rtol=1e-8, maxiter=500)
        return x

    def fit(self, scale: np.ndarray | None = None) -> np.ndarray:
        """Fit on the statistics, group g's weighted by ``scale[g]`` (1: all of it; < 1: an expected subsample)."""
        s = np.ones(self.K) if scale is None else scale
        A = np.tensordot(s, self.A, axes=1)
        b = s @ self.b
        beta = self.solve(A, b, float(s @ self.n), self.beta)
        if scale is None:
            self.beta = beta
        return beta

    def fit_group_aware(self) -> np.ndarray:
        """Per group: ridge on its own data shrunk towards the pooled fit, (A_g + lam I) beta_g = b_g + lam beta_pooled."""
        pooled = self.fit()
        lam = self.spec.lam
        for g in range(self.K):
            op = LinearOperator((self.M, self.M), matvec=lambda v, g=g: self.A[g] @ v + lam * v, dtype=np.float64)
            self.beta_g[g], _ = cg(op, self.b[g] + lam * pooled, x0=pooled, rtol=1e-8, maxiter=500)
        return self.beta_g

    def coefficients(self, g: int) -> np.ndarray:
        return self.beta_g[g] if self.spec.group_aware else self.beta

    def validation(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.val_y[g]:
            return np.zeros((0, self.M), np.float32), np.zeros(0)
        return np.concatenate(self.val_X[g]), np.concatenate(self.val_y[g])
