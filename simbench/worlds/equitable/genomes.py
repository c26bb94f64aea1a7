"""Synthetic genotypes and phenotypes for K groups (Balding-Nichols frequencies, correlated effects).

Ancestral allele frequencies f_m ~ U(0.05, 0.95); group g's frequencies
f_gm ~ Beta(f_m (1 - F_g)/F_g, (1 - f_m)(1 - F_g)/F_g) (Balding-Nichols with F_ST = F_g).
Genotypes are Binomial(2, f_gm) per SNP, kept as integers and standardised
with the ancestral frequencies where they are used.  Effects on ``causal`` SNPs are N(0, 1) across groups with
correlation ``rho``; each group's genetic value is scaled to variance h2_g, and
the phenotype is genetic value + N(0, 1 - h2_g) (or a liability threshold with
the given prevalence for a binary outcome).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from simbench.worlds.equitable.numerics import fsum_dot, predict
from simbench.worlds.equitable.spec import EquitableScenario


def correlated_normals(rng: np.random.Generator, rho: float, K: int, size: int) -> np.ndarray:
    """(K, size) standard normals with correlation ``rho`` between rows.

    The Cholesky factor of the K x K correlation matrix is computed here with
    correctly rounded sums, not by LAPACK, so that the effects are the same on every machine.
    """
    corr = np.full((K, K), rho) + (1 - rho) * np.eye(K)
    L = np.zeros((K, K))
    for i in range(K):
        for j in range(i + 1):
            s = corr[i, j] - math.fsum((L[i, :j] * L[j, :j]).tolist())
            L[i, j] = math.sqrt(s) if i == j else s / L[j, j]
    z = rng.standard_normal((size, K))
    out = np.zeros((K, size))
    for i in range(K):
        for j in range(i + 1):
            out[i] += L[i, j] * z[:, j]
    return out


class GenomicWorld:
    """One draw of the world: frequencies, effects, test sets.  ``sample`` buys new individuals."""

    def __init__(self, scenario: EquitableScenario, seed: np.random.SeedSequence):
        g_spec, gen = scenario.groups, scenario.genetics
        world_ss, test_ss, self.sample_ss = seed.spawn(3)
        rng = np.random.default_rng(world_ss)
        K, M = len(g_spec), gen.snps
        self.K, self.M = K, M
        self.f = rng.uniform(0.05, 0.95, M)
        self.freq = np.empty((K, M))
        for g, spec in enumerate(g_spec):
            F = spec.fst
            self.freq[g] = np.clip(rng.beta(self.f * (1 - F) / F, (1 - self.f) * (1 - F) / F), 0.01, 0.99)
        causal = np.sort(rng.choice(M, gen.causal, replace=False))
        effects = correlated_normals(rng, gen.rho, K, gen.causal)  # (K, causal)
        self.centre = 2 * self.f  # genotypes are standardised with the ancestral frequencies
        self.scale = 1 / np.sqrt(2 * self.f * (1 - self.f))
        self.mu = (2 * self.freq - 2 * self.f) / np.sqrt(2 * self.f * (1 - self.f))  # mean of standardised genotypes
        var = 2 * self.freq * (1 - self.freq) / (2 * self.f * (1 - self.f))
        self.beta = np.zeros((K, M))
        for g, spec in enumerate(g_spec):
            gv_var = fsum_dot(effects[g] ** 2, var[g, causal])
            self.beta[g, causal] = effects[g] * np.sqrt(spec.h2 / gv_var)
        self.h2 = np.array([s.h2 for s in g_spec])
        self.binary = gen.outcome == "binary"
        self.threshold = stats.norm.ppf(1 - gen.prevalence)
        test_rng = np.random.default_rng(test_ss)
        self.test = [self._draw(g, gen.test_size, test_rng) for g in range(K)]

    def _draw(self, g: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        geno = rng.binomial(2, self.freq[g], size=(n, self.M)).astype(np.int8)
        gv = predict(geno, self.centre, self.scale, self.beta[g])
        gv -= fsum_dot(self.mu[g], self.beta[g])  # centre the genetic value within the group
        liability = gv + rng.normal(0.0, np.sqrt(1 - self.h2[g]), n)
        y = (liability > self.threshold).astype(np.float64) if self.binary else liability
        return geno, y

    def sample(self, g: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` new individuals of group ``g``: genotypes (int8, 0/1/2) and phenotypes."""
        return self._draw(g, n, rng)
