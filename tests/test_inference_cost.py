"""The inference world priced by the cost model: a ``[cost]`` table changes no existing column, latency in seconds is
the sum of the batched generate calls a query took part in (against a slow reference calling ``wave_time`` per
wave), GPU-second budgets are never exceeded, sequential strategies are slower than uniform, and bad input is named."""
from __future__ import annotations

import math

import numpy as np
import pytest

from simbench import registry
from simbench.core.config import ConfigError
from simbench.cost.generation import wave_time
from simbench.testing.inference import run_once, scenario
from simbench.worlds import parse_scenario
from simbench.worlds.inference.eflops import intensity, wave_eflops
from simbench.worlds.inference.engine import run
from simbench.worlds.inference.roles import AllocatorError, InferenceAllocator
from simbench.worlds.inference.tape import make_queries
from simbench.worlds.inference.world import run_unit

PRESET = {"preset": "qwen2.5-1.5b-8xh100"}
COST_COLUMNS = ("latency_p50_s", "latency_p95_s", "gpu_seconds", "gpu_hours", "usd")
HEADS = {"model": {"query_heads": 12}}  # Qwen2.5-1.5B's attention heads: eFLOPs need them


def same_value(a, b) -> bool:
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("unit", ["samples", "tokens"])
@pytest.mark.parametrize("strategy", [{"allocator": "uniform", "picker": "majority"}, {"allocator": "esc"},
                                      {"allocator": "adaptive_consistency"}, {"allocator": "elimination"},
                                      {"allocator": "difficulty_bins", "picker": "bom"},
                                      {"allocator": {"kind": "plan_and_budget", "budgets": [80.0]}}])
def test_cost_table_changes_no_existing_column(unit, strategy):
    """Every column of a run without [cost] is bit-identical with it; [cost] only adds the priced columns."""
    plain = scenario(seed=3, unit=unit, verifier="rm", strategy=strategy)
    priced = scenario(seed=3, unit=unit, verifier="rm", strategy=strategy, cost={**PRESET, "price_per_gpu_hour": 2.5, **HEADS})
    assert plain.cell_seed(0).spawn_key == priced.cell_seed(0).spawn_key and plain.world_hash() == priced.world_hash()
    for a, b in zip(run_unit(plain, 0, 0), run_unit(priced, 0, 0)):
        assert not set(COST_COLUMNS) & set(a) and set(b) == set(a) | set(COST_COLUMNS) | {"eflops"}
        changed = [k for k in a if not same_value(a[k], b[k])]
        assert not changed, f"columns changed by [cost]: {changed}"
        assert b["usd"] == pytest.approx(2.5 * b["gpu_hours"], rel=1e-12) and b["gpu_hours"] == b["gpu_seconds"] / 3600


