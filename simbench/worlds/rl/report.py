"""The report of the RL world (``simbench run`` and ``sweep``): figures, and tables that state their method and seeds."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from simbench.core import stats
from simbench.core.config import ConfigError
from simbench.core.report import Table, figure, figures, final_values, seeds_text
from simbench.core.store import load
from simbench.cost.ledger import COLUMNS as COST_COLUMNS
from simbench.worlds.rl.results import (
    Target,
    at_equal_budget,
    axis_speedups,
    default_rule,
    default_target,
    has_cost,
    level_target,
    summarise,
    support_of,
    time_split,
    time_summary,
    with_total,
)

OPTIONS = ("baseline", "target", "thin")
THIN = 1000  # rows per unit read by default

METHODS = (
    "Statistics: strategies share each seed's population and batch order, so comparisons are paired by seed. "
    "Means over seeds, and means of paired per-seed differences, get 95% Student-t intervals computed on the logit "
    "scale (so they stay in [0, 1], or [-1, 1] for a difference); medians and their ratios get 95% percentile "
    f"bootstrap intervals from {stats.REPS} resamples of seeds (seeded, so the same results give the same report). "
    "Tokens to target: a run that never reaches the target is "
    "censored at its final token count and counted, not dropped; the median is the Kaplan-Meier median. "
    "`inf`: a median the runs did not reach (fewer than half the seeds reached the target); `n/a`: undefined "
    "(no interval from one seed; no speedup when either median is not reached)."
)


def _settings(manifest: dict, params: dict, baseline: str | None, target: float | None) -> tuple[str, Target | None]:
    """The baseline and target of one cell: the command line's, else the sweep's, else the scenario's (None: default rule)."""
    base = baseline or params.get("report.baseline") or manifest["baseline"]
    if target is not None:
        return base, level_target(target, "--target")
    level = params.get("report.target_test_pass", manifest.get("target_test_pass"))
    return base, (level_target(level, "the scenario's [report] target_test_pass") if level is not None else None)


def _cells(df: pd.DataFrame, manifest: dict) -> list[tuple[dict, pd.DataFrame]]:
    """(cell, its rows) in the manifest's order; cells without finished units are left out (the report lists them)."""
    if not manifest["swept"]:
        return [(manifest["cells"][0], df)]
    return [(c, df[df["cell"] == c["id"]]) for c in manifest["cells"] if (df["cell"] == c["id"]).any()]


def _check_baseline(df: pd.DataFrame, baseline: str, from_option: bool, manifest: dict) -> None:
    allocs = list(dict.fromkeys(df["allocator"]))
    if baseline not in allocs:
        where, source = ("--baseline", "command line") if from_option else ("report.baseline", manifest.get("source", "?"))
        raise ConfigError(where, baseline, f"one of the allocators in the results: {', '.join(allocs)}", source)


def summary_of(cells: list[tuple[dict, pd.DataFrame]], manifest: dict, baseline=None, target=None):
    """The summary (per cell, with the swept parameters first, for a sweep) and each cell's (baseline, target)."""
    parts, settings = [], []
    for cell, g in cells:
        base, tgt = _settings(manifest, cell["params"], baseline, target)
        _check_baseline(g, base, baseline is not None, manifest)
        tgt = tgt or default_target(g, base)
        s = summarise(g, base, tgt)
        if has_cost(g):  # the cost model's columns: time and GPU-hours to target, final hours and dollars
            s = s.merge(time_summary(g, base, tgt).drop(columns=["seeds", "seeds_reaching_target"]), on="allocator", how="left")
        if manifest["swept"]:
            for k in reversed(manifest["swept"]):
                s.insert(0, k, cell["params"][k])
            s.insert(0, "cell", cell["id"])
        parts.append(s)
        settings.append((base, tgt))
    return pd.concat(parts, ignore_index=True), settings


def _reached(s: pd.DataFrame) -> pd.Series:
    return s["seeds_reaching_target"].astype(str) + " of " + s["seeds"].astype(str)


