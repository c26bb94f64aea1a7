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


CAL = claims.CALIBRATION


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "scenarios" / "claims").glob("*.toml")))
def test_the_population_transform_at_the_pinned_law_gives_each_scenario_as_written(name):
    """``population_with`` is each scenario's own transform of the calibrated law (screening, DUMP's sources)."""
    from simbench.core.scenario import read_toml

    population = read_toml(ROOT / "scenarios" / "claims" / f"{name}.toml")["population"]
    assert CAL.population_with(name, population, CAL.CALIBRATED) == population
    other = CAL.BOOTSTRAP[0]["population"]
    assert CAL.population_with(name, population, other)["pass_rate"] != population["pass_rate"]


def test_a_bootstrap_calibration_replaces_the_calibration_and_keeps_the_claims_strategies():
    config = claims.CONFIGS["quick"]
    replicate = CAL.BOOTSTRAP[1]
    for name, kl_off in (("dapo", True), ("dump", False), ("reinforce_ada", True)):
        data, _ = claims.scenario_data(name, config, replicate)
        assert data["learner"]["lr_shared"] == replicate["learner"]["lr_shared"]
        assert data["learner"]["kl_coef"] == (0.0 if kl_off else replicate["learner"]["kl_coef"])
        assert data["population"]["features"]["grad_noise"] == replicate["features"]["grad_noise"]
        assert data["engine"]["steps"] == config.steps and data["seeds"] == config.replicate_seeds
        own = {who for c in claims.CLAIMS if c.scenario == name for who in (c.strategy, c.baseline)}
        assert {s.label for s in claims.parse_scenario(data, name, str(ROOT)).strategies} == own
    data, _ = claims.scenario_data("reinforce_ada", config, replicate)  # screened as the paper screened
    k, kept = CAL.SCREENS["reinforce_ada"]
    assert data["population"]["pass_rate"] == {"kind": "beta_mixture", **CAL.screened_mixture(**replicate["population"], k=k, kept=kept)}
    plain, _ = claims.scenario_data("reinforce_ada", config)
    assert len(plain["strategies"]) > len(data["strategies"]) and plain["seeds"] == config.seeds


def _bundled_log():
    from simbench.worlds.replay import appearance_counts, bundled

    return appearance_counts(bundled("one_shot_rlvr")[0])


def test_the_bootstrap_populations_are_the_fits_to_their_resampled_prompts():
    """Provenance of ``BOOTSTRAP``: replicate b's population is the maximum-likelihood mixture of the first counts of
    the prompts ``validate --bootstrap`` draws for it (better than a fresh fit and than every other replicate's)."""
    from simbench.worlds.replay.bootstrap import resample
    from simbench.worlds.replay.population_fit import PopulationFit, fit_mixture

    K, N = _bundled_log()
    pops = [PopulationFit(tuple(r["population"]["weights"]), tuple(r["population"]["alphas"]),
                          tuple(r["population"]["betas"]), 0.0, 0) for r in CAL.BOOTSTRAP]
    for b, r in enumerate(CAL.BOOTSTRAP):
        assert r["resample_seed"] == [0, b] and r["features"]["dim"] == CAL.FEATURES["dim"]
        rows = resample(K.shape[0], *r["resample_seed"])
        k, n = K[rows, 0], N[rows, 0]
        logliks = [float(p.log_pmf(k, n).sum()) for p in pops]
        assert logliks[b] >= fit_mixture(k, n).loglik - 1e-6  # an optimum of this resample's likelihood
        assert logliks[b] == max(logliks)


def test_the_bootstrap_calibrations_are_those_of_the_committed_validation_report():
    """``BOOTSTRAP`` is what the committed ``reports/validate-one_shot_rlvr`` (``--bootstrap 8``) recorded, and that
    report's point fit is the pinned calibration."""
    import json

    report = ROOT / "reports" / "validate-one_shot_rlvr"
    validation = json.loads((report / "validation.json").read_text())
    assert "--bootstrap 8" in json.loads((report / "manifest.json").read_text())["command"]
    assert CAL.bootstrap_pins(validation) == CAL.BOOTSTRAP
    assert len(CAL.BOOTSTRAP) == 8


@pytest.mark.slow
def test_the_first_bootstrap_learner_is_what_validate_fits():
    """Replicate 1 of ``BOOTSTRAP`` refitted as ``validate --bootstrap`` does (the optimiser's path, like the committed
    validation report's, may differ on a machine whose floating-point results differ in the last bits)."""
    from simbench.worlds.replay.bootstrap import refit, resample
    from simbench.worlds.replay.simulate import LogAlgorithm

    K, N = _bundled_log()
    r = CAL.BOOTSTRAP[0]
    cal = refit(K, N, resample(K.shape[0], *r["resample_seed"]), LogAlgorithm(n=8, batch=128, prompts=K.shape[0]), 26,
                r["features"]["dim"], workers=2)
    assert {k: getattr(cal.params, k) for k in r["learner"]} == r["learner"]
    assert {k: getattr(cal.params, k) for k in r["features"]} == r["features"]
    assert list(cal.init.weights) == r["population"]["weights"] and list(cal.init.alphas) == r["population"]["alphas"]


def test_the_sensitivity_cell_counts_the_replicates_keeping_the_pinned_verdict():
    s = {"figures": [1.4, 1.1, float("nan"), 1.6], "pinned": "agrees in direction only", "pinned_figure": 1.3, "seeds": 4,
         "verdicts": ["agrees in direction only", "inconclusive", "inconclusive", "agrees in direction only"]}
    assert claims.fmt_sensitivity(s, claims.SPEEDUP) == ("1.10x to 1.60x (1 n/a) (pinned: 1.30x); verdict as pinned, "
                                                         "*agrees in direction only*, in 2 of 4, 2 inconclusive")


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
    # the bootstrap calibrations' column: the figure's range, the pinned calibration's verdict and how many keep it
    config = claims.CONFIGS["quick"]
    verdicts = "|".join(claims.VERDICTS)
    cell = re.compile(rf"[^;]+ to [^;]+ \(pinned: [^;]+\); verdict as pinned, \*({verdicts})\*, in (\d) of {config.replicates}"
                      rf"((, \d ({verdicts}))*)")
    for r in rows:
        m = cell.fullmatch(r[-1])
        assert m, r[-1]
        assert int(m.group(2)) + sum(int(x) for x in re.findall(r", (\d) ", m.group(3))) == config.replicates
    assert f"Over {config.replicates} bootstrap calibrations" in text
    assert f"{claims.CONFIGS['quick'].seeds} seeds" in text and "--quick" in text
    # reproducible: the same configuration writes the same bytes
    assert claims.main(["--quick", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "claims.md").read_bytes() == text.encode()


@pytest.mark.slow
def test_committed_claims_table_is_what_the_command_writes(tmp_path):
    assert claims.main(["--out", str(tmp_path), "--workers", "2"]) == 0
    assert (tmp_path / "claims.md").read_text() == (ROOT / "docs" / "claims.md").read_text()
