"""Maximum-likelihood fits of pass-rate populations to beta-binomial group counts.

A group of n samples of a prompt with pass rate p ~ Beta(a, b) has k correct with
the beta-binomial law P(k) = C(n, k) B(k + a, n - k + b) / B(a, b).  We fit a Beta
and a mixture of Betas by maximising sum_groups log P(k_g | n_g) (L-BFGS on log
parameters, several starts for mixtures), report the observed vs fitted histogram
of k with a chi-square test, and derive the statistics papers quote.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from scipy.special import betaln, gammaln, logsumexp

from simbench.worlds.rl.population import PassRateSpec


def _counts(k: np.ndarray, n: np.ndarray):
    """Unique (k, n) pairs with their multiplicities (the likelihood only depends on these)."""
    pairs, mult = np.unique(np.stack([np.asarray(k, np.int64), np.asarray(n, np.int64)], 1), axis=0, return_counts=True)
    return pairs[:, 0], pairs[:, 1], mult.astype(float)


def _logsumexp_rows(t: np.ndarray) -> np.ndarray:
    """log(sum_c exp(t[c])) per column of a 2-D array; the likelihoods' hot path.

    The same arithmetic as ``scipy.special.logsumexp(t, axis=0)`` (SciPy >= 1.15): the
    column's largest terms are taken out, the rest summed relative to them, and
    ``log1p(s / m) + log(m) + max`` returned.  SciPy's array-API dispatch costs about
    half a millisecond per call, and an L-BFGS mixture fit calls it thousands of
    times on a few numbers.
    """
    t_max = t.max(axis=0)
    top = t == t_max
    m = top.sum(axis=0, dtype=t.dtype)
    with np.errstate(invalid="ignore"):  # -inf - -inf in a column of -inf (a zero-weight component)
        s = np.where(top, 0.0, np.exp(t - t_max)).sum(axis=0)
    s = np.where(s == 0, s, s / m)
    return np.log1p(s) + np.log(m) + t_max


def _log_pmf(k, n, a, b):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1) + betaln(k + a, n - k + b) - betaln(a, b)


@dataclass(frozen=True)
class PopulationFit:
    """A Beta mixture of pass rates fitted to group counts (one component: a plain Beta)."""

    weights: tuple[float, ...]
    alphas: tuple[float, ...]
    betas: tuple[float, ...]
    loglik: float
    groups: int

    @property
    def n_params(self) -> int:
        return 3 * len(self.weights) - 1

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.loglik

    def log_pmf(self, k, n) -> np.ndarray:
        """log P(k correct out of n) under the fitted population."""
        k, n = np.asarray(k, float), np.asarray(n, float)
        terms = [np.log(w) + _log_pmf(k, n, a, b) for w, a, b in zip(self.weights, self.alphas, self.betas) if w > 0]
        return logsumexp(np.stack(terms), axis=0)

    def pmf(self, n: int) -> np.ndarray:
        """P(k) for k = 0..n."""
        return np.exp(self.log_pmf(np.arange(n + 1), np.full(n + 1, n)))

    def mean(self) -> float:
        return float(sum(w * a / (a + b) for w, a, b in zip(self.weights, self.alphas, self.betas)))

    def share_all_wrong(self, n: int) -> float:
        """E[(1 - p)^n]: expected share of groups of n with no correct sample."""
        return float(sum(w * np.exp(betaln(a, b + n) - betaln(a, b)) for w, a, b in zip(self.weights, self.alphas, self.betas)))

    def share_all_correct(self, n: int) -> float:
        """E[p^n]: expected share of groups of n with every sample correct."""
        return float(sum(w * np.exp(betaln(a + n, b) - betaln(a, b)) for w, a, b in zip(self.weights, self.alphas, self.betas)))

    def pass_at_k(self, k: int) -> float:
        """E[1 - (1 - p)^k]: the population's pass@k."""
        return 1.0 - self.share_all_wrong(k)

    def posterior_sample(self, rng: np.random.Generator, k: np.ndarray, n: np.ndarray) -> np.ndarray:
        """One pass rate per group drawn from its posterior given k of n (empirical Bayes).

        The component is drawn with probability proportional to w_c P(k | a_c, b_c),
        then p ~ Beta(a_c + k, b_c + n - k).
        """
        k, n = np.asarray(k, float), np.asarray(n, float)
        logr = np.stack([np.log(w) + _log_pmf(k, n, a, b) for w, a, b in zip(self.weights, self.alphas, self.betas)], 1)
        r = np.exp(logr - logsumexp(logr, axis=1, keepdims=True))
        comp = (rng.random(len(k))[:, None] > np.cumsum(r, axis=1)).sum(1).clip(0, len(self.weights) - 1)
        a, b = np.asarray(self.alphas)[comp], np.asarray(self.betas)[comp]
        return rng.beta(a + k, b + n - k)

    def to_pass_rate_spec(self) -> PassRateSpec:
        """The scenario law (``kind = beta`` or ``beta_mixture``) with these parameters."""
        if len(self.weights) == 1:
            return PassRateSpec(kind="beta", a=self.alphas[0], b=self.betas[0])
        return PassRateSpec(kind="beta_mixture", weights=self.weights, alphas=self.alphas, betas=self.betas)

    def describe(self) -> str:
        parts = [f"{w:.3f} x Beta({a:.4g}, {b:.4g})" for w, a, b in zip(self.weights, self.alphas, self.betas)]
        return " + ".join(parts) + f" (loglik {self.loglik:.1f}, AIC {self.aic:.1f})"


