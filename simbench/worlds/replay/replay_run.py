"""Run strategies x seeds against a log, summarise them and report (results.parquet, summary.csv, manifest.json, report.md)."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from simbench.core.config import ConfigError  # noqa: E402
from simbench.core.report import Table, figure, seeds_text  # noqa: E402
from simbench.core.report.figures import STYLES, band_on_grid  # noqa: E402
from simbench.core.stats import POSITIVE, REAL, UNIT, mean_ci  # noqa: E402
from simbench.worlds.replay.replay import LogIndex, ReplayCell  # noqa: E402
from simbench.worlds.rl.population import LengthSpec, PopulationSpec  # noqa: E402
from simbench.worlds.rl.scenario import BudgetSpec, EngineSpec, Scenario, StrategySpec  # noqa: E402


def replay_scenario(table: pd.DataFrame, strategies, batch: int | None = None, seeds: int = 3, seed: int = 0,
                    budget: BudgetSpec | None = None, name: str = "replay") -> tuple[Scenario, LogIndex]:
    """The scenario a replay runs in: one train prompt per logged prompt, enough steps to use the whole log.

    ``batch`` defaults to the median number of prompts per log step.
    """
    index = LogIndex(table)
    per_step = pd.Series(index.step).value_counts()
    batch = int(batch or per_step.median())
    steps = max(1, math.ceil(len(index) / batch))
    strategies = tuple(s if isinstance(s, StrategySpec) else StrategySpec(allocator=s) for s in strategies)
    budget = budget or BudgetSpec()
    index.check_budget_unit(budget.unit)
    known = index.tokens[index.tokens >= 0]
    # an unseen sample is priced at lengths.mean tokens: the log's own mean length
    lengths = LengthSpec(mean=max(1.0, float(known.mean()))) if len(known) else LengthSpec()
    sc = Scenario(name=name, strategies=strategies, seed=seed, seeds=seeds,
                  population=PopulationSpec(train_prompts=max(index.n_prompts, 1), test_prompts=1, lengths=lengths),
                  engine=EngineSpec(steps=steps, batch_prompts=batch), budget=budget)
    sc.check()
    return sc, index


def replay_unit(scenario: Scenario, index: LogIndex, strategy_index: int, seed: int) -> list[dict]:
    """One strategy on one seed, on the log's outcomes; one row per step."""
    label = scenario.strategies[strategy_index].label
    return [{"allocator": label, "seed": seed, **r} for r in ReplayCell(scenario, strategy_index, seed, index).run()]


def run_replay(scenario: Scenario, index: LogIndex) -> pd.DataFrame:
    """Every strategy x seed on the log's outcomes, in memory; one row per strategy x seed x step."""
    return pd.DataFrame([row for s in range(len(scenario.strategies)) for k in range(scenario.seeds)
                         for row in replay_unit(scenario, index, s, k)])


def replay_per_seed(df: pd.DataFrame) -> pd.DataFrame:
    """Per allocator and seed: samples, groups, mixed-group share, effective ratio, truncated requests, shortfall, log pass."""
    out = []
    for (alloc, seed), r in df.groupby(["allocator", "seed"], sort=False):
        trained = r["trained_samples"].sum()
        eff = (r["effective_ratio"].fillna(0) * r["trained_samples"]).sum()
        out.append({
            "allocator": alloc, "seed": seed, "samples": r["samples"].sum(), "groups": r["prompts"].sum(),
            "mixed_share": r["groups_mixed"].sum() / max(r["prompts"].sum(), 1),
            "effective_ratio": eff / trained if trained else math.nan,
            "truncated_share": r["requests_truncated"].sum() / max(r["requests"].sum(), 1),
            "trained_samples": trained,
            "shortfall": r["shortfall"].sum(), "requested": r["requested"].sum(),
            "log_pass": (r["log_pass"].fillna(0) * r["samples"]).sum() / max(r["samples"].sum(), 1),
        })
    return pd.DataFrame(out)


