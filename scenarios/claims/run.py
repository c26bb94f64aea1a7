"""Run every claim scenario and write the claims table, docs/claims.md (issue 14).

    python scenarios/claims/run.py [--quick] [--out DIR] [--workers N]

Each row compares one strategy with one baseline of a scenario in this folder, on the axis the paper used,
with a 95% interval over seeds paired by seed (the strategies of a seed share its population and batch
order), beside the same comparison on every axis (steps, samples, tokens, and hours when the scenario has a
[cost] table). The verdict follows ``verdict``'s rule. Nothing is tuned per claim: the learner and the
population are the calibration pinned in calibrated.py, and each scenario's settings cite the paper.
Each claim is re-run with every bootstrap replicate of that calibration (calibrated.BOOTSTRAP): the last
column says how far the figure moves and how often the verdict holds over the calibration's uncertainty.
The document holds no time stamp, so the same configuration writes the same bytes.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simbench.core import stats
from simbench.core.runner import run_scenario
from simbench.core.scenario import read_toml
from simbench.worlds import parse_scenario
from simbench.worlds.rl.results import AXES, default_target, has_cost, runs_of, time_to_target

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _calibrated():
    """scenarios/claims/calibrated.py (a script beside this one, not a package module)."""
    spec = importlib.util.spec_from_file_location("claims_calibrated", HERE / "calibrated.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CALIBRATION = _calibrated()


@dataclass(frozen=True)
class Config:
    """What is run: ``seeds`` per scenario, and every scenario's steps (None: the scenario's own, the paper's).

    The sensitivity re-runs each claim's own strategies with each of the first ``replicates`` bootstrap
    calibrations (``calibrated.BOOTSTRAP``) on the first ``replicate_seeds`` of the scenario's seeds.
    """

    name: str
    seeds: int
    steps: int | None
    replicates: int
    replicate_seeds: int


# The committed docs/claims.md is the "full" configuration; tests/test_claims_table.py (slow) regenerates it.
CONFIGS = {"full": Config("full", 8, None, 8, 4), "quick": Config("quick", 2, 12, 2, 2)}

SPEEDUP = "speedup"  # metric: (baseline's x to target) / (strategy's x to target), on the claim's axis
EFFECTIVE = "effective"  # metric: the strategy's mean effective ratio over training / the baseline's, minus 1
FINAL_GAIN = "final_gain"  # metric: final test pass rate minus the baseline's, paired by seed
VERDICTS = ("agrees in direction and size", "agrees in direction only", "disagrees", "inconclusive")


@dataclass(frozen=True)
class Claim:
    """One published head-to-head result: ``strategy`` beats ``baseline`` on ``metric`` (on ``axis``).

    ``size`` is the paper's figure as a closed range on the metric's scale (None when the paper states a
    direction only).
    """

    scenario: str
    claim: str
    source: str
    strategy: str
    baseline: str
    metric: str
    axis: str
    size: tuple[float, float] | None
    figure: str


CLAIMS = [
    Claim("reinforce_ada", "Reinforce-Ada (balanced) improves faster per step than GRPO n = 4",
          "arXiv 2510.04996 v1 §3.1, Fig. 3; v3 §4.2, Fig. 4", "reinforce_ada-balanced", "grpo-n4", SPEEDUP, "steps",
          None, "faster (curves; no figure)"),
    Claim("reinforce_ada", "Reinforce-Ada (positive-focused) improves faster per step than GRPO n = 4",
          "arXiv 2510.04996 v1 §3.1, Fig. 3", "reinforce_ada-positive", "grpo-n4", SPEEDUP, "steps",
          None, "faster, below balanced (curves)"),
    Claim("reinforce_ada", "Reinforce-Ada: up to 2x faster convergence at the same total inference budget",
          "arXiv 2510.04996 v3 abstract", "reinforce_ada-balanced", "grpo-n4", SPEEDUP, "samples",
          (1.0, 2.0), "up to 2x"),
    Claim("reinforce_ada", "Reinforce-Ada balanced beats positive-focused",
          "arXiv 2510.04996 v1 §3.1, Fig. 3; v3 Table 2 (47.6 vs 46.1)", "reinforce_ada-balanced",
          "reinforce_ada-positive", SPEEDUP, "steps", None, "faster (curves)"),
    Claim("reinforce_ada_hard", "Reinforce-Ada (balanced) beats GRPO n = 4 on the hard prompt set",
          "arXiv 2510.04996 v1 §3.2, Fig. 6 right", "reinforce_ada-balanced", "grpo-n4", SPEEDUP, "steps",
          None, "faster, margin widens (curves)"),
    Claim("gvm_raft", "GVM-RAFT++ converges about 2x faster in update steps than RAFT++ (N' = 8)",
          "arXiv 2505.02391 §4.2, Fig. 3", "gvm-raft", "raft-n8", SPEEDUP, "steps", (2.0, 2.0), "about 2x"),
    Claim("gvm_raft", "GVM applied to GRPO converges faster than GRPO (N' = 8)",
          "arXiv 2505.02391 §4.2, Fig. 5", "gvm-grpo", "grpo-n8", SPEEDUP, "steps", None, "faster (curves)"),
    Claim("gvm_raft_n32", "GVM-RAFT++ converges about 4x faster in update steps than RAFT++ (N' = 32)",
          "arXiv 2505.02391 §4.2, Fig. 3", "gvm-raft-n32", "raft-n32", SPEEDUP, "steps", (4.0, 4.0), "about 4x"),
    Claim("knapsack_rl", "Knapsack-RL raises the share of effective (non-zero-variance) gradients by 20-40%",
          "arXiv 2509.25849 abstract (Fig. 5 per the ICLR reviews)", "knapsack_rl", "grpo-n8", EFFECTIVE, "steps",
          (0.20, 0.40), "+20-40%"),
    Claim("knapsack_rl", "Knapsack-RL gains 2-4 points on average over GRPO at the same budget",
          "arXiv 2509.25849 abstract (Table 1 per the ICLR reviews)", "knapsack_rl", "grpo-n8", FINAL_GAIN, "steps",
          (0.02, 0.04), "+2-4 points"),
    Claim("knapsack_rl", "Knapsack-RL: matching it uniformly needs about 2x the compute",
          "arXiv 2509.25849 abstract", "knapsack_rl", "grpo-n8", SPEEDUP, "samples", (2.0, 2.0), "about 2x"),
    Claim("dapo", "DAPO's dynamic sampling reaches the same performance in fewer training steps",
          "arXiv 2503.14476 §3.2, §4.2, Fig. 6", "dapo-n16", "grpo-n16", SPEEDUP, "steps", None,
          "fewer steps (curves; no figure)"),
    Claim("mopps", "MoPPS (Thompson prompt selection) needs fewer rollouts than uniform sampling",
          "arXiv 2507.04632 abstract", "mopps", "uniform-n8", SPEEDUP, "samples", None,
          "fewer rollouts (body unread)"),
    Claim("mopps", "MoPPS needs fewer rollouts than dynamic sampling (DS)",
          "arXiv 2507.04632 abstract", "mopps", "ds", SPEEDUP, "samples", None,
          "fewer rollouts (body unread)"),
    Claim("dump", "DUMP's source curriculum learns faster than uniform source sampling",
          "arXiv 2504.09710 §4.2, Fig. 1", "dump", "uniform-n16", SPEEDUP, "steps", None,
          "faster, all 12 sources (curves)"),
]


def null_of(metric: str) -> float:
    """The metric's value when the strategy and the baseline do equally well."""
    return 1.0 if metric == SPEEDUP else 0.0


