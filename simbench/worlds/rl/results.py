"""Results tables: the per-step Parquet file and the per-strategy summary of the RL world.

The summary's statistics (see ``simbench.core.stats`` and docs/sweeps_reports.md):

- final test pass rate: mean over seeds, 95% Student-t interval on the logit scale;
- tokens to target: the Kaplan-Meier median over seeds, runs that never reach the
  target being censored at their final token count ("reached k of n" beside it),
  with a 95% percentile bootstrap interval;
- speedup vs the baseline: the ratio of the two Kaplan-Meier medians (baseline /
  allocator), with a 95% paired bootstrap interval (seeds resampled jointly, since
  strategies share each seed's population and batch order);
- test pass at equal token budget, and its gain over the baseline: a mean, and the
  mean of per-seed differences, each with a 95% t-interval on the logit scale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simbench.core import stats

# Columns every simulated RL results table carries, in this order.
CORE_COLUMNS = [
    "allocator", "seed", "step", "samples", "tokens", "cum_samples", "cum_tokens", "prompts", "trained_prompts",
    "trained_samples", "waves", "groups_all_pass", "groups_all_fail", "groups_mixed", "effective_ratio",
    "train_pass", "test_pass",
]
RATES = ("train_pass", "test_pass", "effective_ratio")  # columns in [0, 1] (with test_pass_at_<k>)
GAIN_SHARE = 0.9  # the default target: this share of the smallest gain of any baseline seed


def support_of(column: str) -> tuple[float, float]:
    """The range of a results column: [0, 1] for pass rates and the effective ratio, else unbounded."""
    return stats.UNIT if column in RATES or column.startswith("test_pass_at_") else stats.REAL


def runs_of(df: pd.DataFrame) -> dict[tuple[str, int], pd.DataFrame]:
    """Each (allocator, seed) run's rows in step order, allocators in order of appearance."""
    return {key: g.sort_values("step") for key, g in df.groupby(["allocator", "seed"], sort=False)}


def tokens_to_target(run: pd.DataFrame, target: float, x: str = "cum_tokens", y: str = "test_pass") -> float:
    """First ``x`` (linearly interpolated between steps) at which column ``y`` reaches ``target``; nan if never."""
    y = run[y].to_numpy()
    xs = run[x].to_numpy(float)
    hit = np.flatnonzero(y >= target)
    if len(hit) == 0:
        return np.nan
    i = hit[0]
    if i == 0:
        return float(xs[0])
    frac = (target - y[i - 1]) / (y[i] - y[i - 1])
    return float(xs[i - 1] + frac * (xs[i] - xs[i - 1]))


@dataclass(frozen=True)
class Target:
    """What a run must reach: a test pass ``level``, or a ``gain`` over the run's own initial test pass."""

    value: float
    kind: str  # "level" or "gain"
    rule: str  # how it was chosen, for the report
    default: bool = False

    def level_of(self, run: pd.DataFrame) -> float:
        return self.value if self.kind == "level" else float(run["test_pass"].iloc[0]) + self.value

    def short(self) -> str:
        if not math.isfinite(self.value):
            return "none"
        if self.kind == "level":
            return f"test pass rate {self.value:.4f}"
        return f"a gain of {self.value:.4f} over each seed's initial test pass rate"

    def describe(self) -> str:
        """The target and the rule that chose it, for the report."""
        return f"{self.short()} ({self.rule})" if math.isfinite(self.value) else f"no target: {self.rule}"


def check_baseline(df: pd.DataFrame, baseline: str) -> None:
    """Refuse a baseline that is not one of the allocators of ``df``."""
    if baseline not in set(df["allocator"]):
        raise ValueError(f"the baseline {baseline!r} is not one of the allocators: {', '.join(dict.fromkeys(df['allocator']))}")


