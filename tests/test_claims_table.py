"""The claims table (scenarios/claims/run.py, docs/claims.md): its verdict rule, its speedup, a quick end-to-end
run, and (slow) that the committed docs/claims.md is exactly what the command writes."""
from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("claims_run", ROOT / "scenarios" / "claims" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


claims = _load()


@pytest.mark.parametrize("lo, hi, null, size, expected", [
    (1.2, 1.8, 1.0, None, "agrees in direction only"),              # no size stated
    (1.5, 2.5, 1.0, (2.0, 2.0), "agrees in direction and size"),    # the point figure lies inside
    (1.1, 1.4, 1.0, (2.0, 2.0), "agrees in direction only"),        # faster, but not 2x
    (1.1, 1.4, 1.0, (1.0, 2.0), "agrees in direction and size"),    # "up to 2x"
    (0.3, 0.6, 1.0, (2.0, 2.0), "disagrees"),
    (0.9, 1.3, 1.0, (2.0, 2.0), "inconclusive"),                    # spans no difference
    (1.0, 1.0, 1.0, None, "inconclusive"),                          # identical strategies
    (0.25, 0.5, 0.0, (0.2, 0.4), "agrees in direction and size"),   # a gain overlapping 20-40%
    (-0.03, -0.01, 0.0, (0.02, 0.04), "disagrees"),
    (0.05, 0.07, 0.0, (0.02, 0.04), "agrees in direction only"),    # larger than the paper's
    (math.nan, math.nan, 1.0, None, "inconclusive"),
    (0.0, 0.0, 1.0, None, "disagrees"),                             # the strategy's median never reached the target
])
def test_verdict_rule(lo, hi, null, size, expected):
    assert claims.verdict(lo, hi, null, size) == expected


def test_speedup_is_the_ratio_of_medians_paired_by_seed():
    seeds = [0, 1, 2, 3, 4]
    base = {("b", s): (10.0 * (s + 1), True) for s in seeds}
    fast = {("a", s): (5.0 * (s + 1), True) for s in seeds}
    point, lo, hi = claims.speedup({**base, **fast}, "a", "b", seeds)
    assert point == pytest.approx(2.0) and lo == pytest.approx(2.0) and hi == pytest.approx(2.0)
    never = {("a", s): (100.0, False) for s in seeds}  # censored at its end: never reached
    point, lo, hi = claims.speedup({**base, **never}, "a", "b", seeds)
    assert point == 0.0 and claims.verdict(lo, hi, 1.0, None) == "disagrees"


def test_every_claim_names_strategies_of_its_scenario():
    from simbench.worlds import load_scenario

    for c in claims.CLAIMS:
        labels = {s.label for s in load_scenario(ROOT / "scenarios" / "claims" / f"{c.scenario}.toml").strategies}
        assert {c.strategy, c.baseline} <= labels, (c.scenario, labels)
        assert c.axis in claims.AXES and (c.size is None or c.size[0] <= c.size[1])


def test_the_second_learner_is_the_validation_reports_first_half_fit_and_keeps_kl_off():
    import json

    report = json.loads((ROOT / "reports" / "validate-one_shot_rlvr" / "validation.json").read_text())
    forecast = claims.LEARNERS["1-13"]
    assert forecast == {k: report["params_forecast"][k] for k in forecast}
    config = claims.CONFIGS["quick"]
    for name, kl_off in (("dapo", True), ("dump", False)):
        data, _ = claims.scenario_data(name, config, forecast)
        assert data["learner"]["lr_shared"] == forecast["lr_shared"]
        assert data["population"]["features"]["grad_noise"] == forecast["grad_noise"]
        assert data["learner"]["kl_coef"] == (0.0 if kl_off else forecast["kl_coef"])
        assert data["engine"]["steps"] == config.steps and data["seeds"] == config.seeds


def _rows(text: str) -> list[list[str]]:
    table = text.split("## The table", 1)[1].split("## What was run", 1)[0]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.strip().splitlines()[2:]]


def test_quick_run_writes_a_row_with_a_valid_verdict_for_every_claim(tmp_path):
    assert claims.main(["--quick", "--out", str(tmp_path / "a")]) == 0
    text = (tmp_path / "a" / "claims.md").read_text()
    rows = _rows(text)
    assert [r[0] for r in rows] == [c.claim for c in claims.CLAIMS]
    assert all(r[4].strip("*") in claims.VERDICTS for r in rows)
    # every row gives the steps, samples, tokens and hours axes (every claim scenario has [cost]), each with an interval
    assert "| tokens | hours |" in text.split("## The table", 1)[1].strip().splitlines()[0]
    assert all(re.fullmatch(r"\S+x \[\S+x, \S+x\]", cell) for r in rows for cell in r[5:9])
    assert all(r[-1].rsplit(": ", 1)[1] in claims.VERDICTS for r in rows)  # the second learner's verdict
    assert f"{claims.CONFIGS['quick'].seeds} seeds" in text and "--quick" in text
    # reproducible: the same configuration writes the same bytes
    assert claims.main(["--quick", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "claims.md").read_bytes() == text.encode()


@pytest.mark.slow
def test_committed_claims_table_is_what_the_command_writes(tmp_path):
    assert claims.main(["--out", str(tmp_path), "--workers", "2"]) == 0
    assert (tmp_path / "claims.md").read_text() == (ROOT / "docs" / "claims.md").read_text()
