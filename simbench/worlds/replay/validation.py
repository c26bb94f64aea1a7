"""Validation of the simulator against a log: population fits, calibrated learner, observed vs simulated curves, forecast errors."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tomli_w  # noqa: E402

from simbench.core.config import ConfigError  # noqa: E402
from simbench.core.report import Table, figure, seeds_text  # noqa: E402
from simbench.core.stats import LEVEL, UNIT  # noqa: E402
from simbench.core.store import package_versions, write_manifest  # noqa: E402
from simbench.core.version import __version__  # noqa: E402
from simbench.worlds.replay import bootstrap as bs  # noqa: E402
from simbench.worlds.replay import calibrate as cb  # noqa: E402
from simbench.worlds.replay.calibrate import CURVES, DIMS, Forecast, calibrate, fit_populations, forecast, observed_curves, quiet  # noqa: E402
from simbench.worlds.replay.population_fit import paper_statistics  # noqa: E402
from simbench.worlds.replay.simulate import LogAlgorithm, calibrated_scenario  # noqa: E402

LABELS = {"mean_pass": "mean pass rate", "all_correct": "share of all-correct groups", "all_wrong": "share of all-wrong groups"}


def curves_figure(curves: pd.DataFrame, runs: dict[str, str], seeds: int, calib: int | None, title: str) -> plt.Figure:
    """Three panels (mean pass, all-correct, all-wrong) over appearances: observed, and each simulation's mean and range over seeds.

    ``curves``: the columns of ``curves.csv``; ``runs``: legend label -> column prefix (``sim_all``, ``forecast``).
    """
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), dpi=110)
    t = curves["appearance"].to_numpy()
    for ax, c in zip(axes, CURVES):
        ax.plot(t, curves[f"observed_{c}"], "k-o", ms=3, label="observed (log)")
        for (name, prefix), ls in zip(runs.items(), ("--", ":")):
            ax.plot(t, curves[f"{prefix}_{c}"], linestyle=ls, label=f"{name}: mean over {seeds_text([seeds])}")
            ax.fill_between(t, curves[f"{prefix}_{c}_min"], curves[f"{prefix}_{c}_max"], alpha=0.2, label=f"{name}: range over seeds")
        if calib:
            ax.axvline(calib + 0.5, color="gray", lw=0.8)
            ax.text(calib + 0.7, ax.get_ylim()[0], "forecast ->", fontsize=8, va="bottom")
        ax.set_xlabel("appearance (about one epoch each)")
        ax.set_title(LABELS[c])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left")  # the lower right holds the "forecast ->" mark
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def write_calibrated_scenario(cal, appearances: int, path: Path, name: str, log: str) -> None:
    """Write the simulator fitted to the whole log as a scenario file (``simbench run`` compares allocators on it)."""
    sc = calibrated_scenario(cal.init, cal.params, cal.algo, appearances, name,
                             f"Simulator calibrated to {log.split(' [')[0]}: initial population fitted at appearance 1, "
                             f"learner fitted to appearances 1-{appearances} (simbench validate)")
    data = json.loads(json.dumps(sc.to_dict(), default=float))  # numpy scalars -> plain floats
    law = data["population"]["pass_rate"]  # keep only the keys of the fitted law's kind
    used = ("a", "b") if law["kind"] == "beta" else ("weights", "alphas", "betas")
    data["population"]["pass_rate"] = {"kind": law["kind"], **{k: law[k] for k in used}}
    data["strategies"] = [{k: v for k, v in st.items() if v != ""} for st in data["strategies"]]
    header = ("# Written by `simbench validate`: the simulator calibrated to a real log. Response lengths are the\n"
              "# defaults (the log has no token counts). Run it with `simbench run` to compare allocators.\n")
    path.write_text(header + tomli_w.dumps(data))


def _profile(profile: dict) -> str:
    return ", ".join(f"d = {d}: {v:.3g}" for d, v in profile.items())


def _gof(g) -> dict:
    return {"chi2": g.chi2, "dof": g.dof, "p_value": g.p_value, "observed": g.observed.astype(int).tolist(),
            "expected": np.round(g.expected, 1).tolist()}


def validation_work(T: int, calib: int, seeds=(0, 1, 2, 3), eval_seeds=tuple(range(100, 108)), maxfev: int = 100,
                    dims=DIMS, bootstrap: int = 0) -> int:
    """The most work ``validate`` reports to its ``progress`` (units: simulated appearances, see ``calibrate``)."""
    return (cb.calibration_work(T, seeds, maxfev, dims) + len(eval_seeds) * T + cb.forecast_work(T, calib, seeds, eval_seeds, maxfev, dims)
            + bs.bootstrap_work(T, bootstrap, seeds, maxfev))


def validate(K: np.ndarray, N: np.ndarray, algo: LogAlgorithm, calib: int, out: Path, title: str, read_summary: str,
             seeds=(0, 1, 2, 3), eval_seeds=tuple(range(100, 108)), maxfev: int = 100, command: str = "",
             dims=DIMS, progress=quiet, workers: int = 1, bootstrap: int = 0, bootstrap_seed: int = 0) -> dict:
    """Fit, calibrate on everything and on 1..``calib``; write CSV, JSON, ``scenario.toml`` and the manifest into ``out``.

    The report is rendered from these files alone (``build_report``, through ``simbench report``).
    ``progress``, ``workers``: see ``calibrate`` (``validation_work`` units in all).
    ``bootstrap``: replicates of the prompt bootstrap of the calibration on everything (``bootstrap.bootstrap``,
    resampling from ``bootstrap_seed``), recorded under ``bootstrap`` in ``validation.json`` (none: no key).
    """
    out.mkdir(parents=True, exist_ok=True)
    T = K.shape[1]
    pops = fit_populations(K, N, progress=progress)
    run = {"progress": progress, "workers": workers, "init": pops[0]["mixture"]}  # the same fit as calibrate's
    pd.DataFrame([{
        "appearance": p["appearance"], "beta_a": p["beta"].alphas[0], "beta_b": p["beta"].betas[0],
        "beta_chi2_p": p["gof_beta"].p_value, "mixture": p["mixture"].describe().split(" (")[0],
        "mixture_chi2_p": p["gof_mixture"].p_value, "fitted_mean": p["mixture"].mean(),
    } for p in pops]).to_csv(out / "population_fits.csv", index=False)
    full = calibrate(K, N, algo, T, seeds, maxfev=maxfev, dims=dims, **run)
    sim_full = cb.simulate_eval(full, T, eval_seeds, f"simulation of appearances 1-{T}", progress, workers)
    fc: Forecast = forecast(K, N, algo, calib, seeds, eval_seeds, maxfev, dims, **run)
    _, obs = observed_curves(K, N, algo.n)
    curves = pd.DataFrame({"appearance": np.arange(1, T + 1)})
    for c in CURVES:
        curves[f"observed_{c}"] = obs[c]
        for prefix, sim in (("sim_all", sim_full), ("forecast", fc.simulated)):
            curves[f"{prefix}_{c}"] = sim[c].mean(0)
            curves[f"{prefix}_{c}_min"] = sim[c].min(0)
            curves[f"{prefix}_{c}_max"] = sim[c].max(0)
    curves.to_csv(out / "curves.csv", index=False)
    result = {
        "log": read_summary, "algorithm": asdict(algo), "calibration_appearances": calib, "appearances": T,
        "eval_seeds": len(eval_seeds),
        "params_all": asdict(full.params), "params_forecast": asdict(fc.calibration.params),
        "loss_all": full.loss, "evaluations_all": full.evaluations,
        "loss_forecast": fc.calibration.loss, "evaluations_forecast": fc.calibration.evaluations,
        "init_population": fc.calibration.init.describe(),
        "dimension_profile_all": full.profile, "dimension_profile_forecast": fc.calibration.profile,
        "forecast_errors_end": fc.errors_end, "forecast_errors_max": fc.errors_max, "forecast_errors_mean": fc.errors_mean,
        "gof_first": _gof(pops[0]["gof_mixture"]), "gof_last": _gof(pops[-1]["gof_mixture"]),
        "paper_statistics": [{"appearance": p["appearance"], **paper_statistics(p["mixture"])} for p in (pops[0], pops[-1])],
        "calibration_seconds": fc.calibration.seconds + full.seconds,
    }
    if bootstrap:
        fits = bs.bootstrap(K, N, algo, T, full.params.dim, bootstrap, bootstrap_seed, seeds, maxfev, progress, workers)
        point = bs.flat(asdict(full.params), bs.population_params(full.init))
        result["bootstrap"] = {"replicates": bootstrap, "seed": bootstrap_seed, "dim": full.params.dim,
                               "intervals": bs.intervals(point, fits), "fits": fits}
    (out / "validation.json").write_text(json.dumps(result, indent=2, default=float))
    write_calibrated_scenario(full, T, out / "scenario.toml", f"{title}-calibrated", read_summary)
    write_manifest(out, {"world": "validation", "title": f"Validation: {title}", "command": command, "log": read_summary,
                         "simbench_version": __version__, "packages": package_versions()})
    return result


OPTIONS = ()


def build_report(root: Path, folder: Path, manifest: dict):
    """The validation report's blocks, from ``validation.json``, ``curves.csv`` and ``population_fits.csv`` (no summary table)."""
    res = json.loads((root / "validation.json").read_text())
    curves = pd.read_csv(root / "curves.csv")
    algo, calib, T, seeds = res["algorithm"], res["calibration_appearances"], res["appearances"], res["eval_seeds"]
    fig = curves_figure(curves, {"calibrated on all": "sim_all", f"calibrated on 1-{calib}": "forecast"}, seeds, calib,
                        f"{manifest['title'].removeprefix('Validation: ')}: observed vs simulated "
                        f"(uniform GRPO n={algo['n']}, batch {algo['batch']})")
    err = pd.DataFrame([{"curve": c, "error_at_end": res["forecast_errors_end"][c], "max_error_held_out": res["forecast_errors_max"][c],
                         "mean_error_held_out": res["forecast_errors_mean"][c]} for c in CURVES])
    g1, gT = res["gof_first"], res["gof_last"]
    return [
        f"Log: {res['log']}",
        f"Simulated algorithm: uniform GRPO, n = {algo['n']}, batch = {algo['batch']} prompts, {algo['prompts']} prompts "
        f"(one appearance per epoch), initial population = Beta mixture fitted at appearance 1: {res['init_population']}.",
        figure(fig, folder, "validation", "observed vs simulated"),
        Table(f"Forecast check: calibrate on appearances 1-{calib}, predict {calib + 1}-{T}; absolute error "
              f"|simulated mean - observed|, the mean over {seeds_text([seeds])} not used in calibration "
              "(one calibration: no interval)", err),
        f"Fitted learner, calibrated on all {T} appearances: `{res['params_all']}` (loss {res['loss_all']:.3g}, "
        f"{res['evaluations_all']} evaluations). Calibrated on 1-{calib}: `{res['params_forecast']}` "
        f"(loss {res['loss_forecast']:.3g}, {res['evaluations_forecast']} evaluations).",
        *_bootstrap_blocks(res, T),
        "The learner calibrated on all appearances, with the population fitted at appearance 1, is written as "
        "`scenario.toml` (the logged algorithm, uniform GRPO, and DAPO, Reinforce-Ada, GVM and knapsack): "
        "`simbench run scenario.toml` compares allocators on a simulator fitted to this log.",
        "Feature dimension (profiled: one fit per dimension, the lowest objective wins): objective by dimension "
        f"calibrating on all {_profile(res['dimension_profile_all'])}; on 1-{calib} {_profile(res['dimension_profile_forecast'])}.",
        f"Chi-square of the mixture fit: appearance 1: {g1['chi2']:.2f} on {g1['dof']} dof (p = {g1['p_value']:.3f}); "
        f"appearance {T}: {gT['chi2']:.2f} on {gT['dof']} dof (p = {gT['p_value']:.3f}). Observed vs fitted histogram of k "
        f"(appearance 1): observed {g1['observed']}, fitted {g1['expected']}.",
        Table("Population fits per appearance (MLE of beta-binomial counts)", pd.read_csv(root / "population_fits.csv")),
        Table("Statistics papers report (from the fitted mixture)", pd.DataFrame(res["paper_statistics"])),
    ], None


