"""Replay: logged samples are served without replacement, shortfalls are counted exactly, runs are deterministic."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simbench.core.config import ConfigError
from simbench.worlds.replay.replay import ReplayCell
from simbench.worlds.replay.replay_run import replay_scenario, run_replay, summarise_replay
from simbench.worlds.replay.table import ReadReport, Skipper, finish
from simbench.worlds.rl.scenario import BudgetSpec, StrategySpec


def make_table(sizes: dict, seed=0) -> pd.DataFrame:
    """Canonical table with groups {(step, prompt): size}; every sample has a unique token count (its id)."""
    rng = np.random.default_rng(seed)
    rows = {"step": [], "prompt_key": [], "reward": [], "tokens": []}
    uid = 1
    for (s, p), n in sorted(sizes.items()):
        for _ in range(n):
            rows["step"].append(s)
            rows["prompt_key"].append(str(p))
            rows["reward"].append(float(rng.random() < 0.5))
            rows["tokens"].append(uid)
            uid += 1
    rep = ReadReport("<test>", "table")
    return finish(rows, rep, 0.5, Skipper(rep, False), variable_groups=True)


class Recording(ReplayCell):
    """Records the ids (token counts) of the samples served in each step."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.ids = {}

    def draw(self, prompts, n, token_cap, step):
        slot, reward, length, drawn = super().draw(prompts, n, token_cap, step)
        self.ids.setdefault(step, []).extend(length.tolist())
        return slot, reward, length, drawn


def run_recording(table, allocator, batch, budget=None, seed_index=0):
    sc, index = replay_scenario(table, [StrategySpec(allocator=allocator)], batch=batch, seeds=1, budget=budget)
    cell = Recording(sc, 0, seed_index, index)
    rows = cell.run()
    return cell, rows, index


@settings(max_examples=25, deadline=None)
@given(steps=st.integers(1, 4), prompts=st.integers(1, 6), n_log=st.integers(1, 6), n_ask=st.integers(1, 9),
       batch=st.integers(1, 7), seed=st.integers(0, 3))
def test_replay_never_serves_a_sample_twice_and_counts_shortfall_exactly(steps, prompts, n_log, n_ask, batch, seed):
    table = make_table({(s, p): n_log for s in range(1, steps + 1) for p in range(prompts)}, seed)
    cell, rows, index = run_recording(table, {"kind": "uniform", "n": n_ask}, batch, seed_index=seed)
    served = [i for ids in cell.ids.values() for i in ids]
    assert len(served) == len(set(served))  # never twice, within a step or across steps
    assert (cell.served <= index.size).all()
    groups = len(index)
    assert sum(r["samples"] for r in rows) == groups * min(n_ask, n_log)
    assert sum(r["requested"] for r in rows) == groups * n_ask
    assert sum(r["shortfall"] for r in rows) == groups * max(n_ask - n_log, 0)
    assert sum(r["requests_truncated"] for r in rows) == (groups if n_ask > n_log else 0)
    # served rewards are the log's: per (step, prompt) the served passes are a subset of the logged ones
    assert sum(r["samples"] * r["log_pass"] for r in rows if r["samples"]) <= table["passed"].sum() + 1e-9


def test_shortfall_with_uneven_groups():
    sizes = {(1, 0): 2, (1, 1): 8, (1, 2): 5, (2, 0): 6, (2, 1): 1, (2, 2): 8}
    table = make_table(sizes)
    df = run_replay(*replay_scenario(table, [StrategySpec(allocator={"kind": "uniform", "n": 6})], batch=3, seeds=2))
    s = summarise_replay(df).iloc[0]
    short = sum(max(6 - n, 0) for n in sizes.values())
    assert s["shortfall"] == short
    assert s["samples"] == sum(min(6, n) for n in sizes.values())
    assert s["truncated_share"] == pytest.approx(3 / 6)  # the groups of 2, 5 and 1 samples


def test_dapo_replay_serves_distinct_samples_and_is_deterministic():
    table = make_table({(s, p): 8 for s in range(1, 4) for p in range(20)}, 5)
    spec = {"kind": "dapo", "n": 4, "on_exhausted": "train"}
    cell, rows, _ = run_recording(table, spec, batch=4)
    served = [i for ids in cell.ids.values() for i in ids]
    assert len(served) == len(set(served))
    _, rows2, _ = run_recording(table, spec, batch=4)
    assert pd.DataFrame(rows).equals(pd.DataFrame(rows2))


def test_token_budget_needs_token_counts():
    table = make_table({(1, 0): 4})
    table["tokens"] = -1
    with pytest.raises(ConfigError, match="token counts"):  # refused when the replay is set up
        replay_scenario(table, [StrategySpec(allocator="uniform")], batch=1, seeds=1,
                        budget=BudgetSpec(unit="tokens", per_step=100.0))
    sc, index = replay_scenario(table, [StrategySpec(allocator="uniform")], batch=1, seeds=1)
    sc = dataclasses.replace(sc, budget=BudgetSpec(unit="tokens", per_step=100.0))
    with pytest.raises(ConfigError, match="token counts"):  # and by a cell built directly
        ReplayCell(sc, 0, 0, index)


def test_replay_cli_on_a_verl_dump(tmp_path):
    import json

    from simbench.cli import main

    rng = np.random.default_rng(0)
    d = tmp_path / "rollouts"
    d.mkdir()
    for s in (1, 2):
        lines = [json.dumps({"input": f"q{p}", "output": "w" * int(rng.integers(4, 400)), "score": float(rng.random() < 0.4),
                             "data_source": "math" if p % 2 else "code", "step": s}) for p in range(6) for _ in range(4)]
        rng.shuffle(lines)
        (d / f"{s}.jsonl").write_text("\n".join(lines) + "\n")
    (d / "2.jsonl").write_text((d / "2.jsonl").read_text() + "{oops\n")
    out = tmp_path / "out"
    assert main(["replay", str(d), "--format", "verl", "--n", "4", "--allocator", "uniform:n=4", "--out", str(out)]) == 2
    assert main(["replay", str(d), "--format", "verl", "--n", "4", "--skip-bad-lines", "--allocator", "uniform:n=4",
                 "--allocator", "uniform:n=6", "--out", str(out), "--seeds", "2"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary["samples"].tolist() == [48, 48]
    assert summary["truncated_share"].tolist() == [0.0, 1.0]
    assert (out / "report.md").read_text().count("1 bad lines skipped") == 1
    res = pd.read_parquet(out / "results.parquet")
    assert res["train_pass"].isna().all()
