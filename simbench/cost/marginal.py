"""What one more sample of a prompt is expected to add to a synchronous step's generation time.

    time_cost_i = E[L_i] / rate  +  t_tail * E[(min(X_i, max) - M)^+]

The first term is throughput: the sample's decode tokens at the engines' fully batched
rate.  The second is the straggler: a synchronous wave lasts as long as its longest
response, so a sample costs extra when it runs past ``M``, the length the wave's
longest response reaches anyway, at the per-iteration time of a nearly empty engine.
``X_i`` is the prompt's length law, LogNormal with mean ``E[L_i]`` and log-sd ``sigma``;
``M`` is the ``1 - 1/T`` quantile of the wave's pooled law (about one of ``T`` samples
exceeds it), with ``T`` the samples of the step so far or ``REF_GROUP`` per prompt.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from simbench.cost.generation import coefficients, peak_rate
from simbench.cost.spec import CostSpec

REF_GROUP = 8  # samples per prompt of the reference wave (GRPO's usual group size) before the step has drawn any


def _lognormal_excess(mean: np.ndarray, sigma: float, M: float) -> np.ndarray:
    """E[(X - M)^+] for X LogNormal with this mean and log-sd (Black-Scholes' call formula)."""
    if sigma == 0:
        return np.maximum(mean - M, 0.0)
    mu = np.log(mean) - sigma**2 / 2
    d1 = (mu + sigma**2 - np.log(M)) / sigma
    return mean * ndtr(d1) - M * ndtr(d1 - sigma)


def _pooled_quantile(mean: np.ndarray, sigma: float, q: float, hi: float) -> float:
    """The ``q`` quantile of an equal mixture of LogNormals with these means, by bisection in log space (capped at ``hi``)."""
    mu = np.log(mean) - sigma**2 / 2
    lo_x, hi_x = 0.0, float(np.log(hi))
    if sigma == 0:
        return float(min(mean.max(), hi))
    for _ in range(60):
        mid = (lo_x + hi_x) / 2
        if float(ndtr((mid - mu) / sigma).mean()) < q:
            lo_x = mid
        else:
            hi_x = mid
    return float(np.exp(hi_x))


def time_cost(spec: CostSpec, prompt_len: np.ndarray, mean_len: np.ndarray, sigma: float, max_len: int, samples: int) -> np.ndarray:
    """(S,) expected seconds one more sample of each slot adds to the step's generation (see the module docstring).

    Parameters
    ----------
    prompt_len, mean_len : (S,) prompt tokens and expected response tokens of each slot.
    sigma, max_len : log-sd of a response's length around its prompt's mean, and the longest response.
    samples : samples the step has drawn so far (0 at its first wave).
    """
    mean_len = np.minimum(np.maximum(np.asarray(mean_len, np.float64), 1.0), max_len)
    if len(mean_len) == 0:
        return np.zeros(0)
    t_fix, a, c, f = coefficients(spec)
    throughput = mean_len / peak_rate(spec, prompt_len, mean_len)
    T = max(samples, REF_GROUP * len(mean_len))
    M = _pooled_quantile(mean_len, sigma, 1.0 - 1.0 / T, float(max_len))
    t_tail = t_fix + max(a + c * (float(np.mean(prompt_len)) + M), f)
    excess = _lognormal_excess(mean_len, sigma, M) - _lognormal_excess(mean_len, sigma, float(max_len))
    return throughput + t_tail * np.maximum(excess, 0.0)