def _bootstrap_blocks(res: dict, T: int) -> list:
    """The calibration's spread over the prompt bootstrap, if ``validate --bootstrap`` ran it (else nothing)."""
    boot = res.get("bootstrap")
    if not boot:
        return []
    B = boot["replicates"]
    table = pd.DataFrame([{"parameter": r["parameter"], "point fit": f"{r['point']:.4g}", "2.5%": f"{r['lo']:.4g}",
                           "97.5%": f"{r['hi']:.4g}"} for r in boot["intervals"]])
    return [Table(f"The calibration on all {T} appearances over a cluster bootstrap of the prompts: B = {B} replicates "
                  f"(prompts resampled with replacement with their whole histories, from seed {boot['seed']}), each refitting "
                  "the population at appearance 1 and the learner with the point fit's optimiser settings and simulation "
                  f"seeds, at its feature dimension d = {boot['dim']}; 95% percentile intervals"
                  + (" (with so few replicates, their range)" if (1 - LEVEL) / 2 * (B - 1) < 1 else ""), table)]


def compare_values(root: Path, manifest: dict, metric: str | None):
    """Per curve, one forecast error of the validation (default: the error at the last appearance); one value, seed 0."""
    metric = metric or "error_at_end"
    res = json.loads((root / "validation.json").read_text())
    keys = {"error_at_end": "forecast_errors_end", "max_error_held_out": "forecast_errors_max", "mean_error_held_out": "forecast_errors_mean"}
    if metric not in keys:
        raise ConfigError("--metric", metric, f"a forecast error of a validation: {', '.join(keys)}", "command line")
    return pd.DataFrame([{"curve": c, "seed": 0, "value": res[keys[metric]][c]} for c in CURVES]), metric, UNIT
