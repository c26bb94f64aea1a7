"""The cost model in the RL engine: old columns unchanged, new columns present, GPU-hour budgets never exceeded."""
from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from simbench.core.config import ConfigError
from simbench.cost.ledger import COLUMNS
from simbench.worlds import parse_scenario
from simbench.worlds.rl.engine import run_cell
from simbench.worlds.rl.population import prompt_length_seed

REPO = Path(__file__).resolve().parent.parent


def quickstart(steps: int = 6, **tables) -> dict:
    data = tomllib.loads((REPO / "scenarios" / "quickstart.toml").read_text())
    data.pop("cost", None)
    data["engine"]["steps"] = steps
    data.update(tables)
    return data


def rows(data: dict, strategy: int, seed: int = 0) -> list[dict]:
    return run_cell(parse_scenario(data, "quickstart.toml"), strategy, seed)


def same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("strategy", range(8))
def test_existing_columns_are_bit_identical_with_and_without_cost(strategy):
    plain = rows(quickstart(), strategy)
    costed = rows(quickstart(cost={"preset": "qwen2.5-1.5b-8xh100"}), strategy)
    assert len(plain) == len(costed)
    for a, b in zip(plain, costed):
        assert set(b) == set(a) | set(COLUMNS) and not set(a) & set(COLUMNS)
        bad = {k: (a[k], b[k]) for k in a if not same(a[k], b[k])}
        assert not bad, bad


def test_prompt_lengths_stream_is_the_next_child_of_the_population_stream():
    ss = np.random.SeedSequence(12345, spawn_key=(3, 1))
    want = np.random.SeedSequence(12345, spawn_key=(3, 1)).spawn(3)[2]
    assert (prompt_length_seed(ss).generate_state(4) == want.generate_state(4)).all()
    assert ss.n_children_spawned == 0  # no side effect on the stream make_population spawns from


def test_step_times_add_up_and_accumulate():
    out = rows(quickstart(cost={"price_per_gpu_hour": 2.0}), 2)  # Reinforce-Ada balanced: several waves
    assert out[0]["step_s"] == 0 and out[0]["cum_hours"] == 0
    hours = 0.0
    for r in out[1:]:
        assert r["step_s"] == pytest.approx(r["gen_s"] + r["reward_s"] + r["train_s"] + r["overhead_s"])
        assert r["overhead_s"] == pytest.approx(r["waves"] * 2.0 + 5.0)
        hours += r["step_s"] / 3600
        assert r["cum_hours"] == pytest.approx(hours) and r["gpu_hours"] == pytest.approx(8 * hours)
        assert r["usd"] == pytest.approx(2.0 * r["gpu_hours"])


@pytest.mark.parametrize("total", [0.5, 1.0, 1.7])
def test_gpu_hour_budget_is_never_exceeded_and_stops_the_run(total):
    budgeted = parse_scenario(quickstart(steps=40, cost={}, budget={"unit": "gpu_hours", "total": total}), "quickstart.toml")
    unlimited = dataclasses.replace(budgeted, budget=dataclasses.replace(budgeted.budget, total=math.inf))
    object.__setattr__(unlimited, "cell_seed", budgeted.cell_seed)  # the budget is part of the world hash: same streams
    for strategy in (0, 2):  # one wave per step; four waves per step
        out, free = run_cell(budgeted, strategy, 0), run_cell(unlimited, strategy, 0)
        assert out[-1]["gpu_hours"] <= total
        assert len(out) < len(free)
        # the same steps as without a budget, up to the one that would have passed it
        assert [r["test_pass"] for r in out] == [r["test_pass"] for r in free[:len(out)]]
        assert free[len(out)]["gpu_hours"] > total


def test_a_gpu_hour_budget_below_the_first_step_is_an_error():
    with pytest.raises(ConfigError, match="budget.total") as info:
        rows(quickstart(cost={}, budget={"unit": "gpu_hours", "total": 0.01}), 0)
    assert "first step" in info.value.allowed


@pytest.mark.parametrize("table, where, value, allowed", [
    ({"budget": {"unit": "gpu_hours", "total": 1.0}}, "budget.unit", "gpu_hours", "unless the scenario has a [cost] table"),
    ({"budget": {"unit": "gpu_hours", "per_step": 0.1}, "cost": {}}, "budget.per_step", 0.1, "inf (a gpu_hours budget is a total"),
    ({"cost": {}, "population": {"lengths": {"max": 2_000_000}}}, "population.lengths.max", 2_000_000, "must fit one engine's KV cache"),
    ({"cost": {"hw": {"gpu": 8}}}, "cost.hw.gpu", 8, "unknown key"),
])
def test_bad_cost_input_names_the_file(table, where, value, allowed):
    with pytest.raises(ConfigError) as info:
        parse_scenario(quickstart(**table), "quickstart.toml")
    err = info.value
    assert str(err).startswith("quickstart.toml: ") and err.where == where and err.value == value, str(err)
    assert allowed in err.allowed, str(err)


def test_replay_prices_logged_lengths_and_refuses_a_log_without_them():
    from test_logs_replay import make_table

    from simbench.worlds.replay.replay import ReplayCell
    from simbench.worlds.replay.replay_run import replay_scenario
    from simbench.worlds.rl.scenario import CostSpec, StrategySpec

    table = make_table({(s, p): 4 for s in (1, 2) for p in range(3)})
    sc, index = replay_scenario(table, [StrategySpec(allocator={"kind": "uniform", "n": 4})], batch=3, seeds=1)
    sc = dataclasses.replace(sc, cost=CostSpec())
    rows = ReplayCell(sc, 0, 0, index).run()
    assert rows[-1]["step_s"] > 0 and rows[-1]["cum_hours"] > 0
    table["tokens"] = -1
    sc, index = replay_scenario(table, [StrategySpec(allocator={"kind": "uniform", "n": 4})], batch=3, seeds=1)
    with pytest.raises(ConfigError, match="token counts") as info:
        ReplayCell(dataclasses.replace(sc, cost=CostSpec()), 0, 0, index)
    assert info.value.where == "cost"


def test_a_scenario_with_cost_round_trips_through_toml():
    import tomli_w

    sc = parse_scenario(quickstart(cost={"preset": "qwen2.5-7b-8xa100", "rollout": {"dispatch": "per_rollout"}, "price_per_gpu_hour": 1.5}),
                        "quickstart.toml")
    again = parse_scenario(tomllib.loads(tomli_w.dumps(sc.to_dict())), "again.toml")
    assert again == sc and again.canonical_hash() == sc.canonical_hash()
    assert again.cost.hw.hbm_tbps == 2.039 and again.cost.rollout.dispatch == "per_rollout"


def test_a_run_stopped_by_its_gpu_hour_total_ends_on_an_evaluation():
    """With engine.eval_every, the step a GPU-hour total stops at is not known in advance: its row is evaluated after."""
    table = quickstart(steps=40, cost={}, budget={"unit": "gpu_hours", "total": 1.0})
    ref = run_cell(parse_scenario(table, "quickstart.toml"), 0, 0)
    assert len(ref) < 41  # the budget, not engine.steps, ended the run
    every = len(ref)  # past the last step: only the stop can make its row an evaluation
    out = run_cell(parse_scenario({**table, "engine": {**table["engine"], "eval_every": every}}, "quickstart.toml"), 0, 0)
    assert len(out) == len(ref) and out[-2]["eval_step"] == 0
    assert out[-1]["eval_step"] == out[-1]["step"]
    assert out[-1]["test_pass"] == ref[-1]["test_pass"] and out[-1]["train_pass"] == ref[-1]["train_pass"]
