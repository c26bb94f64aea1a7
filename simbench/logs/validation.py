"""The validation report: population fits, calibrated learner, observed vs simulated curves, forecast errors."""
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

from simbench.logs.calibrate import CURVES, DIMS, Forecast, calibrate, fit_populations, forecast, observed_curves, simulate_curves  # noqa: E402
from simbench.logs.population_fit import paper_statistics  # noqa: E402
from simbench.logs.simulate import LogAlgorithm, calibrated_scenario  # noqa: E402

LABELS = {"mean_pass": "mean pass rate", "all_correct": "share of all-correct groups", "all_wrong": "share of all-wrong groups"}


def curves_figure(observed: dict, runs: dict[str, dict], calib: int | None, title: str) -> plt.Figure:
    """Three panels (mean pass, all-correct, all-wrong) over appearances: observed, and each simulation's mean and range over seeds."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), dpi=110)
    T = len(observed["mean_pass"])
    t = np.arange(1, T + 1)
    for ax, c in zip(axes, CURVES):
        ax.plot(t, observed[c], "k-o", ms=3, label="observed (log)")
        for (name, sim), ls in zip(runs.items(), ("--", ":")):
            y = sim[c]
            ax.plot(t, y.mean(0), linestyle=ls, label=f"{name}: mean over {len(y)} seeds")
            ax.fill_between(t, y.min(0), y.max(0), alpha=0.2, label=f"{name}: range over seeds")
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


def _table(df: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |")
    return "\n".join(lines)


def validate(K: np.ndarray, N: np.ndarray, algo: LogAlgorithm, calib: int, out: Path, title: str, read_summary: str,
             seeds=(0, 1, 2, 3), eval_seeds=tuple(range(100, 108)), maxfev: int = 100, command: str = "",
             dims=DIMS) -> dict:
    """Fit, calibrate on everything and on 1..``calib``, and write ``validation.md``, figures, CSV and JSON into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    T = K.shape[1]
    pops = fit_populations(K, N)
    pop_rows = pd.DataFrame([{
        "appearance": p["appearance"], "beta_a": p["beta"].alphas[0], "beta_b": p["beta"].betas[0],
        "beta_chi2_p": p["gof_beta"].p_value, "mixture": p["mixture"].describe().split(" (")[0],
        "mixture_chi2_p": p["gof_mixture"].p_value, "fitted_mean": p["mixture"].mean(),
    } for p in pops])
    pop_rows.to_csv(out / "population_fits.csv", index=False)
    full = calibrate(K, N, algo, T, seeds, maxfev=maxfev, dims=dims)
    sim_full = simulate_curves(full.init, full.params, algo, T, eval_seeds, full.first)
    fc: Forecast = forecast(K, N, algo, calib, seeds, eval_seeds, maxfev, dims)
    H_obs, obs = observed_curves(K, N, algo.n)
    fig = curves_figure(obs, {"calibrated on all": sim_full, f"calibrated on 1-{calib}": fc.simulated}, calib,
                        f"{title}: observed vs simulated (uniform GRPO n={algo.n}, batch {algo.batch})")
    fig.savefig(out / "validation.png")
    plt.close(fig)
    curves = pd.DataFrame({"appearance": np.arange(1, T + 1)})
    for c in CURVES:
        curves[f"observed_{c}"] = obs[c]
        curves[f"sim_all_{c}"] = sim_full[c].mean(0)
        curves[f"forecast_{c}"] = fc.simulated[c].mean(0)
    curves.to_csv(out / "curves.csv", index=False)
    g_first, g_last = pops[0]["gof_mixture"], pops[-1]["gof_mixture"]
    papers = pd.DataFrame([{"appearance": p["appearance"], **paper_statistics(p["mixture"])} for p in (pops[0], pops[-1])])
    result = {
        "log": read_summary, "algorithm": asdict(algo), "calibration_appearances": calib,
        "params_all": asdict(full.params), "params_forecast": asdict(fc.calibration.params),
        "init_population": fc.calibration.init.describe(),
        "dimension_profile_all": full.profile, "dimension_profile_forecast": fc.calibration.profile,
        "forecast_errors_end": fc.errors_end, "forecast_errors_max": fc.errors_max, "forecast_errors_mean": fc.errors_mean,
        "calibration_seconds": fc.calibration.seconds + full.seconds,
    }
    (out / "validation.json").write_text(json.dumps(result, indent=2, default=float))
    write_calibrated_scenario(full, T, out / "scenario.toml", f"{title}-calibrated", read_summary)
    err = pd.DataFrame([{"curve": c, "error_at_end": fc.errors_end[c], "max_error_held_out": fc.errors_max[c],
                         "mean_error_held_out": fc.errors_mean[c]} for c in CURVES])
    text = [
        f"# Validation: {title}", "", f"Regenerate with: `{command}`" if command else "", "", f"Log: {read_summary}", "",
        f"Simulated algorithm: uniform GRPO, n = {algo.n}, batch = {algo.batch} prompts, {algo.prompts} prompts "
        f"(one appearance per epoch), initial population = Beta mixture fitted at appearance 1: {fc.calibration.init.describe()}.",
        "", "![observed vs simulated](validation.png)", "",
        f"## Forecast check: calibrate on appearances 1-{calib}, predict {calib + 1}-{T}", "",
        f"Absolute error |simulated mean over {len(eval_seeds)} fresh seeds - observed|:", "", _table(err), "",
        "## Fitted learner", "",
        f"Calibrated on all {T} appearances: `{asdict(full.params)}` (loss {full.loss:.3g}, {full.evaluations} evaluations).", "",
        f"Calibrated on 1-{calib}: `{asdict(fc.calibration.params)}` (loss {fc.calibration.loss:.3g}, "
        f"{fc.calibration.evaluations} evaluations).", "",
        "The learner calibrated on all appearances, with the population fitted at appearance 1, is written as "
        "`scenario.toml` (the logged algorithm, uniform GRPO, and DAPO, Reinforce-Ada, GVM and knapsack): "
        "`simbench run scenario.toml` compares allocators on a simulator fitted to this log.", "",
        "Feature dimension (profiled: one fit per dimension, the lowest objective wins): objective by dimension "
        f"calibrating on all {_profile(full.profile)}; on 1-{calib} {_profile(fc.calibration.profile)}.", "",
        "## Population fits per appearance (MLE of beta-binomial counts)", "",
        f"Chi-square of the mixture fit: appearance 1: {g_first.chi2:.2f} on {g_first.dof} dof (p = {g_first.p_value:.3f}); "
        f"appearance {T}: {g_last.chi2:.2f} on {g_last.dof} dof (p = {g_last.p_value:.3f}).", "",
        "Observed vs fitted histogram of k (appearance 1): "
        f"observed {g_first.observed.astype(int).tolist()}, fitted {np.round(g_first.expected, 1).tolist()}.", "",
        _table(pop_rows), "",
        "## Statistics papers report (from the fitted mixture)", "", _table(papers), "",
    ]
    (out / "validation.md").write_text("\n".join(text))
    return result