def verdict(lo: float, hi: float, null: float, size: tuple[float, float] | None) -> str:
    """The verdict of a 95% interval [lo, hi] on a metric where larger is better for the strategy.

    Inconclusive when the interval is undefined or contains ``null`` (no difference); disagrees when it
    lies below ``null``; agrees in direction and size when it also overlaps the paper's ``size`` range,
    in direction only when it does not or the paper gives no size.
    """
    if not (math.isfinite(lo) or math.isfinite(hi)) or math.isnan(lo) or math.isnan(hi) or lo <= null <= hi:
        return "inconclusive"
    if hi < null:
        return "disagrees"
    if size is not None and lo <= size[1] and hi >= size[0]:
        return "agrees in direction and size"
    return "agrees in direction only"


def speedup(ttt: dict, strategy: str, baseline: str, seeds: list[int]) -> tuple[float, float, float]:
    """Ratio of Kaplan-Meier medians (baseline / strategy) of x to target, 95% paired bootstrap interval.

    Unlike the report's speedup, 0 (the strategy's median never reaches the target) and inf are kept:
    here they are results, not undefined ratios.
    """
    def times(alloc):
        return (np.array([ttt[alloc, s][0] for s in seeds], float), np.array([ttt[alloc, s][1] for s in seeds], bool))

    (tb, eb), (ta, ea) = times(baseline), times(strategy)
    point = float(stats.ratio(stats.km_median(tb, eb), stats.km_median(ta, ea))[0])
    idx = stats.resamples(len(seeds))
    return (point, *stats.percentile_interval(stats.ratio(stats.km_median(tb[idx], eb[idx]), stats.km_median(ta[idx], ea[idx]))))


