"""``engine.eval_every``: the pool-wide pass rates are measured every k steps, without changing anything else."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from foundation_helpers import tiny, tiny_data

from simbench.cli import main
from simbench.worlds import parse_scenario
from simbench.worlds.rl.engine import Cell, run_cell

POOL = ["train_pass", "test_pass", "test_pass_at_1", "test_pass_at_8", "test_pass_at_32"]
STRATEGIES = [{"allocator": {"kind": "uniform", "n": 4}}, {"allocator": {"kind": "dapo", "n": 4, "on_exhausted": "train"}}]


def runs(every: int | None, **sections):
    engine = {"steps": 11, "batch_prompts": 16, **({"eval_every": every} if every else {})}
    sc = tiny(engine=engine, strategies=STRATEGIES, **sections)
    return sc, pd.concat([pd.DataFrame(run_cell(sc, s, 0)) for s in range(2)], ignore_index=True)


@pytest.mark.parametrize("every", [1, 3, 4, 50])
def test_evaluated_rows_equal_every_step_and_the_others_carry_the_latest(every):
    _, each = runs(None)
    sc, some = runs(every)
    # the interval is no part of the world: the same streams, so every column but the pool's is unchanged
    assert sc.world_hash() == runs(None)[0].world_hash()
    other = [c for c in each.columns if c not in POOL + ["eval_step"]]
    pd.testing.assert_frame_equal(some[other], each[other], check_exact=True)
    last = some.groupby("allocator")["step"].transform("max")
    due = (some["step"] % every == 0) | (some["step"] == last)
    assert (some["eval_step"] == np.where(due, some["step"], some["step"] // every * every)).all()
    pd.testing.assert_frame_equal(some.loc[due, POOL], each.loc[due, POOL], check_exact=True)
    carried = each.set_index(["allocator", "step"]).loc[list(zip(some["allocator"], some["eval_step"])), POOL]
    np.testing.assert_array_equal(some[POOL].to_numpy(), carried.to_numpy())


def test_a_run_cut_short_by_its_total_budget_ends_on_an_evaluation():
    budget = {"unit": "samples", "total": 16 * 4 * 5 + 8.0}
    _, each = runs(None, budget=budget)
    _, some = runs(4, budget=budget)
    assert some["step"].max() == 6 < 11  # the budget, not engine.steps, ended the run
    final = some.groupby("allocator").tail(1)
    assert (final["eval_step"] == final["step"]).all()
    pd.testing.assert_frame_equal(final[POOL], each.groupby("allocator").tail(1)[POOL], check_exact=True)


def test_the_pools_are_scanned_only_when_due(monkeypatch):
    """With eval_every = 5 over 12 steps: steps 0, 5, 10 and 12, four scans of the train pool and of the test set."""
    sc = tiny(engine={"steps": 12, "batch_prompts": 16, "eval_every": 5})
    cell = Cell(sc, 0, 0)
    calls = {"train": 0, "test": 0}
    for pool in calls:
        method = getattr(cell.learner, f"{pool}_pass_rates")

        def counted(method=method, pool=pool):
            calls[pool] += 1
            return method()
        monkeypatch.setattr(cell.learner, f"{pool}_pass_rates", counted)
    rows = cell.run()
    assert calls == {"train": 4, "test": 4}
    assert [r["eval_step"] for r in rows] == [0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 12]


def test_the_interval_changes_the_scenario_hash_but_not_the_world_hash():
    a = tiny(engine={"steps": 5, "batch_prompts": 16})
    b = tiny(engine={"steps": 5, "batch_prompts": 16, "eval_every": 2})
    assert a.world_hash() == b.world_hash()
    assert a.canonical_hash() != b.canonical_hash()
    assert "eval_every" not in a.to_dict()["engine"]  # unset: scenarios written before the key keep their hash


def test_report_and_compare_work_on_a_run_evaluated_every_few_steps(tmp_path):
    """Final values are evaluated, so the summary's final test pass is that of an every-step run."""
    import tomli_w

    outs = {}
    for every in (None, 3):
        data = tiny_data(strategies=STRATEGIES, seeds=3)
        data["engine"] = {"steps": 10, "batch_prompts": 16, **({"eval_every": every} if every else {})}
        data["report"] = {"target_test_pass": 0.30}
        path = tmp_path / f"every{every}.toml"
        path.write_text(tomli_w.dumps(data))
        out = outs[every] = tmp_path / f"out{every}"
        assert main(["run", str(path), "--out", str(out), "--quiet", "--workers", "1"]) == 0  # writes a report too
        if every:  # the report command again, on the run evaluated every few steps (the other is only compared with)
            assert main(["report", str(out)]) == 0
    assert main(["compare", str(outs[None]), str(outs[3])]) == 0
    each, some = (pd.read_csv(outs[k] / "summary.csv") for k in (None, 3))
    pd.testing.assert_series_equal(each["final_test_pass"], some["final_test_pass"], check_exact=True)
    assert (some["seeds"] == 3).all() and some["final_test_pass"].between(0, 1).all()
    assert math.isfinite(float(some["final_test_pass"].iloc[0]))


def test_bad_values_name_the_key_and_what_is_allowed():
    from simbench.core.config import ConfigError

    for bad, allowed in ((0, "an integer >= 1"), (-2, "an integer >= 1"), (2.5, "an integer"), (True, "an integer"), ("3", "an integer")):
        with pytest.raises(ConfigError) as info:
            parse_scenario(tiny_data(engine={"steps": 5, "batch_prompts": 16, "eval_every": bad}), "s.toml")
        msg = str(info.value)
        assert "s.toml" in msg and "'engine.eval_every'" in msg and repr(bad) in msg and allowed in msg, msg
