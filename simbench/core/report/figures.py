"""Figures of a report.  Every figure has a title, labelled axes with units and a
legend, and tells allocators apart by line style and marker, not only colour."""
from __future__ import annotations

import numbers
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from simbench.core.stats import REAL, UNIT, mean_ci, t_interval  # noqa: E402

STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1)), "v"), ((0, (3, 1, 1, 1)), "P"),
          ((0, (1, 1)), "X"), ((0, (8, 2, 2, 2)), "*"), ((0, (3, 3)), "h"), ((0, (6, 1, 1, 1, 1, 1)), "<")]
HATCHES = ["", "//", "..", "xx", "\\\\", "oo", "++", "--", "**", "||"]


def style(i: int) -> dict:
    ls, marker = STYLES[i % len(STYLES)]
    return {"linestyle": ls, "marker": marker}


def band_on_grid(runs: list[pd.DataFrame], x: str, y: str, grid: np.ndarray, support: tuple[float, float] = REAL):
    """Mean and 95% t-band over seeds of ``y`` interpolated on ``grid`` of ``x`` (nan beyond a run's end).

    The band is computed on the scale where ``support`` is unbounded (``simbench.core.stats.t_interval``),
    so it stays inside it; it is the mean alone where one seed is left.
    """
    curves = np.full((len(runs), len(grid)), np.nan)
    for i, r in enumerate(runs):
        xs, ys = r[x].to_numpy(float), r[y].to_numpy(float)
        ok = np.isfinite(ys)
        if ok.sum() == 0:
            continue
        inside = grid <= xs[-1]
        curves[i, inside] = np.interp(grid[inside], xs[ok], ys[ok])
    count = np.sum(np.isfinite(curves), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan columns beyond a run's end
        mean = np.nanmean(curves, axis=0)
        sd = np.nanstd(curves, axis=0, ddof=1) if len(runs) > 1 else np.zeros(len(grid))
    lo, hi = t_interval(mean, np.nan_to_num(sd), count, support)
    one = count < 2
    return mean, np.where(one, mean, lo), np.where(one, mean, hi)


def _curves(ax, df: pd.DataFrame, x: str, y: str, scale: float = 1.0, points: int = 200, support=UNIT) -> None:
    for i, (alloc, g) in enumerate(df.groupby("allocator", sort=False)):
        runs = [r.sort_values("step") for _, r in g.groupby("seed")]
        end = min(r[x].iloc[-1] for r in runs)  # where every seed still has data
        grid = np.linspace(0, end, points)
        mean, lo, hi = band_on_grid(runs, x, y, grid, support)
        ax.plot(grid / scale, mean, markevery=max(points // 8, 1), label=f"{alloc} ({len(runs)} seeds)", **style(i))
        ax.fill_between(grid / scale, lo, hi, alpha=0.18)
    ax.grid(alpha=0.3)


# x axes of the learning curves: (label, name in the title, scale)
X_AXES = {"cum_tokens": ("cumulative tokens generated (millions)", "tokens", 1e6), "step": ("training step", "steps", 1.0),
          "cum_samples": ("cumulative samples generated (thousands)", "samples", 1e3),
          "cum_hours": ("wall-clock hours (cost model)", "wall-clock hours", 1.0)}


def learning_curve_figure(df: pd.DataFrame, x: str = "cum_tokens", y: str = "test_pass", title: str = "") -> plt.Figure:
    """Test pass rate vs cumulative tokens, samples, steps or hours, mean and 95% band over seeds, one line per allocator."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    label, name, scale = X_AXES[x]
    _curves(ax, df, x, y, scale=scale)
    ax.set_xlabel(label)
    ax.set_ylabel("test pass rate (mean pass@1 over test prompts)")
    ax.set_title(title or f"Test pass rate vs {name} (mean, 95% band over seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def signal_figure(df: pd.DataFrame) -> plt.Figure:
    """Effective ratio and the all-pass / all-fail / mixed group shares over training."""
    d = df[df["step"] > 0].copy()
    prompts = d["prompts"].where(d["prompts"] > 0)
    for k in ("all_pass", "all_fail", "mixed"):
        d[f"share_{k}"] = d[f"groups_{k}"] / prompts
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), dpi=100, sharex=True)
    panels = [("effective_ratio", "effective ratio (share of trained samples with A != 0)"),
              ("share_mixed", "share of groups with mixed rewards"),
              ("share_all_pass", "share of all-correct groups"),
              ("share_all_fail", "share of all-wrong groups")]
    for ax, (col, label) in zip(axes.flat, panels):
        _curves(ax, d, "step", col, points=120)
        ax.set_ylabel(label, fontsize=8)
        ax.set_title(label.split(" (")[0], fontsize=10)
    for ax in axes[1]:
        ax.set_xlabel("training step")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Learning signal over training (mean, 95% band over seeds)")
    fig.tight_layout()
    return fig


def seed_distribution_figure(df: pd.DataFrame, column: str = "test_pass") -> plt.Figure:
    """Final value of ``column`` per seed: a box per allocator with every seed as a point."""
    finals = df.loc[df.groupby(["allocator", "seed"], sort=False)["step"].idxmax()]
    allocs = list(dict.fromkeys(finals["allocator"]))
    data = [finals.loc[finals["allocator"] == a, column].to_numpy() for a in allocs]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(allocs) + 2), 4.5), dpi=110)
    box = ax.boxplot(data, patch_artist=True, widths=0.5)
    for i, patch in enumerate(box["boxes"]):
        patch.set_facecolor("white")
        patch.set_hatch(HATCHES[i % len(HATCHES)])
    jitter = np.random.default_rng(0)
    for i, vals in enumerate(data, start=1):
        ax.plot(i + jitter.uniform(-0.12, 0.12, len(vals)), vals, linestyle="none", marker=STYLES[(i - 1) % len(STYLES)][1],
                color="black", alpha=0.7, markersize=4, label="one seed" if i == 1 else None)
    ax.set_xticks(range(1, len(allocs) + 1), allocs, rotation=20, ha="right")
    ax.set_xlabel("allocator")
    ax.set_ylabel(f"final {column.replace('_', ' ')} (fraction)")
    ax.set_title(f"Final {column.replace('_', ' ')} over seeds (box: quartiles; points: seeds)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def share_bars_figure(df: pd.DataFrame, prefix: str, title: str, xlabel: str) -> plt.Figure | None:
    """Share of all samples spent per category (columns ``prefix*``), grouped bars per allocator."""
    cols = [c for c in df.columns if c.startswith(prefix)]
    if not cols:
        return None
    totals = df.groupby("allocator", sort=False)[cols].sum()
    shares = totals.div(totals.sum(axis=1).replace(0, np.nan), axis=0)
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(cols) * len(shares) / 3 + 4), 4.5), dpi=110)
    width = 0.8 / max(len(shares), 1)
    x = np.arange(len(cols))
    for i, (alloc, row) in enumerate(shares.iterrows()):
        ax.bar(x + i * width, row.to_numpy(), width, label=alloc, hatch=HATCHES[i % len(HATCHES)], edgecolor="black", alpha=0.8)
    ax.set_xticks(x + width * (len(shares) - 1) / 2, [c[len(prefix):] for c in cols])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of all samples generated")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def sweep_line_figures(finals: pd.DataFrame, params: list[str], metric: str = "test_pass") -> list[tuple[str, plt.Figure]]:
    """Final ``metric`` against each swept parameter, one line per allocator, mean and 95% t-band (logit scale).

    ``finals``: one row per (cell, allocator, seed) with the cell's parameters as
    columns; at each value of a parameter the seeds of every cell with that value are pooled.
    """
    figs = []
    for p in params:
        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
        for i, (alloc, g) in enumerate(finals.groupby("allocator", sort=False)):
            pts = [(value, *mean_ci(gv[metric].to_numpy(float), UNIT)) for value, gv in g.groupby(p, sort=True)]
            numeric = all(isinstance(v[0], numbers.Real) and not isinstance(v[0], bool) for v in pts)
            xs = np.array([v[0] for v in pts], float) if numeric else np.arange(len(pts))
            m = np.array([v[1] for v in pts])
            lo = np.array([v[2] for v in pts])
            hi = np.array([v[3] for v in pts])
            ax.plot(xs, m, label=alloc, **style(i))
            ax.fill_between(xs, np.where(np.isfinite(lo), lo, m), np.where(np.isfinite(hi), hi, m), alpha=0.15)
            if not numeric:
                ax.set_xticks(xs, [str(v[0]) for v in pts])
        ax.set_xlabel(p)
        ax.set_ylabel(f"final {metric.replace('_', ' ')} (fraction)")
        ax.set_title(f"final {metric.replace('_', ' ')} vs {p} (mean, 95% band over seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        figs.append((p, fig))
    return figs


def sweep_heatmap_figure(per_cell: pd.DataFrame, px: str, py: str, metric: str = "final_test_pass") -> plt.Figure:
    """A heatmap of ``metric`` over a 2-D grid, one panel per allocator, values written in the cells."""
    allocs = list(dict.fromkeys(per_cell["allocator"]))
    fig, axes = plt.subplots(1, len(allocs), figsize=(4.2 * len(allocs) + 1, 4), dpi=100, squeeze=False)
    xs, ys = sorted(per_cell[px].unique()), sorted(per_cell[py].unique())
    vmin, vmax = per_cell[metric].min(), per_cell[metric].max()
    for ax, alloc in zip(axes[0], allocs):
        g = per_cell[per_cell["allocator"] == alloc]
        grid = np.full((len(ys), len(xs)), np.nan)
        for _, r in g.iterrows():
            grid[ys.index(r[py]), xs.index(r[px])] = r[metric]
        im = ax.imshow(grid, origin="lower", cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
        for (j, i), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(i, j, f"{v:.3f}", ha="center", va="center", fontsize=7, color="white" if v < (vmin + vmax) / 2 else "black")
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [str(v) for v in ys])
        ax.set_xlabel(px)
        ax.set_ylabel(py)
        ax.set_title(alloc)
    fig.colorbar(im, ax=axes[0].tolist(), label=metric.replace("_", " ") + " (mean over seeds)")
    fig.suptitle(f"{metric.replace('_', ' ')} over the grid {px} x {py}")
    return fig


def stacked_bars_figure(table: pd.DataFrame, title: str, ylabel: str) -> plt.Figure:
    """One stacked bar per row of ``table`` (index: the bars' labels; columns: the stacked parts, bottom first)."""
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(table) + 3), 4.5), dpi=110)
    bottom = np.zeros(len(table))
    for i, part in enumerate(table.columns):
        values = table[part].to_numpy(float)
        ax.bar(np.arange(len(table)), values, 0.6, bottom=bottom, label=part, hatch=HATCHES[i % len(HATCHES)], edgecolor="black", alpha=0.8)
        bottom += values
    ax.set_xticks(np.arange(len(table)), [str(i) for i in table.index], rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