def axes_of(df: pd.DataFrame) -> list[str]:
    """The axes a results table can be compared on: hours only with the cost model's columns."""
    return [a for a in AXES if a != "hours" or has_cost(df)]


def measure(df: pd.DataFrame, claim: Claim) -> dict:
    """The claim's metric with its interval, every axis's speedup and the final test pass gain, paired by seed."""
    runs = runs_of(df)
    seeds = sorted(s for a, s in runs if a == claim.baseline)
    for who in (claim.strategy, claim.baseline):
        if not any(a == who for a, _ in runs):
            raise ValueError(f"scenarios/claims/{claim.scenario}.toml has no strategy {who!r}: "
                             f"{', '.join(dict.fromkeys(a for a, _ in runs))}")
    target = default_target(df, claim.baseline)
    out = {"target": target}
    for axis in axes_of(df):
        out[axis] = speedup(time_to_target(runs, target, AXES[axis]), claim.strategy, claim.baseline, seeds)
    finals = [runs[claim.strategy, s]["test_pass"].iloc[-1] - runs[claim.baseline, s]["test_pass"].iloc[-1] for s in seeds]
    out[FINAL_GAIN] = stats.mean_ci(finals, stats.difference_support(stats.UNIT))
    # the effective ratio of the training steps (step 0 is the initial evaluation, before any batch)
    eff = [runs[claim.strategy, s]["effective_ratio"].iloc[1:].mean() / runs[claim.baseline, s]["effective_ratio"].iloc[1:].mean() - 1
           for s in seeds]
    out[EFFECTIVE] = stats.mean_ci(eff, stats.REAL)
    out["headline"] = out[claim.axis] if claim.metric == SPEEDUP else out[claim.metric]
    out["verdict"] = verdict(*out["headline"][1:], null_of(claim.metric), claim.size)
    return out


def scenario_data(name: str, config: Config, calibration: dict | None = None) -> tuple[dict, str]:
    """The scenario's TOML data with the configuration's seeds and steps, and its path.

    ``calibration``: a bootstrap replicate of ``calibrated.BOOTSTRAP`` replacing the pinned population (through
    the scenario's transform, ``calibrated.population_with``), features and learner; then only the scenario's
    claims' strategies are kept and ``config.replicate_seeds`` seeds run. A scenario whose paper trains without
    a KL term keeps ``kl_coef = 0`` under any calibration.
    """
    path = HERE / f"{name}.toml"
    data = read_toml(path)
    data["seeds"] = config.seeds
    if config.steps is not None:
        data["engine"]["steps"] = config.steps
    if calibration is None:
        return data, str(path)
    data["seeds"] = config.replicate_seeds
    data.pop("cost", None)  # hours are reported for the pinned calibration only ([cost] changes no other column)
    data["population"] = CALIBRATION.population_with(name, data["population"], calibration["population"])
    data["population"]["features"].update(calibration["features"])
    for key, value in calibration["learner"].items():
        if not (key == "kl_coef" and data["learner"].get(key) == 0.0):
            data["learner"][key] = value
    own = {who for c in CLAIMS if c.scenario == name for who in (c.strategy, c.baseline)}
    labels = [st.label for st in parse_scenario(data, str(path), str(HERE)).strategies]
    data["strategies"] = [st for st, label in zip(data["strategies"], labels) if label in own]
    return data, str(path)