def default_target(df: pd.DataFrame, baseline: str) -> Target:
    """90% of the smallest gain any baseline seed makes (its peak test pass minus its initial one).

    Every baseline seed reaches it and no run starts at it, so the baseline's
    tokens-to-target are all observed; gains, not levels, because seeds differ
    in their initial population more than learning moves them.
    """
    check_baseline(df, baseline)
    gains = [float(r["test_pass"].max() - r["test_pass"].iloc[0]) for (a, _), r in runs_of(df).items() if a == baseline]
    smallest = min(gains)
    if smallest <= 0:
        return Target(math.nan, "gain", f"a {baseline} seed never rises above its initial test pass rate; "
                                        "set [report] target_test_pass or --target")
    return Target(GAIN_SHARE * smallest, "gain", f"{default_rule(baseline)}; the smallest gain: {smallest:.4f}", default=True)


def default_rule(baseline: str) -> str:
    """The default target rule in words."""
    return (f"the default rule: {GAIN_SHARE:.0%} of the smallest gain (peak minus initial test pass rate) of any {baseline} "
            f"seed, so every {baseline} seed reaches it")


def level_target(level: float, where: str) -> Target:
    return Target(float(level), "level", f"set by {where}")


def time_to_target(runs: dict, target: Target, x: str = "cum_tokens") -> dict[tuple[str, int], tuple[float, bool]]:
    """(x, reached) per run: ``x`` (tokens, hours, ...) at the target, or the run's final ``x`` if censored."""
    out = {}
    for key, r in runs.items():
        t = tokens_to_target(r, target.level_of(r), x) if math.isfinite(target.value) else math.nan
        out[key] = (t, True) if math.isfinite(t) else (float(r[x].iloc[-1]), False)
    return out


def _times(ttt: dict, keys: list) -> tuple[np.ndarray, np.ndarray]:
    return np.array([ttt[k][0] for k in keys], float), np.array([ttt[k][1] for k in keys], bool)


def _median_and_ci(t: np.ndarray, e: np.ndarray) -> tuple[float, float, float]:
    point = float(stats.km_median(t, e)[0])
    if len(t) < 2:
        return point, math.nan, math.nan
    idx = stats.resamples(len(t))
    return (point, *stats.percentile_interval(stats.km_median(t[idx], e[idx])))


def _speedup(tb, eb, ta, ea) -> tuple[float, float, float]:
    """Ratio of KM medians baseline / allocator over paired seeds, paired bootstrap interval."""
    if len(ta) == 0:
        return math.nan, math.nan, math.nan
    point = stats.ratio(stats.km_median(tb, eb), stats.km_median(ta, ea))[0]
    if len(ta) < 2 or not 0 < point < math.inf:
        return (float(point) if 0 < point < math.inf else math.nan), math.nan, math.nan
    idx = stats.resamples(len(ta))
    reps = stats.ratio(stats.km_median(tb[idx], eb[idx]), stats.km_median(ta[idx], ea[idx]))
    return (float(point), *stats.percentile_interval(reps))


def paired_speedup(ttt: dict, baseline: str, alloc: str, seeds: list) -> tuple[float, float, float]:
    """Speedup of ``alloc`` over ``baseline`` from one axis's times to target, over the seeds both ran."""
    paired = [s for s in seeds if (baseline, s) in ttt]
    return _speedup(*_times(ttt, [(baseline, s) for s in paired]), *_times(ttt, [(alloc, s) for s in paired]))


# axis -> the results column that measures it; the papers compare allocators on different ones
AXES = {"steps": "step", "samples": "cum_samples", "tokens": "cum_tokens", "hours": "cum_hours"}


def axis_speedups(df: pd.DataFrame, baseline: str, target: Target) -> pd.DataFrame:
    """One row per allocator: the speedup vs ``baseline`` to ``target`` on every axis the results have (steps,
    samples, tokens, and hours with a [cost] table), each the ratio of Kaplan-Meier medians with a 95% paired
    bootstrap interval."""
    check_baseline(df, baseline)
    runs = runs_of(df)
    rows = {alloc: {"allocator": alloc} for alloc in dict.fromkeys(a for a, _ in runs)}
    for axis, x in AXES.items():
        if x not in df.columns:
            continue
        ttt = time_to_target(runs, target, x)
        for alloc, row in rows.items():
            sp = paired_speedup(ttt, baseline, alloc, [s for a, s in runs if a == alloc])
            row.update(dict(zip([f"{axis}_speedup", f"{axis}_speedup_ci_low", f"{axis}_speedup_ci_high"], sp)))
    return pd.DataFrame(list(rows.values()))