def summarise_replay(df: pd.DataFrame) -> pd.DataFrame:
    """Per allocator, means over seeds; the mixed-group share and effective ratio with 95% t-intervals on the logit scale."""
    out = []
    for alloc, ps in replay_per_seed(df).groupby("allocator", sort=False):
        row = {"allocator": alloc, "seeds": len(ps)}
        for col in ("samples", "groups", "mixed_share", "effective_ratio", "truncated_share", "shortfall", "log_pass",
                    "trained_samples"):
            if col in ("mixed_share", "effective_ratio"):
                row[col], row[col + "_ci_low"], row[col + "_ci_high"] = mean_ci(ps[col], UNIT)
            else:
                row[col] = float(ps[col].mean())
        row["requested"] = float(ps["requested"].mean())
        out.append(row)
    return pd.DataFrame(out)


def shortfall_notes(summary: pd.DataFrame, index: LogIndex) -> list[str]:
    """Why an allocator trained nothing on this log (its effective ratio is then undefined), one sentence each."""
    n = int(np.median(index.size))
    notes = []
    for _, r in summary.iterrows():
        if r["trained_samples"] > 0:
            continue
        why = (f"{r['shortfall']:.0f} of the {r['requested']:.0f} samples it asked for per seed were beyond what the log "
               f"holds ({r['truncated_share']:.0%} of its requests were cut short); an allocator that trains only on later "
               f"waves (GVM discards its first-stage samples) needs a log with more samples per group"
               if r["shortfall"] > 0 else "no group it drew was kept for training")
        notes.append(f"{r['allocator']} trained no sample, so its effective ratio is undefined: the log has n = {n} "
                     f"samples per group and {why}.")
    return notes


def _mixed_figure(df: pd.DataFrame, title: str) -> plt.Figure:
    d = df.sort_values(["allocator", "seed", "step"]).copy()
    d["cum_mixed"] = d.groupby(["allocator", "seed"])["groups_mixed"].cumsum()
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    for i, (alloc, g) in enumerate(d.groupby("allocator", sort=False)):
        runs = [r for _, r in g.groupby("seed")]
        grid = np.linspace(0, min(r["cum_samples"].iloc[-1] for r in runs), 200)
        mean, lo, hi = band_on_grid(runs, "cum_samples", "cum_mixed", grid, POSITIVE)
        ls, marker = STYLES[i % len(STYLES)]
        ax.plot(grid, mean, linestyle=ls, marker=marker, markevery=25, label=f"{alloc} ({len(runs)} seeds)")
        ax.fill_between(grid, lo, hi, alpha=0.2)
    ax.set_xlabel("cumulative samples served from the log")
    ax.set_ylabel("cumulative mixed groups (some correct, some wrong)")
    ax.set_title(f"{title}: mixed groups vs samples (replayed real outcomes)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


OPTIONS = ()


def build_report(root: Path, folder: Path, manifest: dict):
    """The report's blocks and summary of a replay (``results.parquet`` and the manifest's ``log``)."""
    df = pd.read_parquet(root / "results.parquet")
    summary = summarise_replay(df)
    blocks = [
        f"Log: {manifest['log']}",
        figure(_mixed_figure(df, manifest["title"]), folder, "replay_mixed_groups", "mixed groups vs samples"),
        "Outcomes are the log's real samples, served without replacement per (log step, prompt). "
        "`mixed_share`: share of groups with both outcomes; `effective_ratio`: share of trained samples with a "
        "non-zero advantage; `truncated_share`: share of (slot, wave) requests the log could not fully serve "
        "(shortfall in samples: `shortfall`). Seeds change the prompt order and the order samples are served in.",
        Table(f"Replay per allocator: means over {seeds_text(summary['seeds'])}; mixed_share and effective_ratio with 95% "
              "Student-t intervals on the logit scale", summary),
    ] + [f"Note: {note}" for note in manifest.get("notes", [])]
    return blocks, summary


def compare_values(root: Path, manifest: dict, metric: str | None):
    """Per allocator and seed, one of the per-seed replay statistics (default mixed_share)."""
    metric = metric or "mixed_share"
    per_seed = replay_per_seed(pd.read_parquet(root / "results.parquet"))
    allowed = [c for c in per_seed.columns if c not in ("allocator", "seed")]
    if metric not in allowed:
        raise ConfigError("--metric", metric, f"a per-seed statistic of a replay: {', '.join(allowed)}", "command line")
    support = UNIT if metric in ("mixed_share", "effective_ratio", "truncated_share", "log_pass") else REAL
    return per_seed[["allocator", "seed", metric]].rename(columns={metric: "value"}), metric, support
