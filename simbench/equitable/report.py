"""Summary and figures of the equitable world (registered with the report package)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simbench.report import register_world, save_figure
from simbench.report.figures import band_on_grid, style
from simbench.results import mean_ci


def summarise_equitable(df: pd.DataFrame) -> pd.DataFrame:
    """Per allocator at the full budget: objective and best-worst gap with 95% CIs, mean n and performance per group."""
    finals = df.loc[df.groupby(["allocator", "seed"], sort=False)["batch"].idxmax()]
    rows = []
    for alloc, g in finals.groupby("allocator", sort=False):
        m, lo, hi = mean_ci(g["objective"].to_numpy())
        gm, glo, ghi = mean_ci(g["gap"].to_numpy())
        row = {"allocator": alloc, "seeds": len(g), "objective": m, "objective_ci_low": lo, "objective_ci_high": hi,
               "gap": gm, "gap_ci_low": glo, "gap_ci_high": ghi, "spent": float(g["spent"].mean())}
        for c in [c for c in df.columns if c.startswith(("n_", "perf_"))]:
            row[c] = float(g[c].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def figures(df: pd.DataFrame, folder):
    groups = [c[len("perf_"):] for c in df.columns if c.startswith("perf_")]
    panels = [f"perf_{g}" for g in groups] + ["objective"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4), dpi=100, sharex=True)
    for ax, col in zip(axes, panels):
        for i, (alloc, g) in enumerate(df.groupby("allocator", sort=False)):
            runs = [r.sort_values("batch") for _, r in g.groupby("seed")]
            grid = np.linspace(min(r["spent"].iloc[0] for r in runs), min(r["spent"].iloc[-1] for r in runs), 60)
            mean, lo, hi = band_on_grid(runs, "spent", col, grid)
            ax.plot(grid, mean, label=alloc, markevery=10, **style(i))
            ax.fill_between(grid, lo, hi, alpha=0.15)
        ax.set_xlabel("budget spent (cost units)")
        ax.set_ylabel("test R^2 of the PRS" if col != "objective" else "objective")
        ax.set_title(col.replace("perf_", "group ") if col != "objective" else "objective")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("Per-group performance and the objective vs budget (mean, 95% band over seeds)")
    fig.tight_layout()
    save_figure(fig, folder, "equitable_curves")
    plt.close(fig)
    finals = df.loc[df.groupby(["allocator", "seed"], sort=False)["batch"].idxmax()]
    ncols = [c for c in df.columns if c.startswith("n_")]
    share = finals.groupby("allocator", sort=False)[ncols].mean()
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
    save_figure(fig, folder, "equitable_allocation")
    plt.close(fig)
    return [("equitable_curves", "per-group test R^2 and the objective vs budget"), ("equitable_allocation", "share of samples per group")]


def build(df: pd.DataFrame, folder):
    figs = figures(df, folder)
    return figs, [("Objective and best-worst group gap at the full budget (95% t-CI over seeds)", summarise_equitable(df))]


register_world("equitable", build)