def fit_beta(k, n) -> tuple[PopulationFit, np.ndarray]:
    """MLE of Beta(a, b) from beta-binomial counts; returns the fit and the standard errors of (log a, log b).

    Standard errors come from the inverse of the numerical Hessian of the
    negative log-likelihood in (log a, log b).
    """
    kk, nn, m = _counts(k, n)
    pbar = float(np.sum(m * kk / nn) / m.sum())
    pbar = min(max(pbar, 1e-3), 1 - 1e-3)

    def nll(x):
        return -float(np.sum(m * _log_pmf(kk, nn, np.exp(x[0]), np.exp(x[1]))))

    best = None
    for s in (0.5, 2.0, 10.0):
        res = optimize.minimize(nll, np.log([pbar * s, (1 - pbar) * s]), method="L-BFGS-B", bounds=[(-9, 9)] * 2)
        if best is None or res.fun < best.fun:
            best = res
    H = _hessian(nll, best.x)
    try:
        se = np.sqrt(np.diag(np.linalg.inv(H)))
    except np.linalg.LinAlgError:
        se = np.full(2, np.nan)
    a, b = np.exp(best.x)
    return PopulationFit((1.0,), (float(a),), (float(b),), -float(best.fun), int(m.sum())), se


def _hessian(f, x, h=1e-4):
    d = len(x)
    H = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            e_i, e_j = np.eye(d)[i] * h, np.eye(d)[j] * h
            H[i, j] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (4 * h * h)
    return H


def fit_mixture(k, n, components: int = 2, starts: int = 8, seed: int = 0) -> PopulationFit:
    """MLE of a ``components``-Beta mixture from beta-binomial counts (L-BFGS from several starts)."""
    if components == 1:
        return fit_beta(k, n)[0]
    kk, nn, m = _counts(k, n)
    C = components

    def unpack(x):
        logits = np.concatenate([[0.0], x[: C - 1]])
        w = np.exp(logits - _logsumexp_rows(logits[:, None])[0])
        return w, np.exp(x[C - 1: 2 * C - 1]), np.exp(x[2 * C - 1:])

    def nll(x):
        w, a, b = unpack(x)
        terms = np.stack([np.log(w[c]) + _log_pmf(kk, nn, a[c], b[c]) for c in range(C)])
        return -float(np.sum(m * _logsumexp_rows(terms)))

    rng = np.random.default_rng(seed)
    base = fit_beta(k, n)[0]
    best = None
    for s in range(starts):
        # start 0: components around the single-Beta fit's mean, then random spreads
        means = np.sort(rng.uniform(0.05, 0.95, C)) if s else np.linspace(0.2, 0.8, C)
        conc = rng.uniform(0.5, 5.0, C) if s else np.full(C, base.alphas[0] + base.betas[0])
        x0 = np.concatenate([rng.normal(0, 0.5, C - 1), np.log(means * conc), np.log((1 - means) * conc)])
        res = optimize.minimize(nll, x0, method="L-BFGS-B", bounds=[(-8, 8)] * (C - 1) + [(-9, 9)] * (2 * C))
        if best is None or res.fun < best.fun:
            best = res
    w, a, b = unpack(best.x)
    order = np.argsort(a / (a + b))
    return PopulationFit(tuple(map(float, w[order])), tuple(map(float, a[order])), tuple(map(float, b[order])),
                         -float(best.fun), int(m.sum()))


@dataclass(frozen=True)
class GoodnessOfFit:
    """Observed vs fitted histogram of k out of n, and Pearson's chi-square on bins pooled to expected >= 5."""

    n: int
    observed: np.ndarray
    expected: np.ndarray
    chi2: float
    dof: int
    p_value: float


def goodness_of_fit(fit: PopulationFit, k, n) -> GoodnessOfFit:
    """Chi-square of the fit on the groups of the most common size n (dof = bins - 1 - parameters)."""
    k, n = np.asarray(k), np.asarray(n)
    size = int(np.bincount(n).argmax())
    obs = np.bincount(k[n == size], minlength=size + 1).astype(float)
    exp = fit.pmf(size) * obs.sum()
    # pool adjacent bins (left to right) until each expected count is >= 5
    o_pool, e_pool, o_acc, e_acc = [], [], 0.0, 0.0
    for o, e in zip(obs, exp):
        o_acc, e_acc = o_acc + o, e_acc + e
        if e_acc >= 5:
            o_pool.append(o_acc), e_pool.append(e_acc)
            o_acc = e_acc = 0.0
    if e_acc > 0 and e_pool:
        o_pool[-1] += o_acc
        e_pool[-1] += e_acc
    o_pool, e_pool = np.array(o_pool), np.array(e_pool)
    chi2 = float(np.sum((o_pool - e_pool) ** 2 / e_pool)) if len(e_pool) else float("nan")
    dof = max(len(e_pool) - 1 - fit.n_params, 1)
    return GoodnessOfFit(size, obs, exp, chi2, dof, float(stats.chi2.sf(chi2, dof)))


def paper_statistics(fit: PopulationFit, ns=(4, 8, 16, 256), ks=(1, 2, 4, 8, 16, 32, 64, 128, 256)) -> dict:
    """Shares of all-correct / all-wrong groups at each n and pass@k at each k, from a fitted population."""
    out = {f"all_correct_n{n}": fit.share_all_correct(n) for n in ns}
    out.update({f"all_wrong_n{n}": fit.share_all_wrong(n) for n in ns})
    out.update({f"pass_at_{k}": fit.pass_at_k(k) for k in ks})
    return out

