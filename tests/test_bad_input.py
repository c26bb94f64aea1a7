"""Bad input gets one clear line and exit status 2: never a traceback, never a silent wrong result.

Each test is one defect a user could cause (a scenario key, a command-line option, a log, an output folder).
The CLI runs in-process through ``simbench.cli.main``; ``error_line`` checks the contract: status 2 and exactly
one non-empty line on stderr, ``simbench: error: ...``, naming what the test expects.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from foundation_helpers import tiny_data

from simbench import registry
from simbench.cli import main
from simbench.core.config import ConfigError
from simbench.worlds import load_scenario, parse_scenario
from simbench.worlds.replay import LogError, read_history, read_table, read_trl, read_verl
from simbench.worlds.rl.roles import SampleAllocator

REPO = Path(__file__).resolve().parent.parent


def small(**sections) -> dict:
    """A scenario table that runs in about a second: 1 seed, 2 steps, 32 prompts."""
    data = tiny_data(seeds=1, population={"train_prompts": 32, "test_prompts": 16}, engine={"steps": 2, "batch_prompts": 8})
    data.update(sections)
    return data


def write(tmp_path, data: dict, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data))
    return path


def cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def error_line(result, *names) -> str:
    """The one error line of a failed command; it must contain every one of ``names``."""
    rc, _, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("simbench: error: "), lines[0]
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def expect_key(data: dict, key: str, value_text: str, allowed: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_scenario(data, "s.toml")
    msg = str(info.value)
    assert info.value.where == key and value_text in msg and allowed in msg and "s.toml" in msg, msg
    return msg


# --- output folders and scenario files ------------------------------------------------------------------

def test_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    path = write(tmp_path, small())
    error_line(cli(capsys, "run", path, "--out", tmp_path / "taken", "--quiet"), "--out", "taken", "this is a file")
    error_line(cli(capsys, "run", path, "--out", tmp_path / "taken" / "sub", "--quiet"), "--out", "can be created")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_out_that_is_not_writable(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        error_line(cli(capsys, "run", write(tmp_path, small()), "--out", locked, "--quiet"), "--out", "permission denied")
    finally:
        locked.chmod(0o700)


def test_scenario_path_that_is_a_folder(tmp_path, capsys):
    error_line(cli(capsys, "run", tmp_path, "--quiet"), str(tmp_path), "this is a folder")
    error_line(cli(capsys, "sweep", tmp_path, "--quiet"), str(tmp_path), "this is a folder")


@pytest.mark.parametrize("raw, byte", [(b'name = "caf\xe9"\n', "0xe9"), (b"\x89PNG\r\n\x1a\n\x00\x00", "0x89")])
def test_scenario_that_is_not_utf8(tmp_path, capsys, raw, byte):
    path = tmp_path / "bad.toml"
    path.write_bytes(raw)
    error_line(cli(capsys, "run", path, "--quiet"), str(path), byte, "line 1", "UTF-8")


def test_pass_rate_table_that_is_not_utf8(tmp_path):
    (tmp_path / "rates.csv").write_bytes(b"p\n0.5\n0.25 caf\xe9\n")
    path = write(tmp_path, small(population={"train_prompts": 32, "test_prompts": 16,
                                             "pass_rate": {"kind": "table", "path": "rates.csv"}}))
    with pytest.raises(ConfigError, match=r"population.pass_rate.path.*UTF-8 text .*rates.csv:3 has byte 0xe9"):
        load_scenario(path)


# --- values that used to be accepted and run wrong ------------------------------------------------------

@pytest.mark.parametrize("section, key, value", [
    ("population.pass_rate", "a", math.inf), ("population.lengths", "mean", math.inf),
    ("population.lengths", "sigma", math.inf), ("population.features", "grad_noise", math.inf),
    ("learner", "lr_shared", math.inf), ("learner", "lr_prompt", -math.inf), ("learner", "lr_shared", math.nan),
    ("population.features", "skill_scale", math.nan),
])
def test_inf_and_nan_settings_are_refused(section, key, value):
    data = small()
    node = data
    for part in section.split("."):
        node = node.setdefault(part, {})
    node[key] = value
    if section == "population.pass_rate":
        node["kind"] = "beta"
    expect_key(data, f"{section}.{key}", repr(value), "a finite number" if not math.isnan(value) else "not nan")


def test_budgets_may_be_infinite():
    sc = parse_scenario(small(budget={"per_step": math.inf, "total": math.inf}))
    assert sc.budget.per_step == sc.budget.total == math.inf


@pytest.mark.parametrize("budget, key, minimum", [
    ({"unit": "samples", "per_step": 0.5}, "budget.per_step", "1 sample"),
    ({"unit": "samples", "total": 0.5}, "budget.total", "1 sample"),
    ({"unit": "tokens", "per_step": 100.0}, "budget.per_step", "600 tokens, population.lengths.mean"),
])
def test_budget_below_one_sample(budget, key, minimum):
    expect_key(small(budget=budget), key, repr(next(v for k, v in budget.items() if k != "unit")), minimum)


def test_budget_that_fits_no_group_of_a_strategy(tmp_path, capsys):
    """4 samples a step pass the one-sample check, but uniform n = 8 draws whole groups: it would train nothing."""
    path = write(tmp_path, small(budget={"per_step": 4.0}, strategies=[{"allocator": {"kind": "uniform", "n": 8}}]))
    line = error_line(cli(capsys, "run", path, "--out", tmp_path / "o", "--quiet"), str(path), "budget.per_step", "4.0",
                      "'uniform'", "step 1")
    assert "uniform needs n samples" in line


def test_batch_larger_than_the_train_pool():
    expect_key(small(engine={"steps": 2, "batch_prompts": 40}), "engine.batch_prompts", "40",
               "at most population.train_prompts = 32")


def test_dapo_generation_batch_larger_than_the_pool():
    dapo = {"allocator": {"kind": "dapo", "n": 4}}  # gen_batch 0: 3 x 16 = 48 prompts from a pool of 32
    expect_key(small(engine={"steps": 2, "batch_prompts": 16}, strategies=[dapo]), "strategies[0].allocator", "'dapo'",
               "waves of at most population.train_prompts = 32 new prompts (it asks for 48 at once")
    dapo["allocator"]["gen_batch"] = 32  # said explicitly, it fits
    parse_scenario(small(engine={"steps": 2, "batch_prompts": 16}, strategies=[dapo]))


def test_baseline_that_names_no_strategy():
    expect_key(small(report={"baseline": "unifrom"}), "report.baseline", "'unifrom'", "one of the strategies: 'uniform'")


def test_default_baseline_is_uniform_else_the_first_strategy():
    two = [{"allocator": {"kind": "dapo", "n": 4}, "name": "d"}, {"allocator": {"kind": "uniform", "n": 4}}]
    assert parse_scenario(small(strategies=two)).report.baseline == "uniform"
    assert parse_scenario(small(strategies=two[:1])).report.baseline == "d"


@pytest.mark.parametrize("name", ["../escape", "a/b", "", "  ", ".", "..", "back\\slash"])
def test_scenario_name_must_be_one_folder_name(tmp_path, capsys, name):
    expect_key(small(name=name), "name", repr(name), "a non-empty folder name")
    error_line(cli(capsys, "run", write(tmp_path, small(name=name)), "--quiet"), "'name'")
    assert not (tmp_path.parent / "escape").exists()


def equitable(**sections) -> dict:
    return {"world": "equitable", "name": "eq", "groups": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}],
            "strategies": [{"collector": "equal"}], **sections}


def test_equitable_scenario_name_is_checked_too():
    with pytest.raises(ConfigError, match="'name'"):
        parse_scenario(equitable(name="../x"), "e.toml")


def test_equitable_sizes_name_their_key():
    with pytest.raises(ConfigError) as info:
        parse_scenario(equitable(genetics={"snps": 10**7, "causal": 10}), "e.toml")
    assert info.value.where == "genetics.snps" and "more than this machine's" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_scenario(equitable(genetics={"snps": 100, "causal": 10, "test_size": 10**13}), "e.toml")
    assert info.value.where == "genetics.test_size"


@pytest.mark.parametrize("data, key", [
    (lambda: small(population={"train_prompts": 10**13, "test_prompts": 16}), "population.train_prompts"),
    (lambda: small(population={"train_prompts": 32, "test_prompts": 16, "features": {"dim": 10**12}}), "population.features.dim"),
    (lambda: small(seeds=10**13), "seeds"),
])
def test_absurd_sizes_name_their_key(data, key):
    with pytest.raises(ConfigError) as info:
        parse_scenario(data(), "s.toml")
    assert info.value.where == key and "more than this machine's" in str(info.value)


def test_absurd_samples_per_wave_name_the_allocator(tmp_path, capsys):
    path = write(tmp_path, small(strategies=[{"allocator": {"kind": "uniform", "n": 10**12}}]))
    error_line(cli(capsys, "run", path, "--out", tmp_path / "o", "--quiet"), str(path), "strategies[0].allocator",
               "samples in one wave", "more than this machine's")


@pytest.mark.parametrize("kind", [[], 3, {"a": 1}])
def test_a_role_kind_that_is_not_a_name(kind):
    """Found by the fuzz: an unhashable kind used to raise TypeError from the registry."""
    data = small()
    data["strategies"][0]["allocator"]["kind"] = kind
    expect_key(data, "strategies[0].allocator.kind", repr(kind), "a registered allocator")


def test_integers_beyond_64_bits():
    expect_key(small(seed=2**70), "seed", str(2**70), "a 64-bit integer")


def test_learning_rates_that_overflow_the_policy(tmp_path, capsys):
    path = write(tmp_path, small(learner={"lr_shared": 1e300}))
    error_line(cli(capsys, "run", path, "--out", tmp_path / "o", "--quiet"), str(path), "'learner'", "1e+300",
               "overflowed in step 1")


def test_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    def exhausted(args):
        raise MemoryError()
    import simbench.commands.list as list_command

    monkeypatch.setattr(list_command, "run", exhausted)
    error_line(cli(capsys, "list"), "out of memory")


# --- errors raised while running, printed as one line -----------------------------------------------------

def test_dapo_exhausted_is_one_line(tmp_path, capsys):
    never = {"kind": "logit_normal", "mu": -40.0, "sigma": 0.0}  # no prompt is ever solved: no group has variance
    path = write(tmp_path, small(population={"train_prompts": 32, "test_prompts": 16, "pass_rate": never},
                                 strategies=[{"allocator": {"kind": "dapo", "n": 4, "gen_batch": 8}}]))
    error_line(cli(capsys, "run", path, "--out", tmp_path / "o", "--quiet"), "DAPO step 1", "max_num_gen_batches=10",
               "on_exhausted")


class NegativeCounts(SampleAllocator):
    """A broken allocator: asks for -1 sample of every prompt."""

    name = "negative_counts"

    def allocate(self, view):
        return -np.ones(view.n_slots, np.int64)


def test_allocator_error_is_one_line(tmp_path, capsys, monkeypatch):
    registry.registry("allocator")  # load the built-ins first, then add the broken one for this test only
    monkeypatch.setitem(registry._REGISTRY["allocator"], "negative_counts", NegativeCounts)
    path = write(tmp_path, small(strategies=[{"allocator": "negative_counts"}]))
    error_line(cli(capsys, "run", path, "--out", tmp_path / "o", "--quiet"), "NegativeCounts", "negative counts")


# --- command-line options --------------------------------------------------------------------------------

@pytest.mark.parametrize("options, named", [
    (["--workers", "0"], "--workers 0"), (["--workers", "-2"], "--workers -2"), (["--seeds", "0"], "--seeds 0"),
    (["--address", "10.0.0.1:6379"], "--address '10.0.0.1:6379'"), (["--workers", "two"], "--workers"),
])
def test_run_options(tmp_path, capsys, options, named):
    error_line(cli(capsys, "run", write(tmp_path, small()), "--out", tmp_path / "o", "--quiet", *options),
               "command line", named)
    assert not (tmp_path / "o").exists()  # refused before any work


def test_argparse_errors_are_one_line(capsys):
    error_line(cli(capsys, "run"), "command line", "scenario", "--help")
    error_line(cli(capsys, "replay", "x.json", "--format", "csv"), "command line", "--format", "invalid choice")
    error_line(cli(capsys, "frobnicate"), "command line", "invalid choice")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    """A finished tiny run to compare and report on."""
    tmp = tmp_path_factory.mktemp("results")
    path = tmp / "s.toml"
    path.write_text(tomli_w.dumps(small()))
    assert main(["run", str(path), "--out", str(tmp / "out"), "--quiet"]) == 0
    return tmp / "out"


def test_compare_metric_that_is_no_column(results_dir, capsys):
    error_line(cli(capsys, "compare", results_dir, results_dir, "--metric", "bogus"), "--metric 'bogus'", "test_pass")
    rc, out, _ = cli(capsys, "compare", results_dir, results_dir, "--metric", "train_pass")
    assert rc == 0 and "train_pass_a" in out


@pytest.mark.parametrize("options, named", [
    (["--target", "2"], "--target 2.0"), (["--target", "nan"], "--target nan"),
    (["--max-rows-per-unit", "0"], "--max-rows-per-unit 0"), (["--max-rows-per-unit", "1"], "--max-rows-per-unit 1"),
])
def test_report_options(results_dir, capsys, options, named):
    error_line(cli(capsys, "report", results_dir, *options), "command line", named)


def test_output_piped_into_head_ends_quietly():
    """The reader of stdout is gone before anything is written (`simbench list | head -0`): no traceback."""
    read, write_end = os.pipe()
    os.close(read)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "simbench.cli", "list"], stdout=write_end, stderr=subprocess.PIPE,
                          text=True, cwd=REPO, env=env, timeout=120)
    os.close(write_end)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr


# --- logs --------------------------------------------------------------------------------------------------

def binary_rows(steps=2, prompts=6, n=4, seed=0):
    rng = np.random.default_rng(seed)
    return [{"step": s, "prompt": f"p{p}", "reward": float(rng.random() < 0.5)}
            for s in range(1, steps + 1) for p in range(prompts) for _ in range(n)]


def jsonl(rows) -> bytes:
    return ("\n".join(json.dumps(r) for r in rows) + "\n").encode()


def verl_bytes(rows) -> bytes:
    return jsonl([{"input": r["prompt"], "output": "answer", "score": r["reward"], "step": r["step"]} for r in rows])


def csv_bytes(rows) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode()


def latin1_line(raw: bytes, line: int) -> bytes:
    """``raw`` with a Latin-1 e-acute put into the prompt of its ``line``-th line (from 1)."""
    lines = raw.split(b"\n")
    lines[line - 1] = lines[line - 1].replace(b"p", b"caf\xe9 p", 1)
    return b"\n".join(lines)


READERS = {
    "verl": (lambda rows: verl_bytes(rows), "1.jsonl", lambda p, **kw: read_verl(p, **kw), 3),
    "table-jsonl": (lambda rows: jsonl(rows), "log.jsonl", lambda p, **kw: read_table(p, **kw), 3),
    "table-csv": (lambda rows: csv_bytes(rows), "log.csv", lambda p, **kw: read_table(p, **kw), 3),
}


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_latin1_line_names_file_line_and_byte_or_is_skipped(tmp_path, fmt):
    make, name, read, line = READERS[fmt]
    path = tmp_path / name
    rows = binary_rows(steps=1, prompts=2, n=2)
    path.write_bytes(latin1_line(make(rows), line))
    with pytest.raises(LogError, match=rf"{name}:{line}: .*not UTF-8 text \(byte 0xe9"):
        read(path)
    table, report = read(path, skip_bad_lines=True, variable_groups=True)
    assert report.bad_lines == 1 and report.records + report.bad_lines == len(rows)  # counted, not dropped silently
    assert "0xe9" in report.bad_examples[0]


def test_binary_file_as_a_log(tmp_path, capsys):
    path = tmp_path / "1.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)  # an image where a log should be
    error_line(cli(capsys, "replay", path, "--format", "verl", "--out", tmp_path / "o"), "1.jsonl", "not UTF-8")
    error_line(cli(capsys, "replay", path, "--format", "verl", "--skip-bad-lines", "--out", tmp_path / "o"),
               "no records", "bad lines were skipped")


def test_history_that_is_not_utf8(tmp_path):
    path = tmp_path / "acc.json"
    path.write_bytes(b'{"0": [0.5, 0.25],\n "caf\xe9": [0.5, 1.0]}')
    with pytest.raises(LogError, match=r"acc.json: key 'caf\\udce9': the key is not UTF-8 text \(byte 0xe9"):
        read_history(path, n=4)
    table, report = read_history(path, n=4, skip_bad_lines=True)
    assert report.bad_lines == 1 and report.prompts == 1
    path.write_bytes(b'{"0": [0.5, \xe9]}')  # outside a string: the document is unreadable, said at its line
    with pytest.raises(LogError, match=r"acc.json:1: the line is not UTF-8 text \(byte 0xe9 at column 13"):
        read_history(path, n=4)


@pytest.mark.parametrize("name, content, fmt", [
    ("1.jsonl", b"", "verl"), ("1.jsonl", b"\n\n", "verl"), ("acc.json", b"{}", "history"),
    ("acc.json", b'{"0": []}', "history"), ("log.csv", b"", "table"), ("log.csv", b"step,prompt,reward\n", "table"),
    ("log.jsonl", b"", "table"),
])
def test_empty_logs(tmp_path, capsys, name, content, fmt):
    path = tmp_path / name
    path.write_bytes(content)
    line = error_line(cli(capsys, "replay", path, "--format", fmt, "--n", "4", "--out", tmp_path / "o"), name)
    assert "no records" in line or "no header" in line


def test_truncated_parquet(tmp_path, capsys):
    full = tmp_path / "full.parquet"
    pd.DataFrame(binary_rows()).to_parquet(full)
    cut = tmp_path / "log.parquet"
    cut.write_bytes(full.read_bytes()[:200])
    error_line(cli(capsys, "replay", cut, "--format", "table", "--out", tmp_path / "o"), "log.parquet",
               "not a readable Parquet file")
    d = tmp_path / "completions"
    d.mkdir()
    (d / "completions_00001.parquet").write_bytes(full.read_bytes()[:200])
    with pytest.raises(LogError, match="completions_00001.parquet: file: not a readable Parquet file"):
        read_trl(d)


def test_csv_row_with_the_wrong_number_of_fields(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("step,prompt,reward\n1,a,1\n1,a,0,extra\n1,a\n1,a,1\n")
    with pytest.raises(LogError, match=r"log.csv:3: more fields than the header"):
        read_table(path)
    table, report = read_table(path, skip_bad_lines=True, variable_groups=True)
    assert report.bad_lines == 2 and report.records == 2


@pytest.mark.parametrize("reward", [0.5, -1.0, 2.0])
def test_non_binary_rewards_need_an_explicit_threshold(tmp_path, capsys, reward):
    rows = binary_rows()
    rows[5]["reward"] = reward
    path = tmp_path / "log.csv"
    path.write_bytes(csv_bytes(rows))
    error_line(cli(capsys, "replay", path, "--format", "table", "--out", tmp_path / "o"), "log.csv:7",
               f"the reward is not 0 or 1 (got {reward})", "--threshold")
    rc, out, _ = cli(capsys, "replay", path, "--format", "table", "--threshold", "0.5", "--allocator", "uniform:n=4",
                     "--seeds", "1", "--out", tmp_path / "o")
    assert rc == 0 and "pass if reward >= 0.5" in out
    table, _ = read_table(path, threshold=0.5)
    assert table.loc[table["reward"] == reward, "passed"].item() == int(reward >= 0.5)


@pytest.mark.parametrize("threshold", ["nan", "inf"])
def test_threshold_must_be_finite(tmp_path, capsys, threshold):
    path = tmp_path / "log.csv"
    path.write_bytes(csv_bytes(binary_rows()))
    error_line(cli(capsys, "replay", path, "--format", "table", "--threshold", threshold, "--out", tmp_path / "o"),
               f"--threshold {threshold}", "a finite number")


def test_threshold_is_refused_for_a_history(capsys):
    error_line(cli(capsys, "replay", "bundled:one_shot_rlvr", "--threshold", "0.5"), "--threshold 0.5", "history")


@pytest.mark.parametrize("options, named", [
    (["--step-budget", "-5"], "--step-budget -5.0"), (["--step-budget", "0"], "--step-budget 0.0"),
    (["--step-budget", "nan"], "--step-budget nan"), (["--batch", "0"], "--batch 0"), (["--seeds", "0"], "--seeds 0"),
    (["--seed", "-1"], "--seed -1"), (["--step-budget", "2"], "--step-budget 2.0"),
])
def test_replay_options(tmp_path, capsys, options, named):
    """--step-budget 2 passes the 1-sample floor but fits no group of uniform n = 4: the option is named, not the allocator."""
    path = tmp_path / "log.csv"
    path.write_bytes(csv_bytes(binary_rows()))
    line = error_line(cli(capsys, "replay", path, "--format", "table", "--allocator", "uniform:n=4", "--out",
                          tmp_path / "o", *options), "command line", named)
    assert "Uniform(" not in line


def test_replay_of_gvm_on_an_n8_log_explains_why_it_trained_nothing(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_bytes(csv_bytes(binary_rows(steps=3, prompts=40, n=8)))
    rc, out, _ = cli(capsys, "replay", path, "--format", "table", "--allocator", "gvm", "--allocator", "uniform:n=8",
                     "--seeds", "1", "--out", tmp_path / "o")
    assert rc == 0 and "nan" not in out
    assert "gvm: " in out and "effective ratio undefined (nothing trained" in out
    note = next(line for line in out.splitlines() if line.startswith("simbench: note: gvm trained no sample"))
    assert "n = 8 samples per group" in note and "beyond what the log holds" in note
    assert "uniform:n=8 trained no sample" not in out  # the logged algorithm trains
    assert "Note: gvm trained no sample" in (tmp_path / "o" / "report.md").read_text()
    summary = pd.read_csv(tmp_path / "o" / "summary.csv").set_index("allocator")
    assert summary.loc["gvm", "trained_samples"] == 0 and summary.loc["uniform:n=8", "trained_samples"] > 0


@pytest.mark.parametrize("options, named", [
    (["--calib", "0"], "--calib 0"), (["--batch", "0"], "--batch 0"), (["--maxfev", "-1"], "--maxfev -1"),
    (["--seeds", "0"], "--seeds 0"), (["--calib", "26"], "--calib 26"), (["--batch", "5000"], "--batch 5000"),
])
def test_validate_options(tmp_path, capsys, options, named):
    error_line(cli(capsys, "validate", "bundled:one_shot_rlvr", "--out", tmp_path / "o", *options), "command line", named)


def test_validate_infers_n_and_batch_from_the_log_and_says_so(tmp_path, capsys, monkeypatch):
    """A log with 20 prompts per step: validation simulates batch 20 (not a default of 128) and n = 4."""
    import simbench.commands.validate as validate_command

    seen = {}

    def record(K, N, algo, calib, out, *args, **kwargs):  # the calibration itself is tested in test_logs_calibrate
        seen["algo"] = algo
        errors = {"mean_pass": 0.0, "all_correct": 0.0, "all_wrong": 0.0}
        return {"forecast_errors_end": errors, "forecast_errors_max": errors}

    monkeypatch.setattr(validate_command, "validate", record)
    monkeypatch.setattr(validate_command, "report_dir", lambda out: seen.setdefault("reported", out))  # nothing to report
    rng = np.random.default_rng(1)
    rows = [{"step": s, "prompt": f"p{(s - 1) % 3 * 20 + i}", "reward": float(rng.random() < 0.4)}
            for s in range(1, 7) for i in range(20) for _ in range(4)]  # 60 prompts, 20 a step, each twice
    path = tmp_path / "log.csv"
    path.write_bytes(csv_bytes(rows))
    rc, out, _ = cli(capsys, "validate", path, "--format", "table", "--out", tmp_path / "o")
    assert rc == 0
    assert (seen["algo"].n, seen["algo"].batch, seen["algo"].prompts) == (4, 20, 60)
    assert seen["reported"] == tmp_path / "o"
    assert "inferred n = 4 samples per group" in out and "inferred batch = 20 prompts per step" in out
    rc, out, _ = cli(capsys, "validate", path, "--format", "table", "--batch", "10", "--n", "4", "--out", tmp_path / "o")
    assert rc == 0 and seen["algo"].batch == 10 and "inferred" not in out


def test_validate_needs_the_batch_of_a_history(tmp_path, capsys):
    path = tmp_path / "acc.json"
    path.write_text(json.dumps({str(i): [0.25, 0.5, 0.75] for i in range(10)}))
    error_line(cli(capsys, "validate", path, "--format", "history", "--n", "4", "--out", tmp_path / "o"),
               "--batch None", "a history records appearances")


def test_validate_needs_two_appearances(tmp_path, capsys):
    path = tmp_path / "acc.json"
    path.write_text(json.dumps({str(i): [0.25] for i in range(10)}))
    error_line(cli(capsys, "validate", path, "--format", "history", "--n", "4", "--batch", "5", "--out", tmp_path / "o"),
               "acc.json", "too few appearances", "at least 2")
