"""Results tables: the per-step Parquet file and the per-strategy summary with CIs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

# Columns every simulated RL results table carries, in this order.
CORE_COLUMNS = [
    "allocator", "seed", "step", "samples", "tokens", "cum_samples", "cum_tokens", "prompts", "trained_prompts",
    "trained_samples", "waves", "groups_all_pass", "groups_all_fail", "groups_mixed", "effective_ratio",
    "train_pass", "test_pass",
]


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Core columns first, then the rest (pass@k, role metrics) in their order of appearance."""
    rest = [c for c in df.columns if c not in CORE_COLUMNS]
    return df[[c for c in CORE_COLUMNS if c in df.columns] + rest]


def write_results(df: pd.DataFrame, out_dir: Path) -> Path:
    """Write ``results.parquet`` atomically (temporary name, then rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    tidy(df).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and a Student-t confidence interval over seeds (nan half-width for one seed)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if len(v) < 2:
        return m, np.nan, np.nan
    h = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - h, m + h


def tokens_to_target(run: pd.DataFrame, target: float, x: str = "cum_tokens") -> float:
    """First ``x`` (linearly interpolated between steps) at which test_pass reaches ``target``; nan if never."""
    y = run["test_pass"].to_numpy()
    xs = run[x].to_numpy(float)
    hit = np.flatnonzero(y >= target)
    if len(hit) == 0:
        return np.nan
    i = hit[0]
    if i == 0:
        return float(xs[0])
    frac = (target - y[i - 1]) / (y[i] - y[i - 1])
    return float(xs[i - 1] + frac * (xs[i] - xs[i - 1]))


def default_target(df: pd.DataFrame, baseline: str) -> float:
    """90% of the way from the initial test pass rate to the baseline's final mean (or the best final mean)."""
    first = df[df["step"] == 0]["test_pass"].mean()
    finals = df.loc[df.groupby(["allocator", "seed"])["step"].idxmax()]
    per_alloc = finals.groupby("allocator")["test_pass"].mean()
    end = per_alloc.get(baseline, per_alloc.max())
    return float(first + 0.9 * (end - first))


def summarise(df: pd.DataFrame, baseline: str = "uniform", target: float | None = None) -> pd.DataFrame:
    """One row per allocator: final test pass with a 95% CI, tokens to target and speedup vs ``baseline``.

    The speedup is the ratio of mean tokens-to-target (baseline / allocator);
    ``speedup_paired`` is the geometric mean of per-seed ratios, since seeds
    share the population and batch order (common random numbers).
    """
    if target is None:
        target = default_target(df, baseline)
    order = list(dict.fromkeys(df["allocator"]))
    runs = {key: g.sort_values("step") for key, g in df.groupby(["allocator", "seed"], sort=False)}
    ttt = {key: tokens_to_target(g, target) for key, g in runs.items()}
    base = {seed: v for (a, seed), v in ttt.items() if a == baseline}
    rows = []
    for alloc in order:
        keys = [k for k in runs if k[0] == alloc]
        final = np.array([runs[k]["test_pass"].iloc[-1] for k in keys])
        tokens = np.array([runs[k]["cum_tokens"].iloc[-1] for k in keys], float)
        t = np.array([ttt[k] for k in keys])
        m, lo, hi = mean_ci(final)
        tm, tlo, thi = mean_ci(t)
        base_mean = np.nanmean(list(base.values())) if base and np.isfinite(list(base.values())).any() else np.nan
        pairs = np.array([(base.get(k[1], np.nan), ttt[k]) for k in keys], float).reshape(-1, 2)
        ok = np.isfinite(pairs).all(axis=1) & (pairs > 0).all(axis=1)  # a target met at step 0 has no ratio
        ratios = pairs[ok, 0] / pairs[ok, 1]
        rows.append({
            "allocator": alloc,
            "seeds": len(keys),
            "final_test_pass": m,
            "final_test_pass_ci_low": lo,
            "final_test_pass_ci_high": hi,
            "final_cum_tokens": float(tokens.mean()),
            "target_test_pass": target,
            "seeds_reaching_target": int(np.isfinite(t).sum()),
            "tokens_to_target": tm,
            "tokens_to_target_ci_low": tlo,
            "tokens_to_target_ci_high": thi,
            "speedup_vs_" + baseline: float(base_mean / tm) if np.isfinite(tm) and tm > 0 else np.nan,
            "speedup_paired": float(np.exp(np.log(ratios).mean())) if len(ratios) else np.nan,
        })
    return pd.DataFrame(rows)
