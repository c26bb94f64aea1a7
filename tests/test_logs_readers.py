"""Log readers: round trips in every format, regrouping of shuffled verl lines, and clear errors on malformed logs."""
from __future__ import annotations

import json
import random
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simbench.worlds.replay import LogError, bundled, read_history, read_table, read_trl, read_verl
from simbench.worlds.replay.table import appearance_counts, step_prompt_counts


def tiny_log(seed=0, steps=3, prompts=4, n=4):
    """A canonical-like table: every (step, prompt) group of n samples, 0/1 rewards, known token counts."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(1, steps + 1):
        for p in range(prompts):
            for _ in range(n):
                rows.append({"step": s, "prompt": f"prompt {p}: what is {p}+1?", "reward": float(rng.random() < 0.5),
                             "tokens": int(rng.integers(1, 50))})
    return pd.DataFrame(rows)


def _same(table, log):
    """Compare as multisets of (step, prompt, reward, tokens): sample order inside a group is the log's."""
    got = table[["step", "prompt_key", "reward", "tokens"]].rename(columns={"prompt_key": "prompt"})
    key = ["step", "prompt", "reward", "tokens"]
    a = got.sort_values(key).reset_index(drop=True)
    b = log[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def write_verl(log, folder, shuffle_seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(shuffle_seed)
    for s, g in log.groupby("step"):
        lines = [json.dumps({"input": r.prompt, "output": "x" * (4 * r.tokens), "gts": "1", "score": r.reward, "step": int(s)})
                 for r in g.itertuples()]
        rnd.shuffle(lines)  # verl reorders the batch before dumping: groups are not adjacent
        (folder / f"{s}.jsonl").write_text("\n".join(lines) + "\n")


def test_verl_round_trip_regroups_shuffled_lines(tmp_path):
    log = tiny_log()
    write_verl(log, tmp_path / "rollouts", shuffle_seed=3)
    table, rep = read_verl(tmp_path / "rollouts")
    _same(table, log)
    assert (rep.records, rep.prompts, rep.steps, rep.groups) == (len(log), 4, 3, 12)
    gc = step_prompt_counts(table)
    assert (gc["n"] == 4).all()
    # the same groups whatever the line order
    write_verl(log, tmp_path / "other", shuffle_seed=99)
    other, _ = read_verl(tmp_path / "other")
    pd.testing.assert_frame_equal(step_prompt_counts(other), gc)


def test_verl_token_estimate_rule(tmp_path):
    (tmp_path / "5.jsonl").write_text(json.dumps({"input": "q", "output": "abcde", "score": 1.0}) + "\n")
    table, rep = read_verl(tmp_path / "5.jsonl")
    assert table["tokens"].tolist() == [2] and table["step"].tolist() == [5]  # ceil(5 / 4); step from the file name
    assert "chars" in rep.tokens_rule or "len" in rep.tokens_rule


def test_trl_round_trip(tmp_path):
    log = tiny_log(1)
    d = tmp_path / "completions"
    d.mkdir()
    for s, g in log.groupby("step"):
        pd.DataFrame({"step": g["step"], "prompt": g["prompt"], "completion": ["y" * (4 * t) for t in g["tokens"]],
                      "accuracy_reward": g["reward"], "format_reward": 0.5, "advantage": 0.0}).to_parquet(d / f"completions_{s:05d}.parquet")
    with pytest.raises(LogError, match="reward column"):
        read_trl(d)  # two reward functions: the user must name one
    table, rep = read_trl(d, reward_column="accuracy_reward")
    _same(table, log)
    assert rep.groups == 12


def test_history_round_trip(tmp_path):
    log = tiny_log(2, n=8)
    k = log.groupby(["prompt", "step"])["reward"].sum()
    hist = {str(i): [k[(p, s)] / 8 for s in range(1, 4)] for i, p in enumerate(sorted(log["prompt"].unique()))}
    (tmp_path / "acc.json").write_text(json.dumps(hist))
    table, rep = read_history(tmp_path / "acc.json", n=8)
    K, N = appearance_counts(table)
    assert (N == 8).all()
    want = np.array([[round(a * 8) for a in hist[str(i)]] for i in range(len(hist))])
    np.testing.assert_array_equal(K, want)
    assert rep.records == 8 * want.size


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_table_round_trip(tmp_path, suffix):
    log = tiny_log(3)
    df = log.rename(columns={"step": "global_step", "prompt": "uid", "reward": "acc", "tokens": "resp_len"})
    path = tmp_path / f"log{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path)
    table, rep = read_table(path, {"step": "global_step", "prompt": "uid", "reward": "acc", "tokens": "resp_len"})
    _same(table, log)
    assert rep.records == len(log)


def test_threshold_turns_continuous_rewards_into_passes(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"step": [1, 1], "prompt": ["a", "a"], "reward": [0.2, 0.9]}).to_csv(path, index=False)
    table, _ = read_table(path, threshold=0.5)
    assert table.sort_values("reward")["passed"].tolist() == [0, 1]
    table, _ = read_table(path, threshold=0.1)
    assert table["passed"].tolist() == [1, 1]


def test_bundled_log_matches_its_source_statistics():
    table, rep = bundled("one_shot_rlvr")
    assert (rep.prompts, rep.steps, rep.groups) == (1209, 26, 1209 * 26)
    K, _ = appearance_counts(table)
    # the histograms quoted in SOURCE.md (appearance 1 and 26)
    assert np.bincount(K[:, 0], minlength=9).tolist() == [439, 151, 103, 91, 73, 76, 88, 96, 92]
    assert np.bincount(K[:, 25], minlength=9).tolist() == [378, 129, 86, 69, 64, 83, 87, 104, 209]


# --- malformed logs: always a LogError naming file and line, never a crash or a silent drop ---

CORRUPTIONS = ["garbage", "truncated_json", "no_score", "text_score", "nan_score", "input_not_text", "array", "drop_line", "no_output"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(CORRUPTIONS), where=st.integers(0, 15), skip=st.booleans(), text=st.text(max_size=20))
@example(kind="garbage", where=0, skip=True, text="\r")  # a bare carriage return is not a line break
def test_malformed_verl_lines_give_a_clear_error_or_are_counted(tmp_path_factory, kind, where, skip, text):
    folder = tmp_path_factory.mktemp("bad")
    log = tiny_log(4, steps=1, prompts=4, n=4)
    recs = [{"input": r.prompt, "output": "z" * r.tokens, "score": r.reward, "step": 1} for r in log.itertuples()]
    lines = [json.dumps(r) for r in recs]
    i = where % len(lines)
    rec = dict(recs[i])
    if kind == "garbage":
        lines[i] = "{" + text.replace("\n", " ") + " not json"
    elif kind == "truncated_json":
        lines[i] = lines[i][: max(1, len(lines[i]) // 2)]
    elif kind == "no_score":
        del rec["score"]
        lines[i] = json.dumps(rec)
    elif kind == "text_score":
        rec["score"] = "right" + text
        lines[i] = json.dumps(rec)
    elif kind == "nan_score":
        lines[i] = lines[i].replace(f'"score": {rec["score"]}', '"score": NaN')
    elif kind == "input_not_text":
        rec["input"] = 5
        lines[i] = json.dumps(rec)
    elif kind == "array":
        lines[i] = json.dumps([rec])
    elif kind == "no_output":
        del rec["output"]
        lines[i] = json.dumps(rec)
    elif kind == "drop_line":
        del lines[i]  # one group now has 3 samples instead of 4
    path = folder / "1.jsonl"
    path.write_text("\n".join(lines) + "\n")
    total = len(lines)
    if not skip:
        with pytest.raises(LogError) as info:
            read_verl(path)
        msg = str(info.value)
        assert "1.jsonl" in msg
        assert re.search(r":\d+", msg), msg  # a line number
        if kind != "drop_line":
            assert f":{i + 1}:" in msg, msg
    else:
        table, rep = read_verl(path, skip_bad_lines=True)
        assert rep.bad_lines >= 1 and rep.bad_examples
        assert rep.records + rep.bad_lines == total  # nothing silently dropped
        assert len(table) == rep.records


def test_history_errors_name_the_key(tmp_path):
    path = tmp_path / "acc.json"
    path.write_text(json.dumps({"0": [0.125, 0.3], "1": [0.5, 1.0]}))
    with pytest.raises(LogError, match=r"acc.json.*key '0'\[1\].*1/8"):
        read_history(path, n=8)
    table, rep = read_history(path, n=8, skip_bad_lines=True)
    assert rep.bad_lines == 1 and rep.groups == 3
    path.write_text('{"0": [0.125,\n 0.25')
    with pytest.raises(LogError, match=r"acc.json:2: malformed JSON"):
        read_history(path, n=8)


def test_table_missing_column_names_file_and_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("step,prompt,reward\n1,a,1\n1,a,\n")
    with pytest.raises(LogError, match=r"t.csv:3: missing field 'reward'"):
        read_table(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(col=st.sampled_from(["step", "prompt", "reward"]), where=st.integers(0, 11),
       bad=st.sampled_from(["", "x", "1.5", "-3", "inf", "nan"]), skip=st.booleans())
def test_malformed_csv_cells_give_a_clear_error_or_are_counted(tmp_path_factory, col, where, bad, skip):
    folder = tmp_path_factory.mktemp("csv")
    log = tiny_log(5, steps=1, prompts=3, n=4)[["step", "prompt", "reward"]].astype(object)
    i = where % len(log)
    log.loc[i, col] = bad
    path = folder / "t.csv"
    log.to_csv(path, index=False)
    continuous_reward = col == "reward" and bad in ("1.5", "-3")  # a valid (continuous) reward: no error
    renamed_prompt = col == "prompt" and bad != ""  # a valid new prompt: two groups of the wrong size
    if continuous_reward:
        # never silently binarised, nor skipped as a bad line: the user must say how to binarise it
        with pytest.raises(LogError, match=rf"t.csv:{i + 2}: the reward is not 0 or 1 .*--threshold"):
            read_table(path, skip_bad_lines=skip)
        table, rep = read_table(path, threshold=0.5, skip_bad_lines=skip)
        assert rep.records == len(log) and rep.bad_lines == 0
    elif not skip:
        with pytest.raises(LogError) as info:
            read_table(path)
        msg = str(info.value)
        assert "t.csv" in msg and re.search(r"\d", msg)
        if renamed_prompt:
            assert "inconsistent size" in msg
        else:
            assert f"t.csv:{i + 2}:" in msg, msg  # the exact line (line 1 is the header)
    else:
        table, rep = read_table(path, skip_bad_lines=True)
        assert rep.records + rep.bad_lines == len(log)  # nothing silently dropped
        # the bad line, then the rest of its group, now of the wrong size (3 of 4), are counted
        assert rep.bad_lines == 4
