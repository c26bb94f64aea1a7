"""Cluster bootstrap of the calibration over a log's prompts: the spread of the fitted parameters due to the data.

A replicate resamples the log's P prompts with replacement, each drawn prompt bringing its whole
history (the prompt is the cluster: its appearances are dependent, the prompts are not; Davison &
Hinkley 1997, *Bootstrap Methods and their Application*, §3.8), and refits the initial population
(the Beta mixture at appearance 1) and the learner to the resampled log by ``calibrate``: the same
grid, Nelder-Mead settings and simulation seeds as the point fit. With common random numbers the
spread over replicates is the data's (which prompts the log happens to hold), not Monte-Carlo noise
of the simulation; a replicate whose resample is the identity returns the point fit bit for bit.

The feature dimension is held at the point fit's: profiling it again in every replicate would
triple the cost (one fit per candidate dimension), and it is a discrete choice of model size whose
profile is flat near the optimum, not a rate the data pins down.
"""
from __future__ import annotations

from dataclasses import asdict

import numpy as np

from simbench.core import stats
from simbench.worlds.replay.calibrate import FIT_NAMES, Calibration, calibrate, calibration_work, quiet
from simbench.worlds.replay.simulate import LogAlgorithm

# the population's parameters in the intervals: the mixture's mean and standard deviation of p0 (well identified),
# then the second (easier) component's weight and both components' Betas (which may trade places between replicates)
POPULATION = ("mean_p0", "sd_p0", "weight_2", "alpha_1", "beta_1", "alpha_2", "beta_2")


def resample(prompts: int, seed: int, replicate: int) -> np.ndarray:
    """Replicate ``replicate``'s prompts: ``prompts`` row indices drawn with replacement, from ``default_rng([seed, replicate])``."""
    return np.random.default_rng([seed, replicate]).integers(0, prompts, prompts)


def bootstrap_work(appearances: int, replicates: int, seeds, maxfev: int) -> int:
    """The most work ``bootstrap`` reports (``calibration_work`` units): one calibration at one dimension per replicate."""
    return replicates * calibration_work(appearances, seeds, maxfev, dims=(1,))  # one dimension; its value does not count


def refit(K: np.ndarray, N: np.ndarray, rows: np.ndarray, algo: LogAlgorithm, appearances: int, dim: int,
          seeds=(0, 1, 2, 3), maxfev: int = 100, progress=quiet, workers: int = 1) -> Calibration:
    """Population at appearance 1 and learner at feature dimension ``dim``, fitted to the log's prompts ``rows``."""
    return calibrate(K[rows], N[rows], algo, appearances, seeds, maxfev=maxfev, dims=(dim,), progress=progress,
                     workers=workers)


def bootstrap(K: np.ndarray, N: np.ndarray, algo: LogAlgorithm, appearances: int, dim: int, replicates: int, seed: int = 0,
              seeds=(0, 1, 2, 3), maxfev: int = 100, progress=quiet, workers: int = 1) -> list[dict]:
    """``replicates`` refits on prompts resampled with replacement (see the module docstring), one dict each.

    Each dict: ``replicate`` b and ``resample_seed`` [seed, b] (the prompts are ``resample(P, seed, b)``),
    ``distinct_prompts``, the fitted learner ``params``, ``population`` (weights, alphas, betas), ``loss`` and
    ``evaluations``. ``progress`` is told each replicate's calibration stages prefixed by ``bootstrap b/B``.
    """
    fits = []
    for b in range(replicates):
        rows = resample(K.shape[0], seed, b)

        def told(stage, detail, units, b=b):
            progress(f"bootstrap {b + 1}/{replicates}: {stage}", detail, units)

        cal = refit(K, N, rows, algo, appearances, dim, seeds, maxfev, told, workers)
        fits.append({"replicate": b, "resample_seed": [seed, b], "distinct_prompts": int(len(np.unique(rows))),
                     "params": asdict(cal.params), "population": population_params(cal.init), "loss": cal.loss,
                     "evaluations": cal.evaluations})
    return fits


def population_params(init) -> dict:
    """A fitted Beta mixture as plain lists (the ``[population.pass_rate]`` keys of a scenario)."""
    return {"weights": list(init.weights), "alphas": list(init.alphas), "betas": list(init.betas)}


def flat(params: dict, population: dict) -> dict[str, float]:
    """The fitted learner's coordinates (``FIT_NAMES``) and the population's (``POPULATION``), by name."""
    w, a, b = (np.asarray(population[k]) for k in ("weights", "alphas", "betas"))
    mean, square = float(w @ (a / (a + b))), float(w @ (a * (a + 1) / ((a + b) * (a + b + 1))))
    return {**{k: params[k] for k in FIT_NAMES}, "mean_p0": mean, "sd_p0": float(np.sqrt(square - mean ** 2)),
            "weight_2": w[-1], "alpha_1": a[0], "beta_1": b[0], "alpha_2": a[-1], "beta_2": b[-1]}


def intervals(point: dict, fits: list[dict], level: float = stats.LEVEL) -> list[dict]:
    """Per parameter: the point fit and the percentile interval over the replicates (``stats.percentile_interval``).

    ``point``: ``flat`` of the point fit. Without interpolation, so with few replicates the 95% interval is
    their range.
    """
    reps = [flat(f["params"], f["population"]) for f in fits]
    return [{"parameter": k, "point": v, **dict(zip(("lo", "hi"), stats.percentile_interval([r[k] for r in reps], level)))}
            for k, v in point.items()]

