"""Fuzzing the CLI's error contract: whatever the scenario file, options or log, a command either succeeds or
exits with status 2 and one line; never a traceback, never a nan printed without a stated reason.

Inputs are tiny (32 prompts, 2 steps, 1 seed; logs of a few groups) so that the commands that do succeed take
about a second; most draws are wrong on purpose and fail fast.  ``check_cli_contract`` states the contract.
"""
from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import tomli_w
from foundation_helpers import check_cli_contract, tiny_data
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simbench.cli import main

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Values a user might write by mistake, of every TOML type.
NASTY = [math.inf, -math.inf, math.nan, 0, -1, 1, 2, 0.5, 1e300, -1e300, 10**15, 2**70, "", "x", "../x", True,
         [], [1, 2], {"kind": "x"}]
# Every key the fuzz may set (with a value from NASTY or a plausible one), as a path of table keys and indices.
KEYS = [
    ("name",), ("seed",), ("seeds",), ("population", "train_prompts"), ("population", "test_prompts"),
    ("population", "pass_rate", "a"), ("population", "pass_rate", "kind"), ("population", "lengths", "mean"),
    ("population", "lengths", "sigma"), ("population", "lengths", "max"), ("population", "features", "dim"),
    ("population", "features", "grad_noise"), ("population", "features", "skill_scale"), ("learner", "lr_shared"),
    ("learner", "lr_prompt"), ("learner", "format_fail"), ("learner", "lr_format"), ("learner", "pass_at_k"),
    ("learner", "kl_coef"), ("engine", "steps"), ("engine", "batch_prompts"), ("engine", "max_waves"),
    ("budget", "unit"), ("budget", "per_step"), ("budget", "total"), ("report", "baseline"),
    ("report", "target_test_pass"), ("strategies", 0, "allocator", "n"), ("strategies", 0, "allocator", "kind"),
    ("strategies", 0, "selector"), ("strategies", 0, "name"),
]
PLAUSIBLE = [3, 8, 16, 64, 0.1, 0.9, 4.0, 1000.0, "tokens", "samples", "uniform", "dapo", "gvm", "thompson", "beta"]


def small() -> dict:
    data = tiny_data(seeds=1, population={"train_prompts": 32, "test_prompts": 16}, engine={"steps": 2, "batch_prompts": 8})
    data["strategies"] = [{"allocator": {"kind": "uniform", "n": 4}}]
    return data


def assign(data: dict, path: tuple, value) -> None:
    node = data
    for part in path[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            return  # an earlier change made this a scalar: nothing to set inside it
    if isinstance(node, dict):
        node[path[-1]] = value


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    check_cli_contract(rc, out, err)
    event(f"exit {rc}: {err[17:90] if rc else 'ok'}")  # --hypothesis-show-statistics lists the outcomes
    return rc, out


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(NASTY + PLAUSIBLE)), min_size=1, max_size=3))
def test_any_scenario_file(tmp_path_factory, capsys, changes):
    tmp = tmp_path_factory.mktemp("scenario")
    data = small()
    for path, value in changes:
        assign(data, path, copy.deepcopy(value))
    scenario = tmp / "s.toml"
    scenario.write_text(tomli_w.dumps(data))
    rc, _ = run(capsys, "run", scenario, "--out", tmp / "out", "--quiet")
    if rc == 0:  # a run that succeeded reports finite results, and a missing figure only with its reason
        summary = pd.read_csv(tmp / "out" / "summary.csv")
        assert np.isfinite(summary["final_test_pass"]).all()
        med, reached = summary["tokens_to_target_median"], summary["seeds_reaching_target"]
        assert (~np.isfinite(med) | (reached > 0)).all()  # a finite median needs a seed that reached the target
        assert (med.notna() | summary["target"].isna()).all()  # nan only without a target (the report says why)


@FUZZ
@given(workers=st.sampled_from([None, 1, 2, 2, 0, -1]), seeds=st.sampled_from([None, None, 1, 0, 10**15]),
       address=st.sampled_from([None, None, None, "10.0.0.1:6379"]), out=st.sampled_from(["dir", "dir", "file", "under_file"]),
       extra=st.sampled_from([[], [], ["--force"], ["--executor", "nowhere"], ["--seeds", "x"]]))
