"""Synthetic genotypes and phenotypes for K groups (Balding-Nichols frequencies, correlated effects).

Ancestral allele frequencies f_m ~ U(0.05, 0.95); group g's frequencies
f_gm ~ Beta(f_m (1 - F_g)/F_g, (1 - f_m)(1 - F_g)/F_g) (Balding-Nichols with F_ST = F_g).
Genotypes are Binomial(2, f_gm) per SNP, standardised with the ancestral
frequencies.  Effects on ``causal`` SNPs are N(0, 1) across groups with
correlation ``rho``; each group's genetic value is scaled to variance h2_g, and
the phenotype is genetic value + N(0, 1 - h2_g) (or a liability threshold with
the given prevalence for a binary outcome).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from simbench.equitable.spec import EquitableScenario


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
        corr = np.full((K, K), gen.rho) + (1 - gen.rho) * np.eye(K)
        effects = rng.multivariate_normal(np.zeros(K), corr, size=gen.causal).T  # (K, causal)
        self.mu = (2 * self.freq - 2 * self.f) / np.sqrt(2 * self.f * (1 - self.f))  # mean of standardised genotypes
        var = 2 * self.freq * (1 - self.freq) / (2 * self.f * (1 - self.f))
        self.beta = np.zeros((K, M))
        for g, spec in enumerate(g_spec):
            gv_var = float(np.sum(effects[g] ** 2 * var[g, causal]))
            self.beta[g, causal] = effects[g] * np.sqrt(spec.h2 / gv_var)
        self.h2 = np.array([s.h2 for s in g_spec])
        self.binary = gen.outcome == "binary"
        self.threshold = stats.norm.ppf(1 - gen.prevalence)
        test_rng = np.random.default_rng(test_ss)
        self.test = [self._draw(g, gen.test_size, test_rng) for g in range(K)]

    def _draw(self, g: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        geno = rng.binomial(2, self.freq[g], size=(n, self.M))
        X = ((geno - 2 * self.f) / np.sqrt(2 * self.f * (1 - self.f))).astype(np.float32)
        gv = (X @ self.beta[g].astype(np.float32)).astype(np.float64)
        gv -= float(self.mu[g] @ self.beta[g])  # centre the genetic value within the group
        liability = gv + rng.normal(0.0, np.sqrt(1 - self.h2[g]), n)
        y = (liability > self.threshold).astype(np.float64) if self.binary else liability
        return X, y

    def sample(self, g: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` new individuals of group ``g``: standardised genotypes (float32) and phenotypes."""
        return self._draw(g, n, rng)
