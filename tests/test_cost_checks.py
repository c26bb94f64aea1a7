"""Published figures as checks of the cost model: what is fitted to a paper's numbers, and what is then predicted.

B1, Reinforce-Ada (arXiv 2510.04996v3, section 4.3, Table 3): average step time of GRPO-n4 102 s on
Qwen2.5-Math-1.5B / 8 H100 (15 s of it the actor update), 236 s on Qwen2.5-Math-7B / 8 A100 (85 s);
Seq-balance 2.8x and Seq-pos 2.2x GRPO's on 1.5B, 1.59x and 1.41x on 7B.  Fitted: ``train.mfu`` and
``rollout.t_fix_ms`` to GRPO's two numbers.  Predicted: the Seq variants' step times.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import betabinom

from simbench.core.config import build
from simbench.cost.fit import match_step_time
from simbench.cost.ledger import CostLedger, step_times
from simbench.cost.spec import CostSpec
from simbench.worlds import load_scenario, parse_scenario
from simbench.worlds.rl.engine import Cell
from simbench.worlds.rl.results import tokens_to_target

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


class Recorder(CostLedger):
    """A ledger that keeps each step's samples, to price the same run under other cost parameters."""

    def __init__(self, ledger: CostLedger):
        super().__init__(ledger.spec, ledger.prompt_len)
        self.steps = []

    def step(self, prompts, slot, length, wave, keep):
        self.steps.append((self.prompt_len[prompts], slot.copy(), length.copy(), wave.copy(), np.asarray(keep, bool).copy()))
        return super().step(prompts, slot, length, wave, keep)


def recorded(scenario, strategy: int, seed: int = 0) -> list[tuple]:
    """Each step's ``(P, slot, length, wave, keep)`` of one strategy's run (the cost model does not change the run)."""
    cell = Cell(scenario, strategy, seed)
    cell.ledger = Recorder(cell.ledger)
    cell.run()
    return cell.ledger.steps


def mean_step(spec: CostSpec, steps: list[tuple]) -> float:
    return float(np.mean([step_times(spec, *st)["step_s"] for st in steps]))


@pytest.fixture(scope="module")
def reinforce_ada():
    sc = load_scenario(SCENARIOS / "reinforce_ada_timing.toml")
    labels = [s.label for s in sc.strategies]
    return sc, {label: recorded(sc, i) for i, label in enumerate(labels)}


def test_b1_population_is_the_paper_filter_of_the_quickstart_law(reinforce_ada):
    """The scenario's mixture is Beta(0.349, 0.707) conditioned on 1 <= k <= 6 passes of 16 (0 < p_hat <= 0.375)."""
    pr = reinforce_ada[0].population.pass_rate
    a, b, k = 0.349, 0.707, np.arange(1, 7)
    w = betabinom.pmf(k, 16, a, b)
    assert np.allclose(pr.weights, w / w.sum(), atol=1e-6)
    assert np.allclose(pr.alphas, a + k) and np.allclose(pr.betas, b + 16 - k)


def fitted_ratios(preset_spec: CostSpec, runs: dict, step_s: float, update_s: float) -> tuple[CostSpec, dict]:
    spec = match_step_time(preset_spec, runs["grpo-n4"], step_s, update_s)
    grpo = mean_step(spec, runs["grpo-n4"])
    return spec, {label: mean_step(spec, steps) / grpo for label, steps in runs.items()}


@pytest.fixture(scope="module")
def b1(reinforce_ada):
    """The 1.5B fit and its predicted ratios, and the 7B ones."""
    sc, runs = reinforce_ada
    spec15, r15 = fitted_ratios(sc.cost, runs, 102.0, 15.0)
    _, r7 = fitted_ratios(build(CostSpec, {"preset": "qwen2.5-7b-8xa100"}, "cost"), runs, 236.0, 85.0)
    print(f"B1 predicted step-time ratios: 1.5B balance {r15['seq-balance']:.2f} pos {r15['seq-pos']:.2f}; "
          f"7B balance {r7['seq-balance']:.2f} pos {r7['seq-pos']:.2f}; fitted 1.5B t_fix {spec15.rollout.t_fix_ms:.4g} ms, "
          f"mfu {spec15.train.mfu:.4g}")
    return spec15, r15, r7


@pytest.mark.xfail(strict=True, reason="measured miss: on this population the simulated Seq variants draw 4.1x (balanced) and "
                   "3.0x (positive) GRPO's samples and run all 4 rounds every step (some prompt of 512 always lacks a positive), "
                   "so with the per-iteration cost fitted to GRPO's 87 s they take 4.0x and 3.8x its step, above the published "
                   "2.8x and 2.2x and the ranges [2.0, 3.6] and [1.6, 2.9]")
def test_b1_predicted_ratios_in_the_published_ranges(b1):
    _, r15, _ = b1
    assert 2.0 <= r15["seq-balance"] <= 3.6
    assert 1.6 <= r15["seq-pos"] <= 2.9


