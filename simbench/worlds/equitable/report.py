"""The report of the equitable world: per-group performance and the objective vs budget, and the summary at full budget."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simbench.core import stats
from simbench.core.report import Table, figure, final_values, seeds_text, tables
from simbench.core.report.figures import band_on_grid, style
from simbench.core.store import load

OPTIONS = ("thin",)
THIN = 1000
# the range of a group's performance for each metric: R^2 (a squared correlation) and AUC in [0, 1], correlation in [-1, 1]
METRIC_SUPPORT = {"r2": (0.0, 1.0), "auc": (0.0, 1.0), "corr": (-1.0, 1.0)}


def supports(metric: str, objective: str) -> dict[str, tuple[float, float]]:
    """Support of each summarised column: performances and the objective stay in the metric's range
    (the fairness penalty only lowers it), the best-worst gap in [0, its width]."""
    lo, hi = METRIC_SUPPORT[metric]
    return {"perf": (lo, hi), "objective": (-math.inf if objective == "fairness_penalty" else lo, hi), "gap": (0.0, hi - lo)}


def _finals(df: pd.DataFrame) -> pd.DataFrame:
    return df.loc[df.groupby(["allocator", "seed"], sort=False)["batch"].idxmax()]


def summarise_equitable(df: pd.DataFrame, metric: str = "r2", objective: str = "group_average") -> pd.DataFrame:
    """Per allocator at the full budget: objective and best-worst gap (mean, 95% t-interval on the scale of their
    support), mean samples and performance per group."""
    sup = supports(metric, objective)
    rows = []
    for alloc, g in _finals(df).groupby("allocator", sort=False):
        m, lo, hi = stats.mean_ci(g["objective"], sup["objective"])
        gm, glo, ghi = stats.mean_ci(g["gap"], sup["gap"])
        row = {"allocator": alloc, "seeds": len(g), "objective": m, "objective_ci_low": lo, "objective_ci_high": hi,
               "gap": gm, "gap_ci_low": glo, "gap_ci_high": ghi, "spent": float(g["spent"].mean())}
        for c in [c for c in df.columns if c.startswith(("n_", "perf_"))]:
            row[c] = float(g[c].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _curves_figure(df: pd.DataFrame, sup: dict) -> plt.Figure:
    groups = [c[len("perf_"):] for c in df.columns if c.startswith("perf_")]
    panels = [f"perf_{g}" for g in groups] + ["objective"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4), dpi=100, sharex=True)
    for ax, col in zip(axes, panels):
        for i, (alloc, g) in enumerate(df.groupby("allocator", sort=False)):
            runs = [r.sort_values("batch") for _, r in g.groupby("seed")]
            grid = np.linspace(min(r["spent"].iloc[0] for r in runs), min(r["spent"].iloc[-1] for r in runs), 60)
            mean, lo, hi = band_on_grid(runs, "spent", col, grid, sup["objective" if col == "objective" else "perf"])
            ax.plot(grid, mean, label=alloc, markevery=10, **style(i))
            ax.fill_between(grid, lo, hi, alpha=0.15)
        ax.set_xlabel("budget spent (cost units)")
        ax.set_ylabel("test performance of the PRS" if col != "objective" else "objective")
        ax.set_title(col.replace("perf_", "group ") if col != "objective" else "objective")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("Per-group performance and the objective vs budget (mean, 95% band over seeds)")
    fig.tight_layout()
    return fig


def _allocation_figure(df: pd.DataFrame) -> plt.Figure:
    ncols = [c for c in df.columns if c.startswith("n_")]
    share = _finals(df).groupby("allocator", sort=False)[ncols].mean()
    share = share.div(share.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    bottom = np.zeros(len(share))
    hatches = ["", "//", "..", "xx", "\\\\"]
    for j, c in enumerate(ncols):
        ax.bar(share.index, share[c], bottom=bottom, label=c[2:], hatch=hatches[j % len(hatches)], edgecolor="black")
        bottom += share[c].to_numpy()
    ax.set_ylabel("share of samples collected")
    ax.set_xlabel("collector")
    ax.set_title("Where the budget went: share of samples per group at the full budget")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def build_report(root: Path, folder: Path, manifest: dict, thin: int | None = None):
    """The report's blocks and summary of an equitable run (per cell, with the swept parameters, for a sweep)."""
    df = load(root, thin=thin or THIN)
    metric, objective = manifest["metric"], manifest["objective"]
    sup = supports(metric, objective)
    swept = manifest["swept"]
    cells, summary = tables.per_cell(df, manifest, lambda g: summarise_equitable(g, metric, objective))
    first, g = cells[0]
    blocks = [f"Group performance: test {metric} of the pooled PRS; objective: {objective}. Means over seeds with 95% "
              "Student-t intervals computed on a scale where each quantity's range is unbounded (logit for a bounded range, "
              "log for a one-sided one), so they stay inside it."]
    if swept:
        blocks.append(f"Sweep over {', '.join(swept)}: the table has every cell; the figures are for the first cell, {first['id']} "
                      f"({', '.join(f'{k} = {v}' for k, v in first['params'].items())}).")
    blocks += [figure(_curves_figure(g, sup), folder, "equitable_curves", f"per-group test {metric} and the objective vs budget"),
               figure(_allocation_figure(g), folder, "equitable_allocation", "share of samples per group"),
               Table(f"Objective and best-worst group gap at the full budget: mean over {seeds_text(summary['seeds'])}, "
                     "95% Student-t interval on the scale of their range; samples and performance per group: mean", summary)]
    return blocks, summary


def compare_values(root: Path, manifest: dict, metric: str | None):
    """Per (cell,) allocator and seed, the final ``metric`` (default objective)."""
    metric = metric or "objective"
    sup = supports(manifest["metric"], manifest["objective"])
    support = sup["perf"] if metric.startswith("perf_") else sup.get(metric, stats.REAL)
    return final_values(root, manifest, metric, "batch", support)
