"""Calibrate the simulator to a log, and check it by forecasting the log's later part.

1. Population: at every appearance t, fit a Beta and a 2-component Beta mixture
   to the beta-binomial counts k_it out of n (``population_fit``).
2. Learner: start simulated training from the mixture fitted at appearance 1,
   run the log's own algorithm (uniform GRPO, n, batch, pool size), and choose
   the learner's parameters (log10 of lr_shared, lr_prompt, the shared-skill
   loading's Gamma shape, the scale of the idiosyncratic features (transfer
   between prompts, positive or negative) and the gradient-noise scale, which
   makes prompts drift both ways) by Nelder-Mead on the squared error between observed
   and simulated curves (mean pass rate, shares of all-correct and all-wrong
   groups) plus the per-appearance histogram of k, over the calibration
   appearances.  Every evaluation uses the same seeds (common random numbers).
   The feature dimension, an integer, is profiled: one fit per candidate
   dimension (``DIMS``), the best objective wins.
3. Forecast: calibrate on appearances 1..T_cal, simulate all appearances with
   more seeds, and report the absolute errors on T_cal+1..T.

Work is counted in simulated appearances (a history of T appearances is T units)
and reported to an optional ``progress(stage, detail, units)`` callable, which
``simbench validate`` shows as a progress bar; ``workers`` threads simulate the
seeds of one evaluation side by side (the compiled history releases the GIL, and
each seed has its own streams, so results do not depend on ``workers``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import optimize

from simbench import registry
from simbench.worlds.replay.population_fit import PopulationFit, fit_beta, fit_mixture, goodness_of_fit
from simbench.worlds.replay.simulate import CalibrationParams, LogAlgorithm, curves, histograms, simulate_counts

CURVES = ("mean_pass", "all_correct", "all_wrong")
# Fitted coordinates (log10) and their starting point.
FIT_NAMES = ("lr_shared", "lr_prompt", "skill_shape", "idio_scale", "grad_noise", "kl_coef", "format_fail", "lr_format")
FIT_START = (np.log10(0.005), np.log10(20.0), np.log10(2.0), np.log10(0.5), np.log10(4.0), -4.0, np.log10(0.05), np.log10(3.0))
FIT_BOUNDS = ((-5.0, 0.0), (-1.0, 3.0), (-1.0, 1.5), (-2.0, 1.0), (-1.0, 1.7), (-6.0, 0.0), (-3.0, -0.7), (-1.0, 2.5))
# The coarse grid (log10) searched before Nelder-Mead; the other coordinates stay at FIT_START.
GRID = {"lr_shared": np.log10([0.003, 0.01, 0.03]), "lr_prompt": np.log10([3.0, 6.0, 12.0, 24.0]),
        "grad_noise": np.log10([4.0, 8.0, 16.0, 32.0]), "kl_coef": np.log10([1e-4, 0.01, 0.03])}
# Grid points simulated on every seed after a one-seed screen of the whole grid (None: the whole grid on every seed).
SCREEN = 16
# Feature dimensions profiled by ``calibrate`` (the parameter count of phi; an integer, so not in Nelder-Mead).
DIMS = (4, 16, 64)


def observed_curves(K: np.ndarray, N: np.ndarray, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Histograms (T, n+1) and curves of a log's appearance counts."""
    H = histograms(K, N, n)
    return H, curves(H)


def quiet(stage: str, detail: str, units: float) -> None:
    """The default progress callable: says nothing."""


def fit_populations(K: np.ndarray, N: np.ndarray, components: int = 2, progress=quiet) -> list[dict]:
    """Per appearance: Beta and Beta-mixture MLE, and their chi-square goodness of fit.

    ``progress``: told ``(stage, "appearance t/T", 0)`` before each appearance's fits (see the module docstring).
    """
    out = []
    for t in range(K.shape[1]):
        progress(f"population fits at appearances 1-{K.shape[1]}", f"appearance {t + 1}/{K.shape[1]}", 0)
        have = N[:, t] > 0
        k, n = K[have, t], N[have, t]
        beta, se = fit_beta(k, n)
        mix = fit_mixture(k, n, components)
        out.append({"appearance": t + 1, "beta": beta, "beta_se_log": se, "mixture": mix,
                    "gof_beta": goodness_of_fit(beta, k, n), "gof_mixture": goodness_of_fit(mix, k, n)})
    return out


def simulate_curves(init: PopulationFit, params: CalibrationParams, algo: LogAlgorithm, appearances: int, seeds,
                    first=None, pool: ThreadPoolExecutor | None = None) -> dict:
    """Per seed and appearance: histograms and the three curves, shape (seeds, T); ``first``: see ``simulate_counts``.

    ``pool``: threads to simulate the seeds in (the same result as without).
    """
    def one(seed):
        return histograms(*simulate_counts(init, params, algo, appearances, seed, first), algo.n)

    Hs = np.stack(list(pool.map(one, seeds)) if pool is not None else [one(s) for s in seeds])
    return {"H": Hs, **{c: np.stack([curves(H)[c] for H in Hs]) for c in CURVES}}