def summarise(df: pd.DataFrame, baseline: str = "uniform", target: Target | None = None) -> pd.DataFrame:
    """One row per allocator: final test pass, tokens to target and speedup vs ``baseline``, with 95% intervals."""
    target = target or default_target(df, baseline)
    check_baseline(df, baseline)
    runs = runs_of(df)
    ttt = time_to_target(runs, target)
    rows = []
    for alloc in dict.fromkeys(a for a, _ in runs):
        seeds = [s for a, s in runs if a == alloc]
        final = np.array([runs[alloc, s]["test_pass"].iloc[-1] for s in seeds])
        tokens = np.array([runs[alloc, s]["cum_tokens"].iloc[-1] for s in seeds], float)
        t, e = _times(ttt, [(alloc, s) for s in seeds])
        paired = [s for s in seeds if (baseline, s) in ttt]
        m, lo, hi = stats.mean_ci(final, stats.UNIT)
        med, mlo, mhi = _median_and_ci(t, e)
        sp, slo, shi = paired_speedup(ttt, baseline, alloc, seeds)
        rows.append({
            "allocator": alloc, "seeds": len(seeds),
            "final_test_pass": m, "final_test_pass_ci_low": lo, "final_test_pass_ci_high": hi,
            "final_cum_tokens": float(tokens.mean()),
            "target": target.value, "target_kind": target.kind,
            "seeds_reaching_target": int(e.sum()),
            "tokens_to_target_median": med, "tokens_to_target_median_ci_low": mlo, "tokens_to_target_median_ci_high": mhi,
            "paired_seeds": len(paired),
            f"speedup_vs_{baseline}": sp, f"speedup_vs_{baseline}_ci_low": slo, f"speedup_vs_{baseline}_ci_high": shi,
        })
    return pd.DataFrame(rows)


def at_equal_budget(df: pd.DataFrame, baseline: str = "uniform") -> pd.DataFrame:
    """Test pass rate at the largest token budget every run reached, and the paired gain vs ``baseline``.

    Test pass: mean over seeds with a 95% t-interval on the logit scale; gain: mean
    of per-seed differences with a 95% paired t-interval on the logit scale of [-1, 1].
    """
    check_baseline(df, baseline)
    runs = runs_of(df)
    budget = min(float(r["cum_tokens"].iloc[-1]) for r in runs.values())
    at = {key: float(np.interp(budget, r["cum_tokens"].to_numpy(float), r["test_pass"].to_numpy(float))) for key, r in runs.items()}
    rows = []
    for alloc in dict.fromkeys(a for a, _ in runs):
        seeds = [s for a, s in runs if a == alloc]
        m, lo, hi = stats.mean_ci([at[alloc, s] for s in seeds], stats.UNIT)
        diffs = [at[alloc, s] - at[baseline, s] for s in seeds if (baseline, s) in at]
        d, dlo, dhi = stats.mean_ci(diffs, stats.difference_support(stats.UNIT))
        rows.append({
            "allocator": alloc, "seeds": len(seeds), "token_budget": budget,
            "test_pass_at_budget": m, "test_pass_at_budget_ci_low": lo, "test_pass_at_budget_ci_high": hi,
            "paired_seeds": len(diffs), f"gain_vs_{baseline}": d, f"gain_vs_{baseline}_ci_low": dlo, f"gain_vs_{baseline}_ci_high": dhi,
        })
    return pd.DataFrame(rows)


# the cost model's columns (simbench.cost.ledger) that mark results priced in time
TIME_AXES = ("cum_hours", "gpu_hours")