def test_b1_reinforce_ada_step_times_directional(reinforce_ada, b1):
    sc, runs = reinforce_ada
    spec15, r15, r7 = b1
    assert mean_step(spec15, runs["grpo-n4"]) == pytest.approx(102.0, rel=1e-6)  # the fit
    assert r15["seq-balance"] > r15["seq-pos"] > 1.0  # predicted (paper: 2.8x > 2.2x)
    # the scenario carries the fitted values (rounded to 3 significant digits), so `simbench run` shows the same times
    assert sc.cost.rollout.t_fix_ms == pytest.approx(spec15.rollout.t_fix_ms, rel=5e-3)
    assert sc.cost.train.mfu == pytest.approx(spec15.train.mfu, rel=5e-3)
    # 7B on 8 A100s: the update takes 85 of 236 s, so the extra rollouts cost relatively less (paper: 1.59x and 1.41x)
    assert r7["seq-balance"] < r15["seq-balance"]
    assert r7["seq-pos"] < r15["seq-pos"]


def test_match_step_time_hits_both_numbers(reinforce_ada):
    sc, runs = reinforce_ada
    spec = match_step_time(dataclasses.replace(sc.cost), runs["grpo-n4"], 150.0, 30.0)
    update = np.mean([step_times(spec, *st)["train_s"] for st in runs["grpo-n4"]]) * 8 / 10
    assert update == pytest.approx(30.0, rel=1e-9) and mean_step(spec, runs["grpo-n4"]) == pytest.approx(150.0, rel=1e-6)


def run_rows(scenario, strategy: int, seed: int) -> pd.DataFrame:
    return pd.DataFrame(Cell(scenario, strategy, seed).run())


def test_b2_greso_rollout_share_and_time_saving():
    """GRESO (Infini-AI-Lab/GRESO): dynamic sampling spends 87.6% of its time in rollout; GRESO saves 2.4x rollout time for
    2.1x fewer rollouts, because skipping prompts before rollout also removes generation calls.  Nothing fitted: the
    scenario's preset parameters; predicted: the shares and savings (directional)."""
    sc = load_scenario(SCENARIOS / "greso_timing.toml")
    labels = [s.label for s in sc.strategies]
    wave_s = sc.cost.overhead.wave_s
    for seed in range(sc.seeds):
        runs = {label: run_rows(sc, i, seed) for i, label in enumerate(labels)}
        rollout = {k: float((r["gen_s"] + wave_s * r["waves"]).sum()) for k, r in runs.items()}  # generation and its calls
        total = {k: float(r["step_s"].sum()) for k, r in runs.items()}
        samples = {k: float(r["samples"].sum()) for k, r in runs.items()}
        assert 0.75 <= rollout["dynamic_sampling"] / total["dynamic_sampling"] <= 0.95
        assert runs["greso"]["waves"].sum() < runs["dynamic_sampling"]["waves"].sum()  # fewer generate calls
        time_saving = rollout["dynamic_sampling"] / rollout["greso"]
        sample_saving = samples["dynamic_sampling"] / samples["greso"]
        assert time_saving > sample_saving > 1.0
        print(f"B2 seed {seed}: DS rollout share {rollout['dynamic_sampling'] / total['dynamic_sampling']:.3f}, GRESO "
              f"{rollout['greso'] / total['greso']:.3f}; rollout-time saving {time_saving:.3f}x, sample saving {sample_saving:.3f}x")


def test_b4_speed_beats_uniform_24_in_hours_to_target():
    """SPEED-RL (N_init 4 + N_cont 20) vs uniform N = 24 on the hard_prompts scenario, priced with the 1.5B preset: SPEED
    reaches a train-pass target in fewer hours.  The target: half the smallest gain uniform-24 makes in the run."""
    data = tomllib.loads((SCENARIOS / "hard_prompts.toml").read_text())
    data["cost"] = {"preset": "qwen2.5-1.5b-8xh100"}
    data["engine"]["steps"] = 60
    data["seeds"] = 2
    data["strategies"] = [{"name": "uniform-24", "allocator": {"kind": "uniform", "n": 24}},
                          {"name": "speed-4+20", "allocator": {"kind": "speed_rl", "n_init": 4, "n_cont": 20}, "downsampler": "speed_rl_keep"}]
    sc = parse_scenario(data, str(SCENARIOS / "hard_prompts.toml"))
    runs = {(i, seed): run_rows(sc, i, seed) for i in range(2) for seed in range(2)}
    gain = 0.5 * min(r["train_pass"].iloc[-1] - r["train_pass"].iloc[0] for (i, _), r in runs.items() if i == 0)
    assert gain > 0
    for seed in range(2):
        hours = [tokens_to_target(runs[i, seed], runs[i, seed]["train_pass"].iloc[0] + gain, x="cum_hours", y="train_pass")
                 for i in range(2)]
        assert math.isfinite(hours[0]) and math.isfinite(hours[1])
        assert hours[1] < hours[0]
        print(f"B4 seed {seed}: hours to +{gain:.4f} train pass: uniform-24 {hours[0]:.3f}, SPEED 4+20 {hours[1]:.3f}")
