"""Tables with confidence intervals: paired bootstrap speedups and accuracy at equal token budget."""
from __future__ import annotations

import numpy as np
import pandas as pd

from simbench.results import mean_ci, tokens_to_target


def _runs(df: pd.DataFrame) -> dict[tuple[str, int], pd.DataFrame]:
    return {key: g.sort_values("step") for key, g in df.groupby(["allocator", "seed"], sort=False)}


def paired_bootstrap_ratio(num: np.ndarray, den: np.ndarray, rng: np.random.Generator, reps: int = 2000) -> tuple[float, float, float]:
    """Ratio of means num/den over paired seeds with a 95% percentile bootstrap CI (seeds resampled jointly)."""
    k = len(num)
    if k == 0:
        return np.nan, np.nan, np.nan
    point = float(num.mean() / den.mean())
    if k < 2:
        return point, np.nan, np.nan
    idx = rng.integers(0, k, (reps, k))
    ratios = num[idx].mean(axis=1) / den[idx].mean(axis=1)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return point, float(lo), float(hi)


def speedup_table(df: pd.DataFrame, target: float, baseline: str = "uniform", seed: int = 0) -> pd.DataFrame:
    """Tokens to reach ``target`` and speedup vs ``baseline`` with paired bootstrap CIs (pairs share seeds).

    Only seeds where both the allocator and the baseline reached the target are
    paired; ``pairs`` says how many.
    """
    runs = _runs(df)
    ttt = {key: tokens_to_target(r, target) for key, r in runs.items()}
    rng = np.random.default_rng(seed)
    rows = []
    for alloc in dict.fromkeys(df["allocator"]):
        seeds = sorted(s for a, s in ttt if a == alloc)
        own = np.array([ttt[alloc, s] for s in seeds])
        pairs = [(ttt.get((baseline, s), np.nan), ttt[alloc, s]) for s in seeds]
        pairs = np.array([p for p in pairs if np.isfinite(p).all() and min(p) > 0]).reshape(-1, 2)
        m, lo, hi = mean_ci(own)
        sp, splo, sphi = paired_bootstrap_ratio(pairs[:, 0], pairs[:, 1], rng)
        rows.append({
            "allocator": alloc, "target_test_pass": target, "reached": f"{int(np.isfinite(own).sum())}/{len(own)}",
            "tokens_to_target": m, "ci_low": lo, "ci_high": hi, "pairs": len(pairs),
            f"speedup_vs_{baseline}": sp, "speedup_ci_low": splo, "speedup_ci_high": sphi,
        })
    return pd.DataFrame(rows)


def equal_budget_table(df: pd.DataFrame, baseline: str = "uniform", seed: int = 0) -> pd.DataFrame:
    """Test pass rate at the largest token budget every run reached, with CIs and the paired gain vs ``baseline``."""
    runs = _runs(df)
    budget = min(float(r["cum_tokens"].iloc[-1]) for r in runs.values())
    at = {key: float(np.interp(budget, r["cum_tokens"].to_numpy(float), r["test_pass"].to_numpy(float))) for key, r in runs.items()}
    rng = np.random.default_rng(seed)
    rows = []
    for alloc in dict.fromkeys(df["allocator"]):
        seeds = sorted(s for a, s in at if a == alloc)
        vals = np.array([at[alloc, s] for s in seeds])
        diffs = np.array([at[alloc, s] - at[baseline, s] for s in seeds if (baseline, s) in at])
        m, lo, hi = mean_ci(vals)
        if len(diffs) >= 2:
            boot = diffs[rng.integers(0, len(diffs), (2000, len(diffs)))].mean(axis=1)
            dlo, dhi = np.percentile(boot, [2.5, 97.5])
        else:
            dlo = dhi = np.nan
        rows.append({
            "allocator": alloc, "token_budget": budget, "test_pass": m, "ci_low": lo, "ci_high": hi,
            f"gain_vs_{baseline}": float(diffs.mean()) if len(diffs) else np.nan, "gain_ci_low": float(dlo), "gain_ci_high": float(dhi),
        })
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """A Markdown table with readable numbers."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, (float, np.floating)):
                cells.append("n/a" if not np.isfinite(v) else (f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
