"""The ``simbench`` command line end to end: ``run`` writes results, summary, report and figure; ``list`` lists."""
from __future__ import annotations

import pandas as pd
import pytest
import tomli_w
from foundation_helpers import tiny_data

from simbench.cli import main
from simbench.core.paths import bundled_scenarios

ISSUE_COLUMNS = [
    "allocator", "seed", "step", "samples", "tokens", "cum_samples", "cum_tokens", "prompts", "groups_all_pass",
    "groups_all_fail", "groups_mixed", "effective_ratio", "train_pass", "test_pass",
]


def test_run_writes_results_summary_report_and_figure(tmp_path, capsys):
    data = tiny_data(strategies=[{"allocator": {"kind": "uniform", "n": 4}}, {"allocator": {"kind": "dapo", "n": 4, "on_exhausted": "train"}}])
    path = tmp_path / "tiny.toml"
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--seeds", "2", "--workers", "2", "--quiet"]) == 0
    assert "simbench: 4 units" in capsys.readouterr().out

    df = pd.read_parquet(out / "results.parquet")
    assert [c for c in df.columns if c in ISSUE_COLUMNS] == ISSUE_COLUMNS
    steps = data["engine"]["steps"]
    assert len(df) == 2 * 2 * (steps + 1)
    assert sorted(df["allocator"].unique()) == ["dapo", "uniform"]
    assert sorted(df["seed"].unique()) == [0, 1]
    assert df[ISSUE_COLUMNS[2:]].drop(columns="effective_ratio").notna().all().all()
    assert ((df["train_pass"] >= 0) & (df["train_pass"] <= 1)).all()

    summary = pd.read_csv(out / "summary.csv")
    assert summary["allocator"].tolist() == ["uniform", "dapo"]
    for col in ("final_test_pass", "final_test_pass_ci_low", "final_test_pass_ci_high", "tokens_to_target_median", "speedup_vs_uniform"):
        assert col in summary.columns
    assert (summary["final_test_pass_ci_low"] <= summary["final_test_pass"]).all()

    report = (out / "report.md").read_text()
    assert "learning_curve.png" in report and "uniform" in report and "dapo" in report
    png = (out / "report" / "learning_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert not (out / "report" / "learning_curve.svg").exists() and ".svg" not in report  # SVG only with --svg
    assert (out / "report" / "index.html").exists() and (out / "manifest.json").exists()


def test_run_uses_the_scenario_seeds_by_default(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text(tomli_w.dumps(tiny_data(seeds=1)))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert pd.read_parquet(tmp_path / "o" / "results.parquet")["seed"].unique().tolist() == [0]


def test_bad_seeds_flag_exits_2(tmp_path, capsys):
    path = tmp_path / "one.toml"
    path.write_text(tomli_w.dumps(tiny_data()))
    assert main(["run", str(path), "--seeds", "0", "--quiet"]) == 2
    assert "--seeds 0" in capsys.readouterr().err


def test_list_shows_allocators_and_bundled_scenarios(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name in ("uniform", "dapo", "grpo", "dr_grpo", "raft", "epoch_shuffle", "keep_all", "dapo_filter"):
        line = next(ln for ln in lines if ln.strip().startswith(name + " "))
        assert len(line.split(None, 1)[1]) > 10  # a one-line description follows the name
    scenarios = bundled_scenarios()
    assert any(p.name == "quickstart.toml" for p in scenarios)
    for p in scenarios:
        assert str(p) in out


def test_bundled_scenarios_load():
    from simbench.core.config import ConfigError
    from simbench.core.sweep import load_sweep
    from simbench.worlds import load_scenario

    for p in bundled_scenarios():
        if "[sweep]" in p.read_text():
            cells, _ = load_sweep(p)
            assert len(cells) > 1 and all(c.scenario.strategies for c in cells)
            with pytest.raises(ConfigError, match="simbench sweep"):
                load_scenario(p)
        else:
            sc = load_scenario(p)
            assert sc.strategies and sc.name


def test_command_line_is_recorded_only_for_its_command(monkeypatch):
    """The manifest's ``command``: the invoking command shell-quoted, empty when argv runs another."""
    from simbench.core.store import command_line

    monkeypatch.setattr("sys.argv", ["simbench", "run", "my scenario.toml", "--out", "/tmp/x"])
    assert command_line("run") == "simbench run 'my scenario.toml' --out /tmp/x"
    assert command_line("sweep") == ""
    monkeypatch.setattr("sys.argv", ["pytest"])
    assert command_line("run") == ""