def run_all(config: Config, workers: int = 1, progress: bool = True) -> tuple[dict[str, pd.DataFrame], list[dict[str, pd.DataFrame]], dict[str, int]]:
    """Results of every scenario the claims use with the pinned calibration and with each bootstrap replicate's
    (by scenario name), and the paper's steps of each."""
    results, replicates, paper_steps = {}, [], {}
    calibrations = [None, *CALIBRATION.BOOTSTRAP[:config.replicates]]
    for b, calibration in enumerate(calibrations):
        runs = results if calibration is None else {}
        for name in dict.fromkeys(c.scenario for c in CLAIMS):
            data, path = scenario_data(name, config, calibration)
            paper_steps[name] = int(read_toml(path)["engine"]["steps"])
            if progress:
                print(f"claims: {name}, {'pinned calibration' if b == 0 else f'bootstrap calibration {b}/{config.replicates}'} "
                      f"({data['seeds']} seeds x {data['engine']['steps']} steps)", file=sys.stderr, flush=True)
            runs[name] = run_scenario(parse_scenario(data, path, str(HERE)), workers=workers, progress=progress)
        if calibration is not None:
            replicates.append(runs)
    return results, replicates, paper_steps


def sensitivity(claim: Claim, replicates: list[dict[str, pd.DataFrame]], point: pd.DataFrame) -> dict:
    """The claim under each bootstrap calibration: its paper-axis figures and verdicts, and the pinned calibration's
    verdict on the same seeds (the replicates run fewer), which they are compared with."""
    seeds = replicates[0][claim.scenario]["seed"].unique()
    same = measure(point[point["seed"].isin(seeds)], claim)
    ms = [measure(r[claim.scenario], claim) for r in replicates]
    return {"figures": [m["headline"][0] for m in ms], "verdicts": [m["verdict"] for m in ms], "pinned": same["verdict"],
            "pinned_figure": same["headline"][0], "seeds": len(seeds)}


def fmt_value(x: float, metric: str) -> str:
    """One value of ``metric``: speedups as ratios, gains in percent or points."""
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf"
    return f"{x:.2f}x" if metric == SPEEDUP else (f"{100 * x:+.1f}%" if metric == EFFECTIVE else f"{100 * x:+.1f} pts")


def fmt(value: float, lo: float, hi: float, metric: str) -> str:
    """A value and its interval."""
    return f"{fmt_value(value, metric)} [{fmt_value(lo, metric)}, {fmt_value(hi, metric)}]"


def fmt_sensitivity(s: dict, metric: str) -> str:
    """The bootstrap calibrations' range of the paper-axis figure, and how many keep the pinned calibration's verdict."""
    finite = sorted(x for x in s["figures"] if not math.isnan(x))
    span = f"{fmt_value(finite[0], metric)} to {fmt_value(finite[-1], metric)}" if finite else "n/a"
    if len(finite) < len(s["figures"]):
        span += f" ({len(s['figures']) - len(finite)} n/a)"
    kept = sum(v == s["pinned"] for v in s["verdicts"])
    others = pd.Series([v for v in s["verdicts"] if v != s["pinned"]]).value_counts()
    rest = "".join(f", {int(others[v])} {v}" for v in VERDICTS if v in others)
    return (f"{span} (pinned: {fmt_value(s['pinned_figure'], metric)}); verdict as pinned, *{s['pinned']}*, "
            f"in {kept} of {len(s['verdicts'])}{rest}")


