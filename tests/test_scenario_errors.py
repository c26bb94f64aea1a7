"""Every invalid scenario gets a clear error: the file, the dotted key path, the bad value, what is allowed.

Each case writes a scenario into ``tmp_path`` and loads it; the CLI case also
checks exit status 2 with the message on stderr.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simbench.cli import main
from simbench.core.config import ConfigError
from simbench.worlds import load_scenario

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
name = "tiny"
[population]
train_prompts = 32
test_prompts = 32
{population}
[engine]
steps = 2
batch_prompts = 8
{engine}
{extra}
[[strategies]]
allocator = {allocator}
{strategies}
"""


def scenario(tmp_path, population="", engine="", extra="", allocator='{ kind = "uniform", n = 4 }', strategies="", top="seeds = 1\n"):
    path = tmp_path / "bad.toml"
    path.write_text(top + GOOD.format(population=population, engine=engine, extra=extra, allocator=allocator, strategies=strategies))
    return path


def expect(path, where, value, allowed):
    """Load ``path``; the error must name the file, ``where``, ``value`` (its repr) and contain ``allowed``."""
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    err = info.value
    msg = str(err)
    assert str(path) in msg, msg
    assert f"'{where}'" in msg and err.where == where, msg
    assert repr(value) in msg, msg
    assert allowed in msg, msg
    return msg


def test_the_template_itself_is_valid(tmp_path):
    load_scenario(scenario(tmp_path))


def test_unknown_top_level_key(tmp_path):
    msg = expect(scenario(tmp_path, top="colour = 3\n"), "colour", 3, "unknown key")
    assert "allowed keys:" in msg and "population" in msg


def test_unknown_nested_key(tmp_path):
    path = scenario(tmp_path, extra="[population.lengths]\nfoo = 1.5\n")
    msg = expect(path, "population.lengths.foo", 1.5, "unknown key")
    assert "wrong_factor" in msg  # lists what is allowed


def test_wrong_type(tmp_path):
    expect(scenario(tmp_path, engine='max_waves = "ten"'), "engine.max_waves", "ten", "an integer")
    expect(scenario(tmp_path, population="pass_rate = { kind = \"beta\", a = true }"), "population.pass_rate.a", True, "a number")
    expect(scenario(tmp_path, extra='[budget]\nunit = "gpus"\n'), "budget.unit", "gpus", "one of 'samples', 'tokens'")
    expect(scenario(tmp_path, population="groups = 3"), "population.groups", 3, "an array")


def test_out_of_range_values(tmp_path):
    expect(scenario(tmp_path, engine="max_waves = 0"), "engine.max_waves", 0, "an integer >= 1")
    expect(scenario(tmp_path, population='pass_rate = { kind = "beta", a = -1.0 }'), "population.pass_rate.a", -1.0, "a positive number")
    expect(scenario(tmp_path, extra="[population.lengths]\nwrong_factor = 0.0\n"), "population.lengths.wrong_factor", 0.0, "a positive number")
    expect(scenario(tmp_path, extra="[budget]\ntotal = -5.0\n"), "budget.total", -5.0, "a positive number")
    expect(scenario(tmp_path, top="seeds = 0\n"), "seeds", 0, "an integer >= 1")
    expect(scenario(tmp_path, extra="[report]\ntarget_test_pass = 1.5\n"), "report.target_test_pass", 1.5, "a number in (0, 1)")


def test_unknown_allocator_kind(tmp_path):
    msg = expect(scenario(tmp_path, allocator='{ kind = "magic", n = 4 }'), "strategies[0].allocator.kind", "magic", "a registered allocator")
    assert "uniform" in msg and "dapo" in msg


def test_bad_allocator_params(tmp_path):
    expect(scenario(tmp_path, allocator='{ kind = "uniform", n = 0 }'), "strategies[0].allocator.n", 0, "an integer >= 1")
    expect(scenario(tmp_path, allocator='{ kind = "uniform", m = 4 }'), "strategies[0].allocator.m", 4, "unknown key")
    expect(scenario(tmp_path, allocator='{ kind = "dapo", on_exhausted = "retry" }'), "strategies[0].allocator.on_exhausted", "retry",
           "one of 'error', 'train'")
    expect(scenario(tmp_path, allocator='{ n = 4 }'), "strategies[0].allocator", {"n": 4}, "a table with 'kind'")


def test_bad_advantage_and_selector(tmp_path):
    expect(scenario(tmp_path, strategies='advantage = "ppo"'), "strategies[0].advantage.kind", "ppo", "a registered advantage")
    expect(scenario(tmp_path, strategies='advantage = { kind = "grpo", epsilon = "small" }'), "strategies[0].advantage.epsilon", "small", "a number")
    expect(scenario(tmp_path, extra='[trainer]\nadvantage = "nope"\n'), "trainer.advantage.kind", "nope", "a registered advantage")


def test_duplicate_strategy_names(tmp_path):
    dup = '[[strategies]]\nallocator = { kind = "uniform", n = 8 }\n'
    msg = expect(scenario(tmp_path, strategies=dup), "strategies", ["uniform"], "distinct strategy names")
    assert "name" in msg


def test_missing_required_key(tmp_path):
    path = tmp_path / "noalloc.toml"
    path.write_text('name = "x"\n[[strategies]]\nname = "a"\n')
    expect(path, "strategies[0].allocator", None, "this key is required")


def test_malformed_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[engine\nsteps = 3\n')
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg and "valid TOML" in msg and "line 2" in msg


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert str(path) in str(info.value) and "an existing scenario TOML file" in str(info.value)


@pytest.mark.parametrize("bad, shown", [("abc", "'abc'"), ("1.5", "1.5"), ("-0.1", "-0.1"), ("", "''"), ("nan", "nan")])
def test_pass_rate_table_with_a_bad_value_names_file_and_line(tmp_path, bad, shown):
    (tmp_path / "rates.csv").write_text(f"p,note\n0.5,a\n0.25,b\n{bad},c\n0.75,d\n")
    path = scenario(tmp_path, population='pass_rate = { kind = "table", path = "rates.csv" }')
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg and "'population.pass_rate.path'" in msg
    assert shown in msg and "a number in [0, 1]" in msg
    assert f"{tmp_path / 'rates.csv'}:4" in msg


def test_pass_rate_table_problems_in_a_group(tmp_path):
    (tmp_path / "g.csv").write_text("q\n0.5\n")
    groups = 'groups = [{ name = "a" }, { name = "b", pass_rate = { kind = "table", path = "g.csv" } }]'
    msg = expect(scenario(tmp_path, population=groups), "population.groups[1].pass_rate.path", "g.csv", "a column 'p'")
    missing = 'pass_rate = { kind = "table", path = "absent.csv" }'
    expect(scenario(tmp_path, population=missing), "population.pass_rate.path", "absent.csv", "an existing CSV file")
    assert msg


def test_error_survives_a_worker_process():
    import pickle

    err = ConfigError("a.b", 3, "an integer >= 5", "f.toml")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.where == "a.b"


def test_cli_exits_2_with_the_message_on_stderr(tmp_path, capsys):
    path = scenario(tmp_path, allocator='{ kind = "uniform", n = -3 }')
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "strategies[0].allocator.n" in err and "-3" in err and str(path) in err
    assert not (tmp_path / "out").exists()


def test_cli_subprocess_exit_status(tmp_path):
    path = scenario(tmp_path, top="colour = 3\n")
    proc = subprocess.run([sys.executable, "-m", "simbench.cli", "run", str(path), "--quiet"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "colour" in proc.stderr and str(path) in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