def grid_points() -> list[np.ndarray]:
    """The coarse grid searched before Nelder-Mead (``GRID``; the other coordinates at ``FIT_START``)."""
    return [np.array([a, b, FIT_START[2], FIT_START[3], c, d, *FIT_START[6:]]) for a in GRID["lr_shared"]
            for b in GRID["lr_prompt"] for c in GRID["grad_noise"] for d in GRID["kl_coef"]]


def calibration_work(appearances: int, seeds, maxfev: int, dims=DIMS, screen: int | None = SCREEN) -> int:
    """The most work ``calibrate`` reports (units: simulated appearances): grid and Nelder-Mead at every dimension."""
    grid = len(grid_points())
    full = (min(screen, grid) if screen else grid) + maxfev
    return len(dims) * ((grid if screen else 0) + full * len(seeds)) * appearances


@contextlib.contextmanager
def _threads(workers: int):
    """A pool of ``workers`` threads for ``simulate_curves`` (None for one: simulate in this thread)."""
    if workers <= 1:
        yield None
        return
    registry.registry("allocator")  # the role registry loads on first use, which is not thread-safe: load it here
    with ThreadPoolExecutor(workers) as pool:
        yield pool


def _params(x: np.ndarray, base: CalibrationParams) -> CalibrationParams:
    x = np.clip(x, [b[0] for b in FIT_BOUNDS], [b[1] for b in FIT_BOUNDS])
    return CalibrationParams(**{**asdict(base), **{k: float(10 ** v) for k, v in zip(FIT_NAMES, x)}})


def loss(sim: dict, H_obs: np.ndarray, obs: dict, T: int, hist_weight: float = 0.25) -> float:
    """Mean squared error of the seed-mean curves, plus ``hist_weight`` x that of the histograms, over 1..T."""
    err = sum(np.mean((sim[c].mean(0)[:T] - obs[c][:T]) ** 2) for c in CURVES)
    return float(err + hist_weight * np.mean((sim["H"].mean(0)[:T] - H_obs[:T]) ** 2) * H_obs.shape[1])


@dataclass
class Calibration:
    """Result of ``calibrate``: initial population, fitted learner and the fit's diagnostics."""

    init: PopulationFit
    params: CalibrationParams
    algo: LogAlgorithm
    calib_appearances: int
    loss: float
    evaluations: int  # candidates simulated (on one seed in the grid screen, on every seed otherwise)
    seconds: float
    trace: list = field(default_factory=list)
    first: tuple | None = None  # (k, n) at appearance 1 when initial pass rates are drawn from per-prompt posteriors
    profile: dict = field(default_factory=dict)  # feature dimension -> best objective found with it


def calibrate(K: np.ndarray, N: np.ndarray, algo: LogAlgorithm, calib_appearances: int, seeds=(0, 1, 2, 3),
              base: CalibrationParams | None = None, maxfev: int = 100, components: int = 2,
              empirical_bayes: bool = True, dims=DIMS, progress=quiet, workers: int = 1,
              screen: int | None = SCREEN, init: PopulationFit | None = None) -> Calibration:
    """Fit the learner so that simulated training reproduces appearances 1..``calib_appearances`` of the log.

    ``empirical_bayes``: draw each simulated prompt's initial pass rate from its posterior
    given its count at appearance 1 (else from the fitted mixture itself).
    ``dims``: feature dimensions to profile (one fit each; the lowest objective wins).
    ``progress``, ``workers``: see the module docstring (``calibration_work`` units in all).
    ``screen``: grid points kept after the one-seed screen (see ``_fit``).
    ``init``: the mixture already fitted to appearance 1 (``fit_populations``), if at hand.
    """
    t0 = time.perf_counter()
    base = base or CalibrationParams()
    have = N[:, 0] > 0
    init = init or fit_mixture(K[have, 0], N[have, 0], components)
    first = (K[:, 0], N[:, 0]) if empirical_bayes and have.all() else None
    with _threads(workers) as pool:
        fits = {d: _fit(K, N, algo, calib_appearances, seeds, dataclasses.replace(base, dim=int(d)), maxfev, init, first,
                        pool, progress, screen) for d in dims}
    best = min(fits, key=lambda d: fits[d][1])
    params, f, trace, _ = fits[best]
    return Calibration(init, params, algo, calib_appearances, f, sum(fit[3] for fit in fits.values()),
                       time.perf_counter() - t0, trace, first, {int(d): fits[d][1] for d in dims})