def test_any_run_options(tmp_path_factory, capsys, workers, seeds, address, out, extra):
    tmp = tmp_path_factory.mktemp("options")
    scenario = tmp / "s.toml"
    scenario.write_text(tomli_w.dumps(small()))
    (tmp / "file").write_text("taken")
    argv = ["run", scenario, "--quiet", "--out", {"dir": tmp / "o", "file": tmp / "file", "under_file": tmp / "file" / "o"}[out]]
    for option, value in (("--workers", workers), ("--seeds", seeds), ("--address", address)):
        if value is not None:
            argv += [option, value]
    run(capsys, *argv, *extra)


REWARDS = [0.0, 1.0] * 6 + [0.5, -1.0, 2.0, math.nan, math.inf, "x", ""]


def log_bytes(fmt: str, rows: list[tuple[int, int, object]]) -> tuple[str, bytes]:
    """(file name, content) of a log of ``rows`` (step, prompt, reward) in ``fmt``."""
    if fmt == "history":
        accs: dict[str, list] = {}
        for _step, prompt, reward in rows:
            accs.setdefault(str(prompt), []).append(reward if not isinstance(reward, float) else reward / 2)
        return "acc.json", json.dumps(accs).encode()
    if fmt == "verl":
        lines = [json.dumps({"input": f"p{p}", "output": "ok", "score": r, "step": s}) for s, p, r in rows]
        return "1.jsonl", ("\n".join(lines) + "\n").encode()
    if fmt == "table-csv":
        return "log.csv", pd.DataFrame(rows, columns=["step", "prompt", "reward"]).to_csv(index=False).encode()
    lines = [json.dumps({"step": s, "prompt": f"p{p}", "reward": r}) for s, p, r in rows]
    return "log.jsonl", ("\n".join(lines) + "\n").encode()


@FUZZ
@given(fmt=st.sampled_from(["verl", "table-csv", "table-jsonl", "history"]),
       groups=st.sets(st.tuples(st.integers(1, 3), st.integers(0, 5)), max_size=12),
       n=st.integers(1, 4), rewards=st.lists(st.sampled_from(REWARDS), min_size=1, max_size=8),
       damage=st.sampled_from(["none", "none", "none", "latin1", "junk", "truncate", "empty"]), cut=st.floats(0, 1),
       skip=st.booleans(), threshold=st.sampled_from([None] * 5 + ["0.5", "-1", "nan"]),
       log_n=st.sampled_from([None] * 4 + ["2", "4", "0"]), batch=st.sampled_from([None] * 4 + ["1", "3", "100", "0"]),
       budget=st.sampled_from([None] * 4 + ["8", "inf", "2", "0.5", "-5"]),
       allocator=st.sampled_from(["uniform:n=2"] * 3 + ["dapo:n=2,on_exhausted=\"train\"", "gvm", "uniform:n=-1", "bogus"]))
def test_any_log_and_replay_options(tmp_path_factory, capsys, fmt, groups, n, rewards, damage, cut, skip, threshold,
                                    log_n, batch, budget, allocator):
    tmp = tmp_path_factory.mktemp("log")
    rows = [(s, p, rewards[(i * n + j) % len(rewards)]) for i, (s, p) in enumerate(sorted(groups)) for j in range(n)]
    name, raw = log_bytes(fmt, rows)
    if damage == "latin1":
        raw = raw.replace(b"p", b"caf\xe9 p", 1)
    elif damage == "junk":
        raw = raw + b"\x89PNG\r\n\x1a\n\x00\xff\xfe"
    elif damage == "truncate":
        raw = raw[: int(len(raw) * cut)]
    elif damage == "empty":
        raw = b""
    path = tmp / name
    path.write_bytes(raw)
    argv = ["replay", path, "--format", fmt.split("-")[0], "--seeds", "1", "--allocator", allocator, "--out", tmp / "o"]
    if fmt == "history" and log_n is None:
        log_n = str(n)  # a history needs it (tested in test_bad_input)
    for option, value in (("--threshold", threshold), ("--n", log_n), ("--batch", batch), ("--step-budget", budget)):
        if value is not None:
            argv += [option, value]
    run(capsys, *argv, *(["--skip-bad-lines"] if skip else []))
