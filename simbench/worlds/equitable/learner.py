"""The PRS learner on everything collected, with incremental sufficient statistics.

Each group's collected samples are split once, as they arrive, into a training
part and a validation part (kept for the collectors' learning-curve estimates).
The training part is folded into exact integer statistics of the genotypes
(G^T G, column sums, G^T y), from which X^T X and X^T y of the standardised
genotypes follow; the pooled ridge PRS solves (sum_g A_g + lam I) beta = sum_g b_g
by conjugate gradients warm-started from the previous solution; the marginal
(GWAS) PRS is beta = sum_g b_g / n.  Every sum has a fixed order
(:mod:`simbench.worlds.equitable.numerics`), so a run gives the same bits on any CPU.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

from simbench.worlds.equitable.numerics import correlation, cross_counts, genotype_tdot, predict, ridge_cg, standardised_gram, weighted_sum
from simbench.worlds.equitable.spec import PRSSpec


def performance(pred: np.ndarray, y: np.ndarray, metric: str) -> float:
    """R^2 (squared correlation), correlation, or AUC of a PRS on one group's data."""
    if len(y) < 3:
        return 0.0
    if metric == "auc":
        pos = y > 0.5
        n1, n0 = pos.sum(), (~pos).sum()
        if n1 == 0 or n0 == 0 or np.ptp(pred) == 0:
            return 0.5
        ranks = rankdata(pred)
        return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
    r = float(correlation(np.asarray(pred, float), np.asarray(y, float)))
    return r * r if metric == "r2" else r


class PRSLearner:
    """Sufficient statistics per group and the PRS fitted on them.

    Genotypes arrive as integer matrices G (0, 1, 2); the learner works with
    X = (G - centre) * scale, the genotypes standardised with the ancestral frequencies.
    """

    def __init__(self, spec: PRSSpec, K: int, M: int, centre: np.ndarray | None = None, scale: np.ndarray | None = None):
        self.spec, self.K, self.M = spec, K, M
        self.centre = np.zeros(M) if centre is None else np.asarray(centre, float)
        self.scale = np.ones(M) if scale is None else np.asarray(scale, float)
        self.counts = np.zeros((K, M, M))  # G^T G, exact integers
        self.colsum = np.zeros((K, M))  # column sums of G
        self.A = np.zeros((K, M, M))  # X^T X, built from the integer statistics
        self.gy = np.zeros((K, M))  # G^T y
        self.ysum = np.zeros(K)
        self.b = np.zeros((K, M))  # X^T y
        self.n = np.zeros(K, np.int64)
        self.val_G: list[list[np.ndarray]] = [[] for _ in range(K)]
        self.val_y: list[list[np.ndarray]] = [[] for _ in range(K)]
        self.beta = np.zeros(M)
        self.beta_g = np.zeros((K, M))

    def add(self, g: int, G: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """Fold a batch of group ``g`` (genotypes ``G``, phenotypes ``y``) into the statistics, its validation share aside."""
        val = rng.random(len(y)) < self.spec.validation_share
        Gt, yt = G[~val], np.asarray(y[~val], float)
        self.counts[g] += cross_counts(Gt)
        self.colsum[g] += Gt.sum(axis=0, dtype=np.int64)
        self.n[g] += len(yt)
        self.A[g] = standardised_gram(self.counts[g], self.colsum[g], float(self.n[g]), self.centre, self.scale)
        self.gy[g] += genotype_tdot(Gt, yt)
        self.ysum[g] += math.fsum(yt.tolist())  # correctly rounded: the same on every machine
        self.b[g] = (self.gy[g] - self.centre * self.ysum[g]) * self.scale
        if val.any():
            self.val_G[g].append(G[val])
            self.val_y[g].append(y[val])

    def solve(self, A: np.ndarray | None, b: np.ndarray, n: float, x0: np.ndarray) -> np.ndarray:
        if self.spec.kind == "marginal":
            return b / max(n, 1.0)
        return ridge_cg(A, float(self.spec.lam), b, x0, 1e-8, 500)

    def fit(self, scale: np.ndarray | None = None) -> np.ndarray:
        """Fit on the statistics, group g's weighted by ``scale[g]`` (1: all of it; < 1: an expected subsample)."""
        s = np.ones(self.K) if scale is None else np.asarray(scale, float)
        A = weighted_sum(s, self.A) if self.spec.kind == "ridge" else None
        b = weighted_sum(s, self.b)
        beta = self.solve(A, b, float(sum(float(w) * float(k) for w, k in zip(s, self.n))), self.beta)
        if scale is None:
            self.beta = beta
        return beta

    def fit_group_aware(self) -> np.ndarray:
        """Per group: ridge on its own data shrunk towards the pooled fit, (A_g + lam I) beta_g = b_g + lam beta_pooled."""
        pooled = self.fit()
        lam = float(self.spec.lam)
        for g in range(self.K):
            self.beta_g[g] = ridge_cg(self.A[g], lam, self.b[g] + lam * pooled, pooled, 1e-8, 500)
        return self.beta_g

    def coefficients(self, g: int) -> np.ndarray:
        return self.beta_g[g] if self.spec.group_aware else self.beta

    def predict(self, G: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """The PRS of genotypes ``G`` under coefficients ``beta``."""
        return predict(G, self.centre, self.scale, np.asarray(beta, float))

    def validation(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Group ``g``'s validation genotypes and phenotypes."""
        if not self.val_y[g]:
            return np.zeros((0, self.M), np.int8), np.zeros(0)
        return np.concatenate(self.val_G[g]), np.concatenate(self.val_y[g])