def _fit(K, N, algo, T, seeds, base, maxfev, init, first, pool, progress, screen):
    """Grid, then Nelder-Mead, at a fixed feature dimension; return (params, objective, trace, evaluations).

    With ``screen``, every grid point is first simulated on the first seed only, and the
    ``screen`` best of them on all seeds (the full grid otherwise).
    """
    H_obs, obs = observed_curves(K[:, :T], N[:, :T], algo.n)
    trace = []
    grid = grid_points()
    stage = f"calibration on appearances 1-{T}, d = {base.dim}"
    full = (min(screen, len(grid)) if screen else len(grid)) + maxfev  # evaluations on every seed

    def objective(x):
        sim = simulate_curves(init, _params(x, base), algo, T, seeds, first, pool)
        f = loss(sim, H_obs, obs, T)
        trace.append((*np.round(10 ** np.asarray(x), 6), f))
        if len(trace) <= full:  # Nelder-Mead may finish its last iteration a few evaluations past maxfev
            progress(stage, f"candidate {len(trace)}/{full}", len(seeds) * T)
        return f

    if screen:
        def one_seed(x):
            return loss(simulate_curves(init, _params(x, base), algo, T, seeds[:1], first), H_obs, obs, T)

        screened = []
        for f in (pool.map(one_seed, grid) if pool is not None else map(one_seed, grid)):
            screened.append(f)
            progress(stage, f"grid screen {len(screened)}/{len(grid)}", T)
        grid = [grid[i] for i in sorted(np.argsort(screened, kind="stable")[:screen])]
    # coarse grid over the rates and the noise (the objective is multimodal), then Nelder-Mead from the best point
    start = min(grid, key=objective)
    res = optimize.minimize(objective, start, method="Nelder-Mead",
                            options={"maxfev": maxfev, "xatol": 0.02, "fatol": 1e-7, "initial_simplex": _simplex(start)})
    # Nelder-Mead converged before maxfev: the work it did not need is done
    progress(stage, f"done after {len(trace)} candidates", max(0, full - len(trace)) * len(seeds) * T)
    return _params(res.x, base), float(res.fun), trace, len(trace) + (len(grid_points()) if screen else 0)


def _simplex(x0: np.ndarray) -> np.ndarray:
    steps = np.array([0.5, 0.5, 0.4, 0.4, 0.4, 0.5, 0.4, 0.5])  # a factor ~3 in each rate, ~2.5 in the feature scales and noise
    return np.vstack([x0] + [x0 + np.eye(len(x0))[i] * steps[i] for i in range(len(x0))])


@dataclass
class Forecast:
    """Observed vs simulated curves over all appearances, and errors on the held-out ones."""

    calibration: Calibration
    observed: dict
    simulated: dict
    errors_end: dict
    errors_max: dict
    errors_mean: dict


def forecast_work(appearances: int, calib_appearances: int, seeds, eval_seeds, maxfev: int, dims=DIMS) -> int:
    """The most work ``forecast`` reports: the calibration, then the eval seeds over every appearance."""
    return calibration_work(calib_appearances, seeds, maxfev, dims) + len(eval_seeds) * appearances


def simulate_eval(cal: Calibration, appearances: int, eval_seeds, stage: str, progress=quiet, workers: int = 1) -> dict:
    """``simulate_curves`` of a calibration's fit over ``appearances``, reported to ``progress`` as ``stage``."""
    progress(stage, f"{len(eval_seeds)} seeds", 0)
    with _threads(workers) as pool:
        sim = simulate_curves(cal.init, cal.params, cal.algo, appearances, eval_seeds, cal.first, pool)
    progress(stage, f"{len(eval_seeds)} seeds", len(eval_seeds) * appearances)
    return sim


def forecast(K: np.ndarray, N: np.ndarray, algo: LogAlgorithm, calib_appearances: int, seeds=(0, 1, 2, 3),
             eval_seeds=tuple(range(100, 108)), maxfev: int = 100, dims=DIMS, progress=quiet, workers: int = 1,
             screen: int | None = SCREEN, init: PopulationFit | None = None) -> Forecast:
    """Calibrate on 1..``calib_appearances``, simulate every appearance of the log with fresh seeds, score the rest.

    ``errors_end``: |simulated seed-mean - observed| at the last appearance;
    ``errors_max`` / ``errors_mean``: the max / mean over held-out appearances.
    ``progress``, ``workers``, ``screen``, ``init``: see ``calibrate`` (``forecast_work`` units in all).
    """
    T = K.shape[1]
    cal = calibrate(K, N, algo, calib_appearances, seeds, maxfev=maxfev, dims=dims, progress=progress, workers=workers,
                    screen=screen, init=init)
    H_obs, obs = observed_curves(K, N, algo.n)
    sim = simulate_eval(cal, T, eval_seeds, f"forecast of appearances {calib_appearances + 1}-{T}", progress, workers)
    held = slice(calib_appearances, T)
    err = {c: np.abs(sim[c].mean(0) - obs[c]) for c in CURVES}
    return Forecast(cal, {"H": H_obs, **obs}, sim, {c: float(err[c][-1]) for c in CURVES},
                    {c: float(err[c][held].max()) for c in CURVES}, {c: float(err[c][held].mean()) for c in CURVES})
