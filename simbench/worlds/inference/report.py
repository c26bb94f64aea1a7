"""The report of the inference world: accuracy against budget with paired intervals over seeds, allocation by
difficulty, latency against accuracy, and the summary table."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simbench.core import stats
from simbench.core.report import Table, figure, final_values, seeds_text, tables
from simbench.core.report.figures import style
from simbench.core.store import load

OPTIONS = ("baseline",)
LATENCY_TOKENS = "latency per query in tokens (each sequential round as long as its longest sample, summed)"
LATENCY_S = "latency per query in seconds (the batched generate calls it took part in, summed)"
SUPPORT = {"accuracy": stats.UNIT, "abstain_rate": stats.UNIT, "samples_per_query": stats.POSITIVE,
           "tokens_per_query": stats.POSITIVE, "latency_p50": stats.POSITIVE, "latency_p95": stats.POSITIVE, "E3": stats.POSITIVE,
           "latency_p50_s": stats.POSITIVE, "latency_p95_s": stats.POSITIVE, "gpu_seconds": stats.POSITIVE,
           "gpu_hours": stats.POSITIVE, "usd": stats.POSITIVE, "eflops": stats.POSITIVE}
COST = ("latency_p50_s", "latency_p95_s", "gpu_seconds", "usd", "eflops")  # the columns of a run with [cost], reported where present


def summarise(df: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per strategy and budget: accuracy (mean, 95% interval), its paired difference from ``baseline`` at the same
    budget and seed (mean, 95% interval), and the means of budget use, latency (in seconds too with [cost]),
    GPU-seconds, dollars, E3, abstentions and coverage."""
    rows = []
    base = df[df["allocator"] == baseline].set_index(["budget", "seed"])["accuracy"]
    extra = [c for c in df.columns if c.startswith(("coverage@", "alloc_q"))]
    for (alloc, budget), g in df.groupby(["allocator", "budget"], sort=False):
        m, lo, hi = stats.mean_ci(g["accuracy"], stats.UNIT)
        paired = g.set_index(["budget", "seed"])["accuracy"] - base.reindex(g.set_index(["budget", "seed"]).index)
        paired = paired.dropna()
        d, dlo, dhi = stats.mean_ci(paired, stats.difference_support(stats.UNIT)) if len(paired) else (math.nan,) * 3
        row = {"allocator": alloc, "budget": budget, "seeds": len(g), "accuracy": m, "accuracy_ci_low": lo, "accuracy_ci_high": hi,
               f"vs_{baseline}": d, f"vs_{baseline}_ci_low": dlo, f"vs_{baseline}_ci_high": dhi}
        cost = [c for c in COST if c in df.columns]
        for c in ["samples_per_query", "tokens_per_query", "latency_p50", "latency_p95", *cost, "E3", "abstain_rate", *extra]:
            row[c] = float(g[c].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _accuracy_figure(summary: pd.DataFrame, baseline: str, unit: str) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    for i, (alloc, g) in enumerate(summary.groupby("allocator", sort=False)):
        x = g["samples_per_query" if unit == "samples" else "tokens_per_query"]
        axes[0].plot(x, g["accuracy"], label=alloc, **style(i))
        axes[0].fill_between(x, g["accuracy_ci_low"], g["accuracy_ci_high"], alpha=0.15)
        axes[1].plot(g["budget"], g[f"vs_{baseline}"], label=alloc, **style(i))
        axes[1].fill_between(g["budget"], g[f"vs_{baseline}_ci_low"], g[f"vs_{baseline}_ci_high"], alpha=0.15)
    axes[0].set_xlabel(f"{unit} used per query")
    axes[0].set_ylabel("accuracy")
    axes[0].set_title("accuracy against budget used (95% band over seeds)")
    axes[1].axhline(0, color="black", lw=0.8)
    axes[1].set_xlabel(f"budget per query ({unit})")
    axes[1].set_ylabel(f"accuracy - {baseline}'s (paired by seed)")
    axes[1].set_title(f"paired difference from {baseline} (95% interval)")
    for ax in axes:
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _allocation_figure(summary: pd.DataFrame) -> plt.Figure:
    top = summary.loc[summary.groupby("allocator", sort=False)["budget"].idxmax()]
    qs = [c for c in summary.columns if c.startswith("alloc_q")]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    width = 0.8 / max(len(top), 1)
    for i, (_, r) in enumerate(top.iterrows()):
        ax.bar(np.arange(len(qs)) + i * width, [r[c] for c in qs], width, label=r["allocator"], edgecolor="black")
    ax.set_xticks(np.arange(len(qs)) + 0.4 - width / 2, [f"q{j + 1}" + (" (hardest)" if j == 0 else " (easiest)" if j == len(qs) - 1 else "")
                                                        for j in range(len(qs))])
    ax.set_ylabel("mean samples per query")
    ax.set_title("Where the budget went: samples per true-difficulty quintile, at each strategy's largest budget")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _latency_figure(summary: pd.DataFrame) -> plt.Figure:
    seconds = "latency_p50_s" in summary.columns
    col = "latency_p{}_s" if seconds else "latency_p{}"
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for i, (alloc, g) in enumerate(summary.groupby("allocator", sort=False)):
        ax.plot(g[col.format(50)], g["accuracy"], label=f"{alloc} (p50)", **style(i))
        ax.plot(g[col.format(95)], g["accuracy"], color=ax.lines[-1].get_color(), alpha=0.4, linestyle=":")
    ax.set_xlabel("latency per query, seconds (generate calls, summed)" if seconds else
                  "latency per query, tokens (longest sample per round, summed)")
    ax.plot([], [], color="gray", linestyle=":", label="p95 (dotted)")
    ax.set_ylabel("accuracy")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("Latency against accuracy (each point a budget)")
    fig.tight_layout()
    return fig


def at_full_budget(long: pd.DataFrame) -> pd.DataFrame:
    """The summary: one row per strategy, at its largest budget (the per-budget figures are in the report's tables)."""
    return long.loc[long.groupby("allocator", sort=False)["budget"].idxmax()].reset_index(drop=True)


def by_budget(long: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """One row per strategy, one column per budget: accuracy, and its paired difference from ``baseline``, with intervals."""
    text = lambda m, lo, hi: "nan" if math.isnan(m) else f"{m:.3f} [{lo:.3f}, {hi:.3f}]"  # noqa: E731
    rows = []
    for alloc, g in long.groupby("allocator", sort=False):
        row = {"allocator": alloc}
        for _, r in g.iterrows():
            row[f"accuracy @ {r['budget']:g}"] = text(r["accuracy"], r["accuracy_ci_low"], r["accuracy_ci_high"])
        for _, r in g.iterrows():
            row[f"minus {baseline} @ {r['budget']:g}"] = text(r[f"vs_{baseline}"], r[f"vs_{baseline}_ci_low"], r[f"vs_{baseline}_ci_high"])
        rows.append(row)
    return pd.DataFrame(rows)


def build_report(root: Path, folder: Path, manifest: dict, baseline: str | None = None):
    """The report's blocks and summary of an inference run (per cell, with the swept parameters, for a sweep)."""
    df = load(root)
    baseline = baseline or manifest["baseline"]
    swept = manifest["swept"]
    cells, summary = tables.per_cell(df, manifest, lambda g: at_full_budget(summarise(g, baseline)))
    first, g = cells[0]
    long = summarise(g, baseline)
    unit = manifest.get("unit", "samples")
    seeds = seeds_text(long["seeds"])
    blocks = [f"Accuracy: the picked answer is correct (an abstention counts as wrong). Budgets are per query on average, "
              f"in {unit}; every strategy reads the same per-query sample tapes, so differences are paired by seed. "
              "Means over seeds with 95% Student-t intervals on a scale where each quantity's range is unbounded."]
    if swept:
        blocks.append(f"Sweep over {', '.join(swept)}: the summary has every cell; the figures and the per-budget table are for "
                      f"the first cell, {first['id']}.")
    blocks += [figure(_accuracy_figure(long, baseline, unit), folder, "inference_accuracy", "accuracy against budget, and paired "
                      f"difference from {baseline}"),
               figure(_allocation_figure(long), folder, "inference_allocation", "samples per true-difficulty quintile"),
               figure(_latency_figure(long), folder, "inference_latency", "latency against accuracy"),
               Table(f"Accuracy per budget per query ({unit}), and its difference from {baseline} paired by seed: mean over "
                     f"{seeds} [95% interval]", by_budget(long, baseline)),
               Table(f"At each strategy's largest budget: accuracy and its paired difference from {baseline} (mean over {seeds_text(summary['seeds'])}, "
                     f"95% interval); samples, tokens, {LATENCY_TOKENS}" + (f", {LATENCY_S}, GPU-seconds and dollars (nan: "
                     "no price)" if "latency_p50_s" in summary.columns else "") + ", E3 = A^2/T, abstentions, coverage@k and "
                     "samples per difficulty quintile: means", summary)]
    return blocks, summary


def compare_values(root: Path, manifest: dict, metric: str | None):
    """Per (cell,) strategy and seed, ``metric`` (default accuracy) at the largest budget."""
    metric = metric or "accuracy"
    support = stats.UNIT if metric.startswith("coverage@") else SUPPORT.get(metric, stats.REAL)
    return final_values(root, manifest, metric, "budget", support)
