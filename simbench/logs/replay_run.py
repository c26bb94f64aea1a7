"""Run strategies x seeds against a log and summarise them (results.parquet, summary.csv, report.md)."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from simbench.logs.replay import LogIndex, ReplayCell  # noqa: E402
from simbench.population import LengthSpec, PopulationSpec  # noqa: E402
from simbench.report.figures import STYLES, band_on_grid  # noqa: E402
from simbench.report.tables import format_table  # noqa: E402
from simbench.results import mean_ci, write_results  # noqa: E402
from simbench.scenario import BudgetSpec, EngineSpec, Scenario, StrategySpec  # noqa: E402


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


def run_replay(scenario: Scenario, index: LogIndex) -> pd.DataFrame:
    """Every strategy x seed on the log's outcomes; one row per strategy x seed x step."""
    rows = []
    for s, strat in enumerate(scenario.strategies):
        for k in range(scenario.seeds):
            rows += [{"allocator": strat.label, "seed": k, **r} for r in ReplayCell(scenario, s, k, index).run()]
    return pd.DataFrame(rows)


def summarise_replay(df: pd.DataFrame) -> pd.DataFrame:
    """Per allocator (mean and 95% interval over seeds): samples, mixed-group share, effective ratio, shortfall."""
    out = []
    for alloc, g in df.groupby("allocator", sort=False):
        per_seed = []
        for _, r in g.groupby("seed"):
            trained = r["trained_samples"].sum()
            eff = (r["effective_ratio"].fillna(0) * r["trained_samples"]).sum()
            per_seed.append({
                "samples": r["samples"].sum(), "groups": r["prompts"].sum(),
                "mixed_share": r["groups_mixed"].sum() / max(r["prompts"].sum(), 1),
                "effective_ratio": eff / trained if trained else math.nan,
                "truncated_share": r["requests_truncated"].sum() / max(r["requests"].sum(), 1),
                "trained_samples": trained,
                "shortfall": r["shortfall"].sum(), "requested": r["requested"].sum(),
                "log_pass": (r["log_pass"].fillna(0) * r["samples"]).sum() / max(r["samples"].sum(), 1),
            })
        ps = pd.DataFrame(per_seed)
        row = {"allocator": alloc, "seeds": len(ps)}
        for col in ("samples", "groups", "mixed_share", "effective_ratio", "truncated_share", "shortfall", "log_pass",
                    "trained_samples"):
            m, lo, hi = mean_ci(ps[col].to_numpy(float))
            row[col] = m
            if col in ("mixed_share", "effective_ratio"):
                row[col + "_ci_low"], row[col + "_ci_high"] = lo, hi
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


def write_replay_report(df: pd.DataFrame, summary: pd.DataFrame, out: Path, title: str, read_summary: str,
                        command: str = "", notes: list[str] = ()) -> Path:
    """results.parquet, summary.csv, a figure (mixed groups vs samples spent) and report.md (with ``notes``)."""
    out.mkdir(parents=True, exist_ok=True)
    write_results(df, out)
    summary.to_csv(out / "summary.csv", index=False)
    d = df.sort_values(["allocator", "seed", "step"]).copy()
    d["cum_mixed"] = d.groupby(["allocator", "seed"])["groups_mixed"].cumsum()
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    for i, (alloc, g) in enumerate(d.groupby("allocator", sort=False)):
        runs = [r for _, r in g.groupby("seed")]
        grid = np.linspace(0, min(r["cum_samples"].iloc[-1] for r in runs), 200)
        mean, lo, hi = band_on_grid(runs, "cum_samples", "cum_mixed", grid)
        ls, marker = STYLES[i % len(STYLES)]
        ax.plot(grid, mean, linestyle=ls, marker=marker, markevery=25, label=f"{alloc} ({len(runs)} seeds)")
        ax.fill_between(grid, lo, hi, alpha=0.2)
    ax.set_xlabel("cumulative samples served from the log")
    ax.set_ylabel("cumulative mixed groups (some correct, some wrong)")
    ax.set_title(f"{title}: mixed groups vs samples (replayed real outcomes)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "replay.png")
    plt.close(fig)
    text = [f"# {title}", "", f"Regenerate with: `{command}`" if command else "", "", f"Log: {read_summary}", "",
            "![mixed groups vs samples](replay.png)", "",
            "Outcomes are the log's real samples, served without replacement per (log step, prompt). "
            "`mixed_share`: share of groups with both outcomes; `effective_ratio`: share of trained samples with a "
            "non-zero advantage; `truncated_share`: share of (slot, wave) requests the log could not fully serve "
            "(shortfall in samples: `shortfall`). Means with 95% Student-t intervals over seeds "
            "(seeds change the prompt order and the order samples are served in).", "",
            format_table(summary), ""] + [f"Note: {note}\n" for note in notes]
    path = out / "report.md"
    path.write_text("\n".join(text))
    return path
