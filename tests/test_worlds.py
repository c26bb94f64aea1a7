"""The World interface: every world behind the same run, sweep, report, compare and store; a new world is one registration."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

import simbench.worlds as worlds
from simbench.cli import main
from simbench.core.config import ConfigError
from simbench.worlds.base import ScenarioWorld, World

ROOT = Path(__file__).resolve().parent.parent
COIN = """name = "coins-demo"
world = "coins"
seeds = 3
flips = 12
[[strategies]]
p = 0.2
[[strategies]]
p = 0.8
"""


@pytest.fixture
def coin_world(monkeypatch):
    """Register the toy world of tests/coin_world.py, as a new world's package would be registered."""
    monkeypatch.setitem(worlds.WORLDS, "coins", "coin_world:CoinWorld")
    worlds.get.cache_clear()
    yield
    worlds.get.cache_clear()


def test_every_registered_world_is_a_world_under_its_own_name():
    for name in worlds.WORLDS:
        world = worlds.get(name)
        assert isinstance(world, World) and world.name == name
    assert worlds.scenario_worlds() == ["rl", "equitable", "inference"]  # replay and validation come from logs, not scenario files


def test_a_scenario_names_its_world_and_an_unknown_world_is_an_error():
    assert worlds.parse_scenario({"name": "x", "strategies": [{"allocator": "uniform"}]}).world == "rl"
    with pytest.raises(ConfigError) as err:
        worlds.parse_scenario({"name": "x", "world": "replay", "strategies": []}, "s.toml")
    assert (err.value.where, err.value.value, err.value.source) == ("world", "replay", "s.toml")
    assert "'rl' (default) or 'equitable' or 'inference'" in err.value.allowed
    with pytest.raises(ConfigError, match="world"):
        worlds.parse_scenario({"name": "x", "world": ["rl"], "strategies": []})  # unhashable: still a clear error


def _shared_modules():
    for path in sorted((ROOT / "simbench" / "core").rglob("*.py")) + sorted((ROOT / "simbench" / "commands").glob("*.py")):
        # the replay and validate commands are the replay world's; fit-cost reads rollout dumps with its verl reader
        if path.name not in ("replay.py", "validate.py", "fit_cost.py"):
            yield path


def test_the_shared_machinery_names_no_world():
    """No import of a world's package and no world's name as a string in simbench/core and the generic commands."""
    names = set(worlds.WORLDS)
    for path in _shared_modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("simbench.worlds."), f"{path}: imports {node.module}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("simbench.worlds.") for a in node.names), f"{path}: imports a world"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in names, f"{path}: names the world {node.value!r}"


def test_a_new_world_runs_sweeps_reports_and_compares_like_the_others(coin_world, tmp_path, capsys):
    scenario = tmp_path / "coins.toml"
    scenario.write_text(COIN)
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(scenario), "--out", str(a), "--quiet"]) == 0
    assert "best heads: p=0.8" in capsys.readouterr().out
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["world"] == "coins" and manifest["flips"] == 12
    df = pd.read_parquet(a / "results.parquet")
    assert list(df.columns[:3]) == ["allocator", "seed", "flip"]  # the world's leading columns
    assert len(df) == 2 * 3 * 12
    summary = pd.read_csv(a / "summary.csv")
    assert summary.set_index("allocator")["heads"]["p=0.8"] > summary.set_index("allocator")["heads"]["p=0.2"]
    # the same units again: every one is reused from the store, and the results are the same bytes
    before = (a / "results.parquet").read_bytes()
    assert main(["run", str(scenario), "--out", str(a), "--quiet"]) == 0
    assert "(6 already done" in capsys.readouterr().out
    assert (a / "results.parquet").read_bytes() == before
    # a sweep over the world's own key
    scenario.write_text(COIN + '[sweep.grid]\nflips = [4, 8]\n')
    assert main(["sweep", str(scenario), "--out", str(b), "--quiet"]) == 0
    assert sorted(pd.read_parquet(b / "results.parquet").groupby("cell")["flip"].max()) == [4, 8]
    # report rewrites summary and report; an option the world does not take is an error naming it
    (a / "summary.csv").unlink()
    assert main(["report", str(a)]) == 0
    assert (a / "summary.csv").exists() and "Heads after the last flip" in (a / "report.md").read_text()
    assert main(["report", str(a), "--baseline", "uniform"]) == 2
    assert "not an option of coins reports" in capsys.readouterr().err
    # compare pairs by seed; a different world's output is refused
    assert main(["compare", str(a), str(a)]) == 0
    out = capsys.readouterr().out
    assert "final heads" in out and "b_minus_a" in out


@pytest.mark.parametrize("name, world, recorded", [("quickstart", "rl", {"baseline", "target_test_pass"}),
                                                    ("equitable_prs", "equitable", {"metric", "objective"}),
                                                    ("inference_quickstart", "inference", {"baseline", "unit"})])
def test_bundled_scenarios_of_both_worlds_load_through_the_registry(name, world, recorded):
    scenario = worlds.load_scenario(ROOT / "scenarios" / f"{name}.toml")
    assert isinstance(worlds.world_of(scenario), ScenarioWorld) and worlds.world_of(scenario).name == world
    assert set(worlds.world_of(scenario).describe(scenario)) == recorded  # what its reports read from the manifest


def test_a_replay_is_run_stored_and_resumed_like_any_world(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["replay", "bundled:one_shot_rlvr", "--seeds", "2", "--allocator", "uniform:n=4", "--out", str(out)]
    assert main(args) == 0
    assert "2 units (0 already done" in capsys.readouterr().out
    assert len(list((out / "units").glob("*.parquet"))) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["world"] == "replay" and manifest["log"].startswith("bundled:one_shot_rlvr")
    before = (out / "results.parquet").read_bytes()
    assert main(args) == 0
    assert "2 units (2 already done" in capsys.readouterr().out
    assert (out / "results.parquet").read_bytes() == before
    # another replay into the same directory replaces the old one (replay has no --force: it never had to refuse)
    assert main(args[:-3] + ["dapo:n=4,on_exhausted=\"train\"", "--out", str(out)]) == 0
    assert set(pd.read_parquet(out / "results.parquet")["allocator"]) == {"dapo:n=4,on_exhausted=train"}
    assert main(["report", str(out)]) == 0 and main(["compare", str(out), str(out)]) == 0