def _cell_sections(df: pd.DataFrame, s: pd.DataFrame, baseline: str, target: Target, folder: Path) -> list:
    """Figures and tables of one cell."""
    seeds = seeds_text(s["seeds"])
    blocks = [
        figure(figures.learning_curve_figure(df, "cum_tokens"), folder, "learning_curve", "test pass rate vs cumulative tokens"),
        figure(figures.learning_curve_figure(df, "step"), folder, "learning_curve_steps", "test pass rate vs steps"),
        figure(figures.learning_curve_figure(df, "cum_samples"), folder, "learning_curve_samples", "test pass rate vs cumulative samples"),
        figure(figures.signal_figure(df), folder, "learning_signal", "effective ratio and group shares over training"),
        figure(figures.seed_distribution_figure(df), folder, "final_test_pass_by_seed", "final test pass rate, every seed"),
    ]
    for prefix, title, xlabel, name in (
        ("samples_p_", "Where the samples went: share by the prompt's pass rate when sampled", "pass rate of the prompt when sampled", "samples_by_pass_rate"),
        ("samples_group_", "Per-group spending: share of samples by group", "group (data source)", "samples_by_group"),
    ):
        fig = figures.share_bars_figure(df, prefix, title, xlabel)
        if fig is not None:
            blocks.append(figure(fig, folder, name, title))
    sp = f"speedup_vs_{baseline}"
    tokens = s[["allocator", "seeds"]].assign(reached=_reached(s))
    tokens = pd.concat([tokens, s[["tokens_to_target_median", "tokens_to_target_median_ci_low", "tokens_to_target_median_ci_high",
                                   "paired_seeds", sp, sp + "_ci_low", sp + "_ci_high"]]], axis=1)
    blocks += [
        Table(f"Final test pass rate: mean over {seeds}, 95% Student-t interval on the logit scale; tokens spent: mean",
              s[["allocator", "seeds", "final_test_pass", "final_test_pass_ci_low", "final_test_pass_ci_high", "final_cum_tokens"]]),
        Table(f"Tokens to target ({target.short()}): Kaplan-Meier median over {seeds} (runs that never reach it censored "
              f"at their final tokens), 95% percentile bootstrap interval; speedup vs {baseline}: ratio of the medians "
              f"({baseline} / allocator), 95% paired bootstrap interval", tokens),
    ]
    blocks.append(Table(f"Speedup vs {baseline} to the target on every axis (papers compare on different ones): ratio of the "
                        f"Kaplan-Meier medians over {seeds} of steps, samples, tokens{' and hours' if has_cost(df) else ''} to "
                        f"target ({baseline} / allocator), 95% paired bootstrap intervals", axis_speedups(df, baseline, target)))
    if has_cost(df):
        blocks += _time_sections(df, baseline, target, folder, seeds)
    eq = at_equal_budget(df, baseline)
    blocks.append(Table(f"Test pass rate at equal token budget ({eq['token_budget'].iloc[0]:,.0f} tokens, the least any run spent): "
                        f"mean over {seeds_text(eq['seeds'])}, 95% Student-t interval on the logit scale; gain vs {baseline}: "
                        "mean per-seed difference, 95% paired Student-t interval on the logit scale of [-1, 1]", eq))
    return blocks


def _time_sections(df: pd.DataFrame, baseline: str, target: Target, folder: Path, seeds: str) -> list:
    """The cost model's figures and tables: learning curves in hours, time and GPU-hours to target, where the time goes."""
    t = time_summary(df, baseline, target)
    sp = f"hours_speedup_vs_{baseline}"
    to_target = t[["allocator", "seeds"]].assign(reached=t["seeds_reaching_target"].astype(str) + " of " + t["seeds"].astype(str))
    cols = [f"{x}_to_target_median{c}" for x in ("cum_hours", "gpu_hours") for c in ("", "_ci_low", "_ci_high")]
    to_target = pd.concat([to_target, t[cols + [sp, sp + "_ci_low", sp + "_ci_high"]]], axis=1)
    split = time_split(df)
    return [
        figure(figures.learning_curve_figure(df, "cum_hours"), folder, "learning_curve_hours", "test pass rate vs wall-clock hours"),
        Table(f"Time to target ({target.short()}) under the cost model: wall-clock hours and GPU-hours, Kaplan-Meier medians over "
              f"{seeds} (runs that never reach it censored at their final hours), 95% percentile bootstrap intervals; speedup "
              f"in hours vs {baseline}: ratio of the medians ({baseline} / allocator), 95% paired bootstrap interval", to_target),
        Table(f"Cost of the whole run: mean over {seeds} of the final wall-clock hours, GPU-hours and dollars, 95% Student-t "
              "interval (n/a: the scenario sets no cost.price_per_gpu_hour)",
              t[["allocator"] + [f"final_{c}{s}" for c in ("cum_hours", "gpu_hours", "usd") for s in ("", "_ci_low", "_ci_high")]]),
        figure(figures.stacked_bars_figure(split, "Where the time goes (cost model): mean hours per run", "wall-clock hours per run"),
               folder, "time_split", "hours per run in generation, straggling (the wave after 90% of its sequences finished), "
                                     "reward, training and overheads"),
        Table(f"Where the time goes: mean hours per run over {seeds}; straggling = straggler_share x gen_s; total: 95% "
              "Student-t interval", with_total(split, df).reset_index()),
    ]