def has_cost(df: pd.DataFrame) -> bool:
    """Whether the results carry the cost model's time columns (the scenario had a [cost] table)."""
    return all(c in df.columns for c in (*TIME_AXES, "gen_s", "train_s", "overhead_s", "reward_s", "straggler_share", "usd"))


def time_summary(df: pd.DataFrame, baseline: str, target: Target) -> pd.DataFrame:
    """One row per allocator: wall-clock hours and GPU-hours to ``target`` (Kaplan-Meier medians, runs that never reach
    it censored at their final hours, 95% percentile bootstrap intervals), the speedup in hours vs ``baseline``
    (ratio of the medians, 95% paired bootstrap interval), and the final hours, GPU-hours and dollars (means with 95%
    Student-t intervals; nan without a price)."""
    check_baseline(df, baseline)
    runs = runs_of(df)
    rows = {alloc: {"allocator": alloc} for alloc in dict.fromkeys(a for a, _ in runs)}
    for x in TIME_AXES:
        ttt = time_to_target(runs, target, x)
        for alloc, row in rows.items():
            seeds = [s for a, s in runs if a == alloc]
            t, e = _times(ttt, [(alloc, s) for s in seeds])
            med, lo, hi = _median_and_ci(t, e)
            row.update({"seeds": len(seeds), "seeds_reaching_target": int(e.sum()), f"{x}_to_target_median": med,
                        f"{x}_to_target_median_ci_low": lo, f"{x}_to_target_median_ci_high": hi})
            if x == "cum_hours":
                sp = paired_speedup(ttt, baseline, alloc, seeds)
                row.update(dict(zip([f"hours_speedup_vs_{baseline}", f"hours_speedup_vs_{baseline}_ci_low",
                                     f"hours_speedup_vs_{baseline}_ci_high"], sp)))
    for alloc, row in rows.items():
        finals = [runs[alloc, s].iloc[-1] for a, s in runs if a == alloc]
        for col in ("cum_hours", "gpu_hours", "usd"):
            m, lo, hi = stats.mean_ci(np.array([f[col] for f in finals], float), stats.REAL)
            row.update({f"final_{col}": m, f"final_{col}_ci_low": lo, f"final_{col}_ci_high": hi})
    return pd.DataFrame(list(rows.values()))


def time_split(df: pd.DataFrame) -> pd.DataFrame:
    """Mean hours per run of each allocator in generation, straggling (``straggler_share x gen_s``: the wave's time after
    90% of its sequences finished), reward, training and overheads (index: allocator).  Without a straggler timeline
    (``gen_model = "simple"``) straggling is 0 and generation holds it.  Each run's parts share its final ``cum_hours``
    in proportion to their sums over the rows read."""
    d = df.assign(straggling_s=df["gen_s"] * df["straggler_share"].fillna(0.0))
    d = d.assign(generation_s=d["gen_s"] - d["straggling_s"])
    parts = {"generation": "generation_s", "straggling": "straggling_s", "reward": "reward_s", "training": "train_s",
             "overheads": "overhead_s"}
    g = d.groupby(["allocator", "seed"], sort=False)
    per_run = g[list(parts.values())].sum()
    # each run's split of its final cum_hours: exact, and still right when the report reads a thinned subset of the steps
    per_run = per_run.div(per_run.sum(axis=1).replace(0, np.nan), axis=0).mul(g["cum_hours"].max(), axis=0)
    return per_run.groupby(level="allocator", sort=False).mean().rename(columns={v: k for k, v in parts.items()})


def with_total(split: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """``split`` with each allocator's total hours per run: mean and 95% Student-t interval over seeds."""
    finals = df.groupby(["allocator", "seed"], sort=False)["cum_hours"].max()
    ci = {a: stats.mean_ci(finals.loc[a].to_numpy(float), stats.REAL) for a in split.index}
    return split.assign(total=[ci[a][0] for a in split.index], total_ci_low=[ci[a][1] for a in split.index],
                        total_ci_high=[ci[a][2] for a in split.index])
