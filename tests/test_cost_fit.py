"""Fitting the cost model to a verl metrics log: the round trip, the length reconstruction and the command."""
from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest
from cost_fit_helpers import TRUE, synthetic_run, true_spec, write_metrics

from simbench.cli import main
from simbench.core.config import build
from simbench.cost.fit import StepSamples, fit_cost, lengths_from_stats, samples_from_metrics, toml_table
from simbench.cost.metrics_log import read_metrics
from simbench.cost.spec import CostSpec

NOISE = 0.005  # relative timing noise of the synthetic log (0.5%: enough for every parameter to be determined within a few %)


def start_spec() -> CostSpec:
    return build(CostSpec, {"preset": "qwen2.5-7b-8xa100"}, "cost")


def value_at(spec: CostSpec, key: str) -> float:
    table, name = key.split(".")
    return float(getattr(getattr(spec, table), name))


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "metrics.jsonl"
    run = synthetic_run()
    write_metrics(path, true_spec(), run, noise=NOISE)
    return fit_cost(start_spec(), read_metrics(path), steps=run)


def test_round_trip_recovers_every_parameter_within_10_percent(round_trip):
    """Simulated run with known parameters, timings with 0.5% noise: every fitted parameter within 10% of the truth."""
    fit = round_trip
    assert set(fit.params) == set(TRUE)
    for key, true in TRUE.items():
        assert fit.params[key] == pytest.approx(true, rel=0.10), key
        assert value_at(fit.spec, key) == pytest.approx(fit.params[key], rel=1e-12)  # and the fitted spec carries it
    gen = fit.parts[0]
    for key, se in gen.se.items():  # the reported standard errors are honest: the truth within 3 of them
        assert abs(gen.params[key] - TRUE[key]) <= 3 * se, key


def test_round_trip_held_out_error_is_the_noise(round_trip):
    """On the held-out half the fitted model misses each timing by about the noise (mean |relative error| of N(0, s) = 0.8 s)."""
    for part in round_trip.parts:
        if part.part in ("generation", "trainer", "reward"):
            assert part.held_error < 2 * NOISE, part.part
            assert part.r2_held > 0.99, part.part


def test_fitted_table_is_a_valid_cost_table(round_trip):
    table = tomllib.loads(toml_table(round_trip))["cost"]
    spec = build(CostSpec, table, "cost")
    for key in TRUE:
        assert value_at(spec, key) == pytest.approx(round_trip.params[key], rel=1e-5)


@pytest.mark.parametrize("n,mean,longest,clip", [(64, 700.0, 4096.0, 0.0), (256, 1500.0, 2048.0, 0.125), (7, 300.0, 300.0, 1.0), (7, 250.0, 300.0, 0.0),
                                                 (1000, 40.0, 3000.0, 0.001)])
def test_lengths_from_stats_match_the_logged_statistics(n, mean, longest, clip):
    L = lengths_from_stats(n, mean, longest, clip)
    assert len(L) == n and L.dtype == np.int64
    assert L.max() == longest
    assert abs(L.mean() - mean) <= 0.5 + 1e-9  # rounding to whole tokens
    assert np.sum(L == longest) == max(1, round(clip * n))
    assert np.array_equal(L, lengths_from_stats(n, mean, longest, clip))  # a fixed order


def test_reconstructed_samples_follow_the_metrics(tmp_path):
    path = tmp_path / "m.jsonl"
    run = synthetic_run(repeats=1)
    write_metrics(path, true_spec(), run)
    steps = samples_from_metrics(read_metrics(path), group=8)
    for s, r in zip(steps, run):
        assert len(s.L) == len(r.L) and s.waves == r.waves  # samples from perf/total_num_tokens and the length means
        assert abs(s.L.mean() - r.L.mean()) <= 0.5 and s.L.max() == r.L.max()
        assert np.array_equal(s.prompt, np.arange(len(r.L)) // 8)


def test_fit_cost_command_with_a_rollout_dump(tmp_path, capsys):
    run = synthetic_run(repeats=1)
    metrics = tmp_path / "metrics.jsonl"
    write_metrics(metrics, true_spec(), run, noise=0.0)
    dump = tmp_path / "rollouts"
    dump.mkdir()
    for i, s in enumerate(run, start=1):
        with open(dump / f"{i}.jsonl", "w") as fh:
            for j in range(len(s.L)):
                fh.write(json.dumps({"input": f"prompt {s.prompt[j]:05d}", "output": "x", "score": j % 2, "ntok": int(s.L[j])}) + "\n")
    out = tmp_path / "fit.toml"
    code = main(["fit-cost", str(metrics), "--preset", "qwen2.5-7b-8xa100", "--log", str(dump), "--tokens-field", "ntok",
                 "--max-num-seqs", "256", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "R2_held_out" in text and "max_num_seqs = 256 given, not fitted" in text
    # the dump's lengths reach the fit as they are; its prompts sit at their step's prompt_length/mean (a dump has no counts)
    exact = [StepSamples(np.full(len(s.L), round(s.P.mean())), s.L, s.prompt, s.waves) for s in run]
    expect = fit_cost(start_spec(), read_metrics(metrics), steps=exact, max_num_seqs=256)
    assert out.read_text() == toml_table(expect)
    assert expect.params["train.mfu"] == pytest.approx(TRUE["train.mfu"], rel=1e-9)  # noise-free trainer timings


def test_fit_cost_command_from_the_metrics_alone(tmp_path, capsys):
    metrics = tmp_path / "metrics.jsonl"
    write_metrics(metrics, true_spec(), synthetic_run(repeats=1), nested=False)
    assert main(["fit-cost", str(metrics), "--preset", "qwen2.5-7b-8xa100", "--group", "8", "--max-num-seqs", "256"]) == 0
    text = capsys.readouterr().out
    assert "response lengths reconstructed from response_length/{mean,max,clip_ratio}" in text
    assert "fitted on steps 1..4, held out 5..9" in text and text.rstrip().splitlines()[-1].startswith("reward.t_verify_ms = ")