def render(results: dict[str, pd.DataFrame], replicates: list[dict[str, pd.DataFrame]], paper_steps: dict[str, int],
           config: Config) -> str:
    """The claims table as Markdown: ``results`` of the pinned calibration and of each bootstrap replicate, by scenario."""
    rows = [(c, measure(results[c.scenario], c), sensitivity(c, replicates, results[c.scenario])) for c in CLAIMS]
    hours = any(has_cost(df) for df in results.values())
    B, S = len(replicates), rows[0][2]["seeds"]
    head = ["claim", "paper's figure (source)", "strategy vs baseline", "simbench on the paper's axis", "verdict",
            "speedup: steps", "samples", "tokens", *(["hours"] if hours else []), "final test pass gain",
            f"over {B} bootstrap calibrations ({S} seeds): the paper's axis, verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c, m, sens in rows:
        name = {SPEEDUP: f"speedup in {c.axis}", EFFECTIVE: "effective-ratio gain", FINAL_GAIN: "final test pass gain"}[c.metric]
        cells = [c.claim, f"{c.figure} ({c.source})", f"`{c.strategy}` vs `{c.baseline}`",
                 f"{name}: {fmt(*m['headline'], c.metric)}", f"**{m['verdict']}**",
                 *(fmt(*m[a], SPEEDUP) if a in m else "n/a (no [cost])" for a in AXES if a != "hours" or hours),
                 fmt(*m[FINAL_GAIN], FINAL_GAIN), fmt_sensitivity(sens, c.metric)]
        lines.append("| " + " | ".join(cells) + " |")
    counts = pd.Series([m["verdict"] for _, m, _ in rows]).value_counts()
    tally = ", ".join(f"{int(counts.get(v, 0))} {v}" for v in VERDICTS)
    stable = sum(all(v == sens["pinned"] for v in sens["verdicts"]) for _, _, sens in rows)
    sides = {"agrees in direction and size": 1, "agrees in direction only": 1, "disagrees": -1}  # inconclusive: 0
    reversed_ = sum(sides.get(v, 0) * sides.get(sens["pinned"], 0) < 0 for _, _, sens in rows for v in sens["verdicts"])
    runs = "\n".join(f"| `{n}.toml` | {paper_steps[n]} | {df['step'].max()} "
                     f"| {df['seed'].nunique()} | {', '.join(f'`{a}`' for a in dict.fromkeys(df['allocator']))} |"
                     for n, df in results.items())
    return TEMPLATE.format(command="python scenarios/claims/run.py" + (" --quick" if config.name == "quick" else ""),
                           config=config.name, seeds=config.seeds, last=config.seeds - 1, table="\n".join(lines), tally=tally,
                           runs=runs, stable=stable, claims=len(rows), B=B, S=S, last_b=S - 1, reversed=reversed_,
                           pairs=B * len(rows),
                           steps="each scenario's own (the paper's)" if config.steps is None else f"{config.steps}")


TEMPLATE = """# Claims table: simbench's predictions for the papers' head-to-head results

Generated by `{command}` (configuration `{config}`: {seeds} seeds per scenario; steps:
{steps}); do not edit by hand. `tests/test_claims_table.py` (slow) regenerates it and fails if it differs.
The settings of each scenario, the sources behind each figure, what is unverified and what simbench lacks
are in [claims-settings.md](claims-settings.md).

**Verdicts** (the pinned calibration): {tally}.
Over {B} bootstrap calibrations of the population and learner ({S} seeds each), {stable} of the {claims} verdicts
hold in every one, and {reversed} of the {pairs} (claim, calibration) pairs reverse the pinned calibration's direction
(agrees against disagrees); the verdicts that change otherwise move to or from inconclusive, or between agreeing
in size and in direction only (last column).

## How to read it

- Every scenario uses the calibration of `simbench validate bundled:one_shot_rlvr` (Qwen2.5-Math-1.5B,
  verl GRPO), pinned in `scenarios/claims/calibrated.py` before any claim was run; nothing is tuned to the
  papers. Papers whose base model differs (Knapsack-RL 7B, DAPO 32B, MoPPS's distilled 1.5B, DUMP's 7B
  instruct) are simulated with this 1.5B learner as a stand-in.
- **Speedup** on an axis: the baseline's Kaplan-Meier median of steps (samples, tokens, hours) to the target
  over the strategy's; > 1 means the strategy gets there sooner. The target is the report's default: 90%
  of the smallest gain in test pass rate (peak minus initial) of any baseline seed. Runs that never reach
  it are censored at their end; a speedup of 0 means the strategy's median never reached it.
- **Effective-ratio gain**: per seed, the strategy's mean share of prompts with mixed (not all-pass, not
  all-fail) groups over the training steps, divided by the baseline's, minus 1.
- **Final test pass gain**: the strategy's test pass rate at the last step minus the baseline's, in
  points; both end at the same step, not at the same number of samples.
- Intervals are 95%: speedups by a paired percentile bootstrap over seeds (seeds resampled jointly, since
  strategies share each seed's population and batch order), gains by a paired Student-t interval.
- **Verdict rule** (on the paper's axis): *inconclusive* when the interval contains no difference (1 for
  a speedup, 0 for a gain) or is undefined; *disagrees* when it lies entirely on the baseline's side;
  otherwise *agrees in direction and size* when it overlaps the paper's figure (a range such as 20-40%,
  or a point such as "about 2x"; "up to 2x" is the range 1-2x), else *agrees in direction only*, which is
  also the verdict when the paper states a direction but no size.
- **The calibration's uncertainty** (last column): `simbench validate bundled:one_shot_rlvr --bootstrap B`
  resamples the log's 1,209 prompts with replacement, whole histories, and refits the population and the
  learner to each resample with the same optimiser and simulation seeds, so the replicates differ by the
  data alone; the first {B} of them are pinned as `BOOTSTRAP` in `scenarios/claims/calibrated.py`. Each
  claim's own strategies are re-run with each replicate's population (through the scenario's screening or
  per-source transform), features and learner (`kl_coef` stays 0 where the paper trains without KL), on
  seed indices 0 to {last_b} only, to bound the time. The column gives the range of the paper-axis figure
  over the {B} calibrations beside the pinned calibration's on the same {S} seeds, and in how many of them
  the verdict is the pinned calibration's on those seeds (which may differ from the {seeds}-seed verdict: fewer
  seeds widen the interval), then the verdicts of the others.
- **Hours**: the wall-clock hours of the simulated cluster to the target, from each scenario's `[cost]`
  table (the paper's model and GPUs where a preset covers them, else the nearest preset as a stand-in, named
  in the scenario's header): a colocated, synchronous verl step holds every GPU, so the GPU-hours are these
  hours times the GPUs and their speedup is the same. Generation is priced per wave with the engines'
  batching and stragglers, training on the kept samples' tokens; engine speeds are the presets'
  placeholders, not fitted, and response lengths are simbench's default law cut at the paper's maximum.
  The assumptions are in [cost.md](cost.md). The `[cost]` table is not part of the world: every other
  column is the same with or without it.

## The table

{table}

## What was run

{seeds} seeds per scenario (seed indices 0 to {last} of each scenario's `seed`; the same seeds for every
strategy of a scenario), and these steps:

| scenario | the paper's steps | steps run | seeds | strategies |
|---|---|---|---|---|
{runs}

How this differs from the papers (details in [claims-settings.md](claims-settings.md)): one SGD step per
batch on the mean over kept samples (the papers: AdamW, several mini-batch updates, PPO clipping,
token-mean losses); 0/1 rewards; test prompts drawn from the training law, not benchmarks; response
lengths are simbench's defaults (the calibration log has no token counts), so the tokens and hours axes are
indicative; GVM estimates every step instead of once per iteration; MoPPS's candidates are drawn each step
rather than per epoch; DUMP's per-source pass rates are read off the paper's figures, not calibrated.
"""


def command_line(script: str, doc: str, configs: dict, per: str, document: str, argv: list[str] | None):
    """The options this script and why.py share: (configuration, workers, the document's path, its directory made)."""
    p = argparse.ArgumentParser(prog=f"python scenarios/claims/{script}", description=doc.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=f"{configs['quick'].seeds} seeds x {configs['quick'].steps} steps "
                                                        f"per {per} (a smoke test, not a result)")
    p.add_argument("--out", default=str(ROOT / "docs"), help=f"directory to write {document} to (default: docs/)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (results do not depend on it; default 1)")
    args = p.parse_args(argv)
    if args.workers < 1:
        p.error(f"--workers {args.workers}: an integer >= 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return configs["quick" if args.quick else "full"], args.workers, out / document


def main(argv: list[str] | None = None) -> int:
    config, workers, path = command_line("run.py", __doc__, CONFIGS, "scenario", "claims.md", argv)
    path.write_text(render(*run_all(config, workers), config))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
