"""verl's metrics log: nested and flat lines, the key variants of verl versions, and one-line errors for bad lines."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cost_fit_helpers import synthetic_run, true_spec, write_metrics

from simbench.cli import main
from simbench.cost.metrics_log import MetricsError, read_metrics

STEP = {"timing_s/gen": 30.0, "timing_s/update_actor": 8.0, "timing_s/old_log_prob": 2.0, "timing_s/adv": 0.5, "timing_s/step": 45.0,
        "perf/total_num_tokens": 100000, "response_length/mean": 900.0, "response_length/max": 2048.0, "response_length/min": 12.0,
        "response_length/clip_ratio": 0.05, "prompt_length/mean": 100.0}


def write(path, *records) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return str(path)


def test_nested_and_flat_lines_read_the_same(tmp_path):
    run = synthetic_run(repeats=1)
    write_metrics(tmp_path / "a.jsonl", true_spec(), run, nested=True)
    write_metrics(tmp_path / "b.jsonl", true_spec(), run, nested=False)
    a, b = read_metrics(tmp_path / "a.jsonl"), read_metrics(tmp_path / "b.jsonl")
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert len(a.frame) == len(run) and a.skipped == [1]
    assert "1 line(s) without timing_s/ keys skipped" in a.summary()
    assert a.frame["samples"].tolist() == [len(s.L) for s in run]  # tokens / (prompt mean + response mean)


def test_key_variants_of_verl_versions(tmp_path):
    """timing_s/generate_sequences for gen, perf/time_per_step for the step, tokens from the per-token timings."""
    old = {"timing_s/generate_sequences": 30.0, "timing_s/update_actor": 8.0, "perf/time_per_step": 45.0,
           "timing_per_token_ms/update_actor": 8.0 * 1e3 / 100000, "timing_per_token_ms/gen": 30.0 * 1e3 / 90000,
           "response_length/mean": 900.0, "response_length/max": 2048.0, "prompt_length/mean": 100.0}
    log = read_metrics(write(tmp_path / "m.jsonl", {"step": 3, "data": old}, {"step": 1, "data": STEP}))
    assert list(log.frame.index) == [1, 3]
    row = log.frame.loc[3]
    assert row["gen_s"] == 30.0 and row["step_s"] == 45.0
    assert row["tokens"] == pytest.approx(100000) and row["resp_tokens"] == pytest.approx(90000) and row["samples"] == 100
    assert log.keys["gen_s"] == "timing_s/generate_sequences / timing_s/gen"  # both keys read, said
    assert log.frame.loc[1, "parts_s"] == 30.0 + 8.0 + 2.0 + 0.5  # every top-level stage, not the step itself
    assert np.isnan(row["logprob_s"])


@pytest.mark.parametrize("line,key,text", [
    ("not json", "line", "a JSON object"),
    ('["step", 1]', "line", "a JSON object"),
    ({"data": STEP}, "step", "a non-negative integer"),
    ({"step": "4", "data": STEP}, "step", "a non-negative integer"),
    ({"step": 1, "data": [1, 2]}, "data", "an object"),
    ({"step": 1, "data": {**STEP, "timing_s/gen": "fast"}}, "timing_s/gen", "a finite non-negative number"),
    ({"step": 1, "data": {**STEP, "timing_s/update_actor": -1.0}}, "timing_s/update_actor", "a finite non-negative number"),
    ({"step": 1, "data": {**STEP, "response_length/clip_ratio": 1.5}}, "response_length/clip_ratio", "a fraction in [0, 1]"),
    ({"step": 1, "timing_s/gen": True}, "timing_s/gen", "a finite non-negative number"),
])
def test_bad_lines_name_file_line_key_and_value(tmp_path, line, key, text):
    path = write(tmp_path / "m.jsonl", {"step": 0, "data": STEP}, line)
    with pytest.raises(MetricsError) as err:
        read_metrics(path)
    message = str(err.value)
    assert message.startswith(f"{path}:2: key '{key}' = ") and text in message


def test_a_repeated_step_is_an_error_naming_both_lines(tmp_path):
    path = write(tmp_path / "m.jsonl", {"step": 1, "data": STEP}, {"step": 2, "data": STEP}, {"step": 1, "data": STEP})
    with pytest.raises(MetricsError, match=r"m.jsonl:3: key 'step' = 1 is invalid: a step not logged before \(line 1"):
        read_metrics(path)


def test_a_key_missing_on_one_step_names_that_step(tmp_path):
    from simbench.cost.fit import fit_cost
    from simbench.cost.spec import CostSpec

    lines = [{"step": i, "data": STEP} for i in range(1, 6)]
    lines[3] = {"step": 4, "data": {k: v for k, v in STEP.items() if k != "timing_s/update_actor"}}
    log = read_metrics(write(tmp_path / "m.jsonl", *lines))
    with pytest.raises(MetricsError, match=r"m.jsonl:4: key 'timing_s/update_actor' = None is invalid: a number on every step"):
        fit_cost(CostSpec(), log)


def test_no_training_steps_is_an_error(tmp_path):
    path = write(tmp_path / "m.jsonl", {"step": 0, "data": {"val-core/acc": 0.5}})
    with pytest.raises(MetricsError, match="training steps with timing_s/ keys"):
        read_metrics(path)


def test_command_reports_bad_input_in_one_line(tmp_path, capsys):
    path = write(tmp_path / "m.jsonl", {"step": 1, "data": {**STEP, "timing_s/gen": "NaN"}})
    assert main(["fit-cost", path]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{path}:1: key 'timing_s/gen' = 'NaN'" in err
    assert main(["fit-cost", path, "--group", "0"]) == 2
    assert "--group 0 is invalid" in capsys.readouterr().err
    assert main(["fit-cost", path, "--preset", "h200"]) == 2
    assert "--preset 'h200' is invalid: one of qwen2.5-1.5b-8xh100" in capsys.readouterr().err
