"""Why simbench disagrees (scenarios/claims/why.py, docs/claims-why.md): its settings, its log check, a quick
end-to-end run, and (slow) that the committed docs/claims-why.md is exactly what the command writes."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("claims_why", ROOT / "scenarios" / "claims" / "why.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


why = _load()


def test_the_questions_are_the_claims_the_table_does_not_confirm():
    asked = {(q.c.scenario, q.c.strategy, q.c.baseline, q.c.axis) for q in why.QUESTIONS}
    assert asked == {("reinforce_ada", "reinforce_ada-balanced", "grpo-n4", "samples"),
                     ("reinforce_ada", "reinforce_ada-positive", "grpo-n4", "steps"),
                     ("gvm_raft", "gvm-raft", "raft-n8", "steps"),
                     ("gvm_raft_n32", "gvm-raft-n32", "raft-n32", "steps"),
                     ("mopps", "mopps", "ds", "samples")}


@pytest.mark.parametrize("name", sorted(why.SETTINGS))
def test_every_setting_changes_exactly_what_it_says(name):
    """Each edit changes the scenario's data and nothing but its key; strategies it names exist in its run."""
    from simbench.worlds import parse_scenario

    config = why.CONFIGS["quick"]
    base, _ = why.scenario_data(name, config, [why.SETTINGS[name][0]], why.labels_of(name))
    assert "cost" not in base
    for s in why.SETTINGS[name]:
        data, path = why.scenario_data(name, config, [s], why.labels_of(name, s))
        labels = {why._label(x) for x in data["strategies"]}
        assert {x for x in (s.strategy, s.baseline) if x} <= labels, (s.name, labels)
        changed = {(t, k) for t in ("learner", "engine", "population") for k in base[t] if data[t][k] != base[t][k]}
        if s.edit is None:
            assert not changed, s.name
        else:
            assert len(changed) == 1, (s.name, changed)
        parse_scenario(data, path)  # every setting is a valid scenario


def test_learning_rate_settings_scale_the_calibrated_value():
    config = why.CONFIGS["quick"]
    base, _ = why.scenario_data("gvm_raft", config, [why.COMMON[0]], why.labels_of("gvm_raft"))
    for s in why.COMMON[1:5]:
        data, _ = why.scenario_data("gvm_raft", config, [s], why.labels_of("gvm_raft"))
        key, factor = s.name.split(" x")
        assert data["learner"][key] == base["learner"][key] * float(factor)


def test_transitions_of_a_known_history():
    # two prompts, three appearances: 0 -> 8 -> 8 and 4 -> 2 -> 6
    K = np.zeros((2, 26), np.int64)
    K[0, :3], K[1, :3] = (0, 8, 8), (4, 2, 6)
    K[:, 3:] = K[:, 2:3]
    T = why.transitions(K)
    # appearances 1-8: 0 -> 8 (all wrong), 2 -> 6 (1-2 of 8), 4 -> 2 (3-5), 6 -> 6 six times (6-7), 8 -> 8 (all correct)
    # and mixed (1-7 of 8) pools 2 -> 6, 4 -> 2 and the six 6 -> 6
    assert T[:, 0].tolist() == [1.0, 0.5, -0.25, 0.0, 0.0, 0.25 / 8]
    # middle periods: no prompt is ever all wrong or at 1-5 of 8 again, so those cells are undefined, not 0
    assert np.isnan(T[:3, 1:3]).all() and (T[3:, 1:3] == 0).all()
    # the last column pools every appearance: 0 -> 8, 2 -> 6 and 4 -> 2 happen once; mixed: +2 over 25 moves
    assert T[:3, 3].tolist() == T[:3, 0].tolist() and T[5, 3] == pytest.approx(2 / 25 / 8)


def test_quick_run_writes_every_section_and_the_same_bytes(tmp_path):
    assert why.main(["--quick", "--out", str(tmp_path / "a")]) == 0
    text = (tmp_path / "a" / "claims-why.md").read_text()
    for q in why.QUESTIONS:
        section = text.split(f"### {q.c.claim}", 1)[1].split("###", 1)[0].split("\n## ", 1)[0]
        rows = [r for r in section.splitlines() if r.startswith("| ") and not r.startswith("| setting")]
        assert [r.split(" | ")[0].strip("| ") for r in rows] == [s.name for s in why.SETTINGS[q.c.scenario]]
        verdicts = [r.split(" | ")[4].strip("*") for r in rows]
        assert all(v in why.claims.VERDICTS for v in verdicts)
        assert all(re.fullmatch(r"\S+x \[\S+x, \S+x\]", r.split(" | ")[3]) for r in rows)
    assert "## 2. Mechanisms" in text and "## 3. DUMP" in text and "--quick" in text
    assert why.main(["--quick", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "claims-why.md").read_bytes() == text.encode()


@pytest.mark.slow
def test_committed_claims_why_is_what_the_command_writes(tmp_path):
    assert why.main(["--out", str(tmp_path), "--workers", "2"]) == 0
    assert (tmp_path / "claims-why.md").read_text() == (ROOT / "docs" / "claims-why.md").read_text()