def test_usd_is_nan_without_a_price_and_queries_are_drawn_alike():
    plain, priced = scenario(seed=5), scenario(seed=5, cost=PRESET)
    row = run_unit(priced, 0, 0)[0]
    assert math.isnan(row["usd"]) and row["gpu_seconds"] > 0
    a, b = make_queries(plain, plain.cell_seed(0)), make_queries(priced, priced.cell_seed(0))
    for f in ("p", "mean_len", "wcum", "bias", "fpr", "keys"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.prompt_len is None and b.prompt_len.dtype == np.int64 and (b.prompt_len >= 1).all()
    assert (b.prompt_len <= priced.cost.prompt_len.max).all() and len(set(b.prompt_len)) > 1


class _Waves(InferenceAllocator):
    """Fixed counts per wave (rows of ``plan``), then zeros."""

    name = "waves"

    def __init__(self, plan):
        super().__init__()
        self.plan = np.asarray(plan, np.int64)

    def allocate(self, view):
        return self.plan[view.wave] if view.wave < len(self.plan) else np.zeros(view.n_queries, np.int64)


def slow_latency(sc, queries, record, plan):
    """Per query seconds and total GPU-seconds, written out: each wave is one generate call over all its samples,
    grouped by query in order of query key, each query's samples sharing its prompt; each query in it waits for it."""
    seconds = np.zeros(len(queries))
    gpu_seconds = 0.0
    drawn = np.zeros(len(queries), np.int64)
    for counts in map(np.asarray, plan):
        P, L, prompt = [], [], []
        for rank, q in enumerate(sorted(np.flatnonzero(counts), key=lambda q: int(queries.keys[q]))):
            for j in range(drawn[q], drawn[q] + counts[q]):
                P.append(int(queries.prompt_len[q]))
                L.append(int(record.length[q, j]))
                prompt.append(rank)
        drawn += counts
        duration = sc.cost.overhead.wave_s + wave_time(sc.cost, np.array(P), np.array(L), np.array(prompt))[0]
        seconds[counts > 0] += duration
        gpu_seconds += sc.cost.hw.gpus * duration
    return seconds, gpu_seconds


@pytest.mark.parametrize("rollout", [{}, {"dispatch": "per_rollout"}, {"gen_model": "simple"}, {"tp": 2, "max_num_seqs": 2}])
def test_latency_in_seconds_matches_a_wave_by_wave_hand_computation(rollout):
    sc = scenario(n_queries=4, cost={**PRESET, "rollout": rollout})
    plan = [[2, 1, 0, 3], [0, 4, 1, 0], [1, 0, 0, 0]]
    queries = make_queries(sc, sc.cell_seed(0))
    out = run(queries, sc, _Waves(plan), registry.make("picker", "majority"), 1e9)
    seconds, gpu_seconds = slow_latency(sc, queries, out.record, plan)
    np.testing.assert_array_equal(out.seconds, seconds)
    assert out.gpu_seconds == gpu_seconds and np.all(seconds > 0)
    assert seconds[0] > seconds[2]  # query 0 waited for three calls, query 2 for one


def test_seconds_do_not_depend_on_how_queries_are_numbered():
    sc = scenario(n_queries=30, cost=PRESET, strategy={"allocator": "esc"})
    perm = np.random.default_rng(1).permutation(30)
    a, _, _ = run_once(sc, registry.make("inference_allocator", "esc"), registry.make("picker", "majority"))
    b, _, _ = run_once(sc, registry.make("inference_allocator", "esc"), registry.make("picker", "majority"), perm=perm)
    np.testing.assert_array_equal(b.seconds, a.seconds[perm])
    assert a.gpu_seconds == b.gpu_seconds


@pytest.mark.parametrize("allocator", ["uniform", "esc", "adaptive_consistency", "elimination", "difficulty_bins", "marginal_gain"])
@pytest.mark.parametrize("seed, per_query", [(0, 1.0), (1, 2.0), (2, 9.0)])
def test_gpu_second_budget_is_never_exceeded(allocator, seed, per_query):
    sc = scenario(seed=seed, unit="gpu_seconds", verifier="binary", per_query=per_query)
    a = registry.make("inference_allocator", allocator)
    out, _, total = run_once(sc, a, registry.make("picker", a.default_picker))
    assert 0 < out.gpu_seconds <= total and out.samples.sum() > 0
    assert out.seconds.max() <= out.gpu_seconds / sc.cost.hw.gpus + 1e-9  # no query waits longer than all the calls


def test_an_overspending_wave_keeps_the_prefix_that_fits():
    """The second wave is cut to the samples (by position in the wave, then query key) whose call the budget pays for."""
    sc = scenario(n_queries=6, unit="gpu_seconds")
    queries = make_queries(sc, sc.cell_seed(0))
    full = run(queries, sc, _Waves([[41] * 6]), registry.make("picker", "majority"), 1e9).record  # the tapes' first 41
    after_first = type("Shifted", (), {"length": full.length[:, 1:]})  # the second wave reads columns 1..40
    order = sorted((pos, int(queries.keys[q]), q) for q in range(6) for pos in range(40))
    counts = lambda k: np.bincount([q for _, _, q in order[:k]], minlength=6)  # noqa: E731
    price = lambda k: slow_latency(sc, queries, after_first, [counts(k)])[1]  # noqa: E731
    first = slow_latency(sc, queries, full, [[1] * 6])[1]
    total = first + (sc.cost.hw.gpus * sc.cost.overhead.wave_s + price(240)) / 2
    out = run(queries, sc, _Waves([[1] * 6, [40] * 6]), registry.make("picker", "majority"), total)
    kept = out.samples - 1
    k = int(kept.sum())
    assert 0 < k < 240 and out.gpu_seconds <= total
    np.testing.assert_array_equal(kept, counts(k))
    assert price(k) <= total - first < price(k + 1)
    assert out.gpu_seconds == pytest.approx(first + price(k), rel=1e-12)


def test_a_budget_too_small_for_one_sample_is_a_config_error():
    sc = scenario(unit="gpu_seconds", per_query=0.01)
    with pytest.raises(ConfigError, match=r"key 'budget.per_query' = 0.01 .*at least one sample: the first wave of allocator 'uniform' costs .* gpu_seconds"):
        run_once(sc, registry.make("inference_allocator", "uniform"), registry.make("picker", "majority"))


def test_asking_for_more_samples_than_the_cheapest_price_pays_for_is_an_allocator_error():
    sc = scenario(unit="gpu_seconds", per_query=1.0)
    with pytest.raises(AllocatorError, match="asked for .* GPU|asked for"):
        run_once(sc, _Waves([[10 ** 9] * 40]), registry.make("picker", "majority"))


def test_sequential_strategies_have_higher_p95_latency_in_seconds_than_uniform():
    rows = {}
    for alloc in ("uniform", "esc", "adaptive_consistency"):
        sc = scenario(n_queries=200, per_query=16.0, strategy={"allocator": alloc}, cost=PRESET)
        rows[alloc] = run_unit(sc, 0, 0)[0]
    for alloc in ("esc", "adaptive_consistency"):
        assert rows[alloc]["latency_p95"] > rows["uniform"]["latency_p95"]
        assert rows[alloc]["latency_p95_s"] > rows["uniform"]["latency_p95_s"]
        assert rows[alloc]["samples"] <= rows["uniform"]["samples"]


@pytest.mark.parametrize("patch, key, allowed", [
    ({"budget": {"unit": "gpu_seconds"}}, "budget.unit", "unless the scenario has a [cost] table"),
    ({"budget": {"unit": "flops"}}, "budget.unit", "one of 'samples', 'tokens', 'gpu_seconds', 'eflops'"),
    ({"budget": {"unit": "gpu_seconds", "per_query": [0.0]}, "cost": PRESET}, "budget.per_query", "positive numbers"),
    ({"cost": {"preset": "gpt-9"}}, "cost.preset", "one of"),
    ({"cost": {"hw": {"gpus": 0}}}, "cost.hw.gpus", "an integer >= 1"),
    ({"cost": {"colour": 1}}, "cost.colour", "unknown key"),
    ({"cost": {"price_per_gpu_hour": -1.0}}, "cost.price_per_gpu_hour", "a non-negative number"),
    ({"budget": {"unit": "eflops"}, "cost": PRESET}, "budget.unit", "whose model gives its attention heads"),
    ({"cost": {"model": {"query_heads": 0}}}, "cost.model.query_heads", "an integer >= 1"),
    ({"cost": PRESET, "queries": {"lengths": {"max": 10 ** 7}}}, "queries.lengths.max", "must fit one engine's KV cache"),
])
def test_bad_cost_input_is_named(patch, key, allowed):
    data = {"world": "inference", "name": "bad", "strategies": [{"allocator": "uniform"}], **patch}
    with pytest.raises(ConfigError) as err:
        parse_scenario(data, "bad.toml")
    msg = str(err.value)
    assert msg.startswith(f"bad.toml: key '{key}' = ") and allowed in msg, msg


def test_the_quickstart_columns_are_the_same_without_its_cost_table():
    import dataclasses
    from pathlib import Path

    from simbench.worlds import load_scenario

    priced = load_scenario(Path(__file__).parent.parent / "scenarios" / "inference_quickstart.toml")
    assert priced.cost is not None
    plain = dataclasses.replace(priced, cost=None)
    small = {"queries": dataclasses.replace(priced.queries, n_queries=100)}  # the same scenario, fewer queries: fast
    priced, plain = dataclasses.replace(priced, **small), dataclasses.replace(plain, **small)
    for i in range(len(priced.strategies)):
        for a, b in zip(run_unit(plain, i, 0), run_unit(priced, i, 0)):
            assert [k for k in a if not same_value(a[k], b[k])] == [] and b["latency_p95_s"] > 0


def test_runs_and_reports_in_seconds_and_gpu_seconds(tmp_path):
    """``simbench run`` with a GPU-second budget: the same bytes with one or two workers, and a report in seconds."""
    import pandas as pd

    from simbench.cli import main

    text = """world = "inference"\nname = "s"\nseeds = 2\n[queries]\nn_queries = 60\n[budget]\nunit = "gpu_seconds"
per_query = [2, 8]\n[cost]\npreset = "qwen2.5-1.5b-8xh100"\nprice_per_gpu_hour = 3.0\n
[[strategies]]\nallocator = "uniform"\n[[strategies]]\nallocator = "esc"\n"""
    (tmp_path / "s.toml").write_text(text)
    for w in (1, 2):
        assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / f"o{w}"), "--workers", str(w), "--quiet"]) == 0
    a, b = pd.read_parquet(tmp_path / "o1" / "results.parquet"), pd.read_parquet(tmp_path / "o2" / "results.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert (a["gpu_seconds"] <= a["budget"] * 60).all() and (a["budget_unit"] == "gpu_seconds").all()
    assert main(["report", str(tmp_path / "o1")]) == 0
    report = (tmp_path / "o1" / "report.md").read_text()
    assert "latency per query in seconds" in report and "latency_p95_s" in report and "usd" in report


def kinetics_dense_cost(nparams, num_query_heads, num_kv_heads, head_dim, E_flops, context_length, generation_length, num_trials=1):
    """Kinetics' ``dense_cost`` (Infini-AI-Lab/Kinetics, cost_model/utils.py), transcribed: (compute, memory) in TFLOPs."""
    compute_cost = (2 * nparams * generation_length
                    + 2 * (2 * context_length + generation_length) * generation_length * num_query_heads * head_dim) * num_trials * 1e-12
    memory_cost = 2 * (2 * context_length + generation_length * num_trials) * generation_length * num_kv_heads * head_dim * E_flops * 1e-12
    return compute_cost, memory_cost


@pytest.mark.parametrize("P, L, n", [(1, 1, 1), (200, 500, 1), (200, 500, 8), (1024, 4000, 3)])
def test_eflops_equal_kinetics_dense_cost(P, L, n):
    """A9: equally long samples of one query cost Kinetics' dense eFLOPs (head_dim there is head_dim x layers)."""
    sc = scenario(cost={**PRESET, **HEADS})
    m = sc.cost.model
    ours = wave_eflops(sc.cost, np.array([P]), np.zeros(n, np.int64), np.full(n, L))
    compute, memory = kinetics_dense_cost(m.params, m.query_heads, m.kv_heads, m.head_dim * m.layers, intensity(sc.cost), P, L, n)
    assert ours == pytest.approx((compute + memory) * 1e12, rel=1e-12)


def test_eflops_per_trial_grow_super_linearly_in_length():
    """A9: the L^2 terms make a response of 2L cost more than two of L, by a second difference that is constant."""
    cost = scenario(cost={**PRESET, **HEADS}).cost
    one = lambda L: wave_eflops(cost, np.array([200]), np.array([0]), np.array([L]))  # noqa: E731
    L = np.array([1000, 2000, 3000, 4000])
    f = np.array([one(x) for x in L])
    assert f[1] > 2 * f[0] and f[3] > 2 * f[1]
    second = np.diff(f, 2)
    assert (second > 0).all() and second[0] == pytest.approx(second[1], rel=1e-9)
    # samples of two queries price apart; a query's samples share its prompt's reads
    two = wave_eflops(cost, np.array([200, 300]), np.array([0, 1]), np.array([100, 50]))
    assert two == pytest.approx(one(100) + wave_eflops(cost, np.array([300]), np.array([0]), np.array([50])), rel=1e-12)
    shared = wave_eflops(cost, np.array([200]), np.array([0, 0]), np.array([100, 100]))
    assert shared < 2 * one(100)


@pytest.mark.parametrize("allocator", ["uniform", "esc", "elimination", "marginal_gain"])
def test_eflop_budget_keeps_the_longest_prefix_and_is_never_exceeded(allocator):
    sc = scenario(unit="eflops", per_query=2e13, cost={**PRESET, **HEADS})
    a = registry.make("inference_allocator", allocator)
    out, _, total = run_once(sc, a, registry.make("picker", a.default_picker))
    assert 0 < out.eflops <= total and out.samples.sum() > 0
    row = run_unit(scenario(unit="eflops", per_query=2e13, cost={**PRESET, **HEADS}, strategy={"allocator": allocator}), 0, 0)[0]
    assert row["eflops"] == out.eflops and row["budget_unit"] == "eflops"


def test_an_overspending_wave_keeps_the_longest_prefix_of_eflops():
    sc = scenario(n_queries=6, unit="eflops", per_query=1e13, cost={**PRESET, **HEADS})
    queries = make_queries(sc, sc.cell_seed(0))
    full = run(queries, sc, _Waves([[41] * 6]), registry.make("picker", "majority"), 1e30).record
    order = sorted((pos, int(queries.keys[q]), q) for q in range(6) for pos in range(40))
    price = lambda k: wave_eflops(sc.cost, queries.prompt_len, np.array([q for _, _, q in order[:k]], np.int64),  # noqa: E731
                                  np.array([full.length[q, 1 + pos] for pos, _, q in order[:k]]))
    first = wave_eflops(sc.cost, queries.prompt_len, np.arange(6), full.length[:, 0])
    total = first + price(240) / 3
    out = run(queries, sc, _Waves([[1] * 6, [40] * 6]), registry.make("picker", "majority"), total)
    k = int(out.samples.sum()) - 6
    assert 0 < k < 240 and price(k) <= total - first < price(k + 1)
    assert out.eflops == pytest.approx(first + price(k), rel=1e-12)