def _targets_text(cells, settings) -> str:
    """The targets of a sweep's cells: one sentence when every cell follows the default rule."""
    if all(t.default for _, t in settings) and len({b for b, _ in settings}) == 1:
        return f"Targets: a gain in test pass rate over each seed's initial value, per cell by {default_rule(settings[0][0])} (column `target`)."
    return "Targets: " + "; ".join(f"{cell['id']}: {t.describe()}" for (cell, _), (_, t) in zip(cells, settings)) + "."


def _label(cell: dict) -> str:
    return cell["id"] + (" (" + ", ".join(f"{k} = {v}" for k, v in cell["params"].items()) + ")" if cell["params"] else "")


def build_report(root: Path, folder: Path, manifest: dict, baseline: str | None = None, target: float | None = None,
                 thin: int | None = None):
    """The report's blocks and the summary table of a run or sweep."""
    df = load(root, thin=thin or THIN)
    cells = _cells(df, manifest)
    summary, settings = summary_of(cells, manifest, baseline, target)
    blocks = [METHODS]
    swept = manifest["swept"]
    if not swept:
        base, tgt = settings[0]
        blocks.append(f"Target: {tgt.describe()}.")
        return blocks + _cell_sections(df, summary, base, tgt, folder), summary
    missing = [c["id"] for c in manifest["cells"] if c["id"] not in {cell["id"] for cell, _ in cells}]
    blocks.append(f"Sweep over {', '.join(swept)}: {len(cells)} cells with results"
                  + (f"; no finished units yet in {', '.join(missing)}" if missing else "") + ". " + _targets_text(cells, settings))
    finals = pd.concat([g.loc[g.groupby(["allocator", "seed"], sort=False)["step"].idxmax(), ["allocator", "seed", "test_pass"]]
                        .assign(**cell["params"]) for cell, g in cells], ignore_index=True)
    for p, fig in figures.sweep_line_figures(finals, swept):
        name = "sweep_" + re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_")
        blocks.append(figure(fig, folder, name, f"final test pass rate vs {p} (other parameters pooled)"))
    if len(swept) == 2 and all(pd.api.types.is_numeric_dtype(summary[p]) for p in swept):
        blocks.append(figure(figures.sweep_heatmap_figure(summary, *swept), folder, "sweep_heatmap", "heatmap over the 2-D grid"))
    sp = f"speedup_vs_{settings[0][0]}"
    cols = ["cell", *swept, "allocator", "seeds", "final_test_pass", "final_test_pass_ci_low", "final_test_pass_ci_high", "target", "target_kind"]
    per_cell = pd.concat([summary[cols].assign(reached=_reached(summary)),
                          summary[["tokens_to_target_median", sp, sp + "_ci_low", sp + "_ci_high"]]], axis=1)
    blocks.append(Table(f"Per cell: final test pass rate (mean over {seeds_text(summary['seeds'])}, 95% Student-t interval on the "
                        "logit scale); tokens to target (Kaplan-Meier median, censored runs counted) and the speedup (ratio of "
                        "the medians, 95% paired bootstrap interval)", per_cell))
    first, g = cells[0]
    blocks.append(f"The figures and tables below are for the first cell, {_label(first)}.")
    base, tgt = settings[0]
    first_summary = summary[summary["cell"] == first["id"]].drop(columns=["cell", *swept]).reset_index(drop=True)
    return blocks + _cell_sections(g, first_summary, base, tgt, folder), summary


def compare_values(root: Path, manifest: dict, metric: str | None):
    """Per (cell,) allocator and seed, the final ``metric`` (default test_pass; ``cum_hours``, ``gpu_hours``, ``usd``: the run's cost)."""
    metric = metric or "test_pass"
    try:
        return final_values(root, manifest, metric, "step", support_of(metric))
    except ConfigError as err:
        if metric in COST_COLUMNS:
            raise ConfigError(err.where, err.value, f"{err.allowed} (the cost model's columns need a [cost] table in the scenario)",
                              err.source) from None
        raise
