"""Statistics of reports: intervals that stay in each quantity's support, seeded bootstraps, Kaplan-Meier medians.

- A mean over seeds (or of paired per-seed differences) gets a Student-t
  interval computed on a scale where its support is unbounded (logit for a rate
  in [0, 1], log for a positive count, log(1 - x) for R^2 <= 1) by the delta
  method, and mapped back, so the interval never leaves the support and matches
  the usual t-interval when the mean is far from the bounds.
- Medians and ratios of medians get percentile bootstrap intervals over seeds,
  from a fixed seed, so the same results give the same report.
- Times to a target that some runs never reach are right-censored at the run's
  end; their median is the Kaplan-Meier median.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

LEVEL = 0.95
REPS = 2000  # bootstrap resamples
SEED = 0  # bootstrap seed: reports are deterministic

UNIT = (0.0, 1.0)  # rates, shares
POSITIVE = (0.0, math.inf)  # token and sample counts
AT_MOST_ONE = (-math.inf, 1.0)  # R^2-like scores
REAL = (-math.inf, math.inf)


def _scale(support: tuple[float, float]):
    """(transform, its derivative, inverse) mapping the open support onto the real line."""
    a, b = support
    if math.isfinite(a) and math.isfinite(b):
        w = b - a
        return (lambda x: np.log((x - a) / (b - x)), lambda x: w / ((x - a) * (b - x)),
                lambda z: a + w / (1 + np.exp(-z)))
    if math.isfinite(a):
        return lambda x: np.log(x - a), lambda x: 1 / (x - a), lambda z: a + np.exp(z)
    if math.isfinite(b):
        return lambda x: -np.log(b - x), lambda x: 1 / (b - x), lambda z: b - np.exp(-z)
    return lambda x: x, lambda x: np.ones_like(x), lambda z: z


def t_interval(mean, sd, n, support: tuple[float, float] = REAL, level: float = LEVEL):
    """Student-t interval for a mean on the transformed scale of ``support`` (delta method), mapped back.

    Vectorised over ``mean``, ``sd`` and ``n``.  Returns (low, high): nan where
    ``n < 2``, the mean itself where ``sd == 0``.
    """
    mean, sd, n = np.broadcast_arrays(*(np.asarray(v, float) for v in (mean, sd, n)))
    f, df, inv = _scale(support)
    with np.errstate(all="ignore"):
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n) * df(mean)
        z = f(mean)
        lo, hi = inv(z - half), inv(z + half)
    flat = sd == 0
    lo, hi = np.where(flat, mean, lo), np.where(flat, mean, hi)
    few = ~(n >= 2) | ~np.isfinite(mean)
    return np.where(few, np.nan, lo), np.where(few, np.nan, hi)


def mean_ci(values, support: tuple[float, float] = REAL, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean of the finite ``values`` and its 95% t-interval within ``support`` (nan interval for one value)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    if v.min() < support[0] or v.max() > support[1]:
        raise ValueError(f"values in [{v.min()}, {v.max()}] lie outside their support {support}")
    m = float(v.mean())
    lo, hi = t_interval(m, v.std(ddof=1) if len(v) > 1 else 0.0, len(v), support, level)
    return m, float(lo), float(hi)


def rng() -> np.random.Generator:
    """The bootstrap's generator (fixed seed)."""
    return np.random.default_rng(SEED)


def resamples(n: int, reps: int = REPS) -> np.ndarray:
    """``reps`` x ``n`` indices of seeds drawn with replacement (the same draws for every statistic)."""
    return rng().integers(0, n, (reps, n))


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates, without interpolation (so +inf replicates are kept).

    nan if any replicate is undefined (nan).
    """
    r = np.asarray(replicates, float)
    if len(r) == 0 or np.isnan(r).any():
        return math.nan, math.nan
    tail = (1 - level) / 2
    return float(np.quantile(r, tail, method="lower")), float(np.quantile(r, 1 - tail, method="higher"))


def difference_support(support: tuple[float, float]) -> tuple[float, float]:
    """The support of a difference of two values in ``support`` (e.g. (-1, 1) for two rates)."""
    return support[0] - support[1], support[1] - support[0]


def km_median(time, event) -> np.ndarray:
    """Kaplan-Meier median of each row of (``time``, ``event``); +inf where the curve never falls to 1/2.

    ``event`` is True where the time was observed and False where the run was
    censored at ``time``.  Events sort before censorings at equal times.  Where
    the curve is exactly 1/2 over an interval the median is the midpoint of
    that interval (for uncensored data: the ordinary sample median).
    """
    t = np.atleast_2d(np.asarray(time, float))
    e = np.atleast_2d(np.asarray(event, bool))
    n = t.shape[1]
    order = np.lexsort((~e, t), axis=-1)
    t = np.take_along_axis(t, order, -1)
    e = np.take_along_axis(e, order, -1)
    at_risk = n - np.arange(n)
    surv = np.cumprod(np.where(e, 1 - 1 / at_risk, 1.0), axis=-1)
    below = surv <= 0.5 + 1e-12
    k = below.argmax(axis=-1)
    rows = np.arange(len(t))
    out = np.where(below.any(axis=-1), t[rows, k], np.inf)
    # the first event after k, for the midpoint when the curve sits exactly at 1/2
    event_times = np.where(e, t, np.inf)
    later = np.minimum.accumulate(event_times[:, ::-1], axis=-1)[:, ::-1]
    later = np.concatenate([later[:, 1:], np.full((len(t), 1), np.inf)], axis=-1)[rows, k]
    half = below.any(axis=-1) & np.isclose(surv[rows, k], 0.5, rtol=0, atol=1e-12) & np.isfinite(later)
    return np.where(half, (out + later) / 2, out)


def ratio(num, den) -> np.ndarray:
    """num / den for non-negative times: nan where both are infinite or both zero."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den
