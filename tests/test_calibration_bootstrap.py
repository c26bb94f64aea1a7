"""The calibration's cluster bootstrap over a log's prompts (``simbench validate --bootstrap B``)."""
from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
from test_logs_calibrate import SMALL, _history_counts, _history_log

from simbench.worlds.replay import bootstrap as bs
from simbench.worlds.replay.calibrate import calibrate


@pytest.fixture(scope="module")
def log():
    return _history_counts(SMALL, 3, 2)


def test_resample_draws_prompts_with_replacement_from_its_seed():
    a = bs.resample(500, 7, 3)
    assert a.shape == (500,) and a.min() >= 0 and a.max() < 500
    assert len(np.unique(a)) < 500  # with replacement: some prompts twice, some not at all
    assert (a == bs.resample(500, 7, 3)).all()
    assert (a != bs.resample(500, 7, 4)).any() and (a != bs.resample(500, 8, 3)).any()


def test_a_replicate_refits_on_whole_prompt_histories(log, monkeypatch):
    """The resampled log is the drawn prompts' rows, every appearance of each: prompts are resampled, not appearances."""
    K, N = log
    seen = []

    def spy(Kb, Nb, *args, **kwargs):
        seen.append((Kb, Nb, kwargs["dims"]))
        return calibrate(Kb, Nb, *args, **kwargs)

    monkeypatch.setattr(bs, "calibrate", spy)
    fits = bs.bootstrap(K, N, SMALL, 3, dim=2, replicates=2, seed=5, maxfev=2)
    assert len(seen) == 2
    for b, (Kb, Nb, dims) in enumerate(seen):
        rows = bs.resample(K.shape[0], 5, b)
        assert (Kb == K[rows]).all() and (Nb == N[rows]).all() and dims == (2,)
        assert fits[b]["resample_seed"] == [5, b] and fits[b]["distinct_prompts"] == len(np.unique(rows))
    assert not (seen[0][0] == K).all()  # a resample, not the log itself


def test_the_identity_resample_reproduces_the_point_fit_exactly(log, monkeypatch):
    K, N = log
    point = calibrate(K, N, SMALL, 3, maxfev=4, dims=(2, 3))
    monkeypatch.setattr(bs, "resample", lambda prompts, seed, b: np.arange(prompts))
    (fit,) = bs.bootstrap(K, N, SMALL, 3, point.params.dim, 1, maxfev=4)
    assert fit["params"] == asdict(point.params) and fit["loss"] == point.profile[point.params.dim]
    assert fit["population"] == bs.population_params(point.init)


def test_intervals_are_percentiles_of_the_replicates():
    def fit(scale):
        params = {k: scale * (i + 1) for i, k in enumerate(bs.FIT_NAMES)}
        return {"params": params, "population": {"weights": [1 - scale / 10, scale / 10], "alphas": [scale, 2 * scale],
                                                 "betas": [3 * scale, 4 * scale]}}

    fits = [fit(s) for s in (0.5, 3.0, 1.0, 2.0)]
    point = bs.flat(fit(1.5)["params"], fit(1.5)["population"])
    rows = {r["parameter"]: r for r in bs.intervals(point, fits)}
    assert list(rows) == [*bs.FIT_NAMES, *bs.POPULATION]
    assert rows["lr_prompt"]["point"] == 3.0 and (rows["lr_prompt"]["lo"], rows["lr_prompt"]["hi"]) == (1.0, 6.0)
    assert (rows["weight_2"]["lo"], rows["weight_2"]["hi"]) == (0.05, 0.3)
    assert (rows["beta_2"]["lo"], rows["beta_2"]["hi"]) == (2.0, 12.0)
    # the mixture's mean and sd of p0, from scipy's Beta moments: 0.85 Beta(1.5, 4.5) + 0.15 Beta(3, 6)
    from scipy import stats

    parts = [(0.85, stats.beta(1.5, 4.5)), (0.15, stats.beta(3.0, 6.0))]
    mean = sum(w * d.mean() for w, d in parts)
    var = sum(w * (d.var() + d.mean() ** 2) for w, d in parts) - mean ** 2
    assert rows["mean_p0"]["point"] == pytest.approx(mean, rel=1e-12)
    assert rows["sd_p0"]["point"] == pytest.approx(np.sqrt(var), rel=1e-12)


def _validate(tmp_path, name, *extra):
    from simbench.cli import main

    log = tmp_path / "acc.json"
    if not log.exists():
        _history_log(log, SMALL, 3, 2)
    code = main(["validate", str(log), "--format", "history", "--n", "8", "--batch", "8", "--calib", "2", "--seeds", "2",
                 "--maxfev", "3", "--dims", "2,3", "--out", str(tmp_path / name), *extra])
    return code, tmp_path / name


def _without_times(res: dict) -> dict:
    return {k: v for k, v in res.items() if k != "calibration_seconds"}


def test_validate_bootstrap_records_replicates_and_intervals_and_leaves_the_point_fits(tmp_path, capsys):
    code, plain = _validate(tmp_path, "plain", "--quiet")
    assert code == 0
    code, zero = _validate(tmp_path, "zero", "--quiet", "--bootstrap", "0")
    assert code == 0
    base = json.loads((plain / "validation.json").read_text())
    assert "bootstrap" not in base and _without_times(json.loads((zero / "validation.json").read_text())) == _without_times(base)
    assert "cluster bootstrap" not in (plain / "report.md").read_text()
    capsys.readouterr()
    code, one = _validate(tmp_path, "one", "--bootstrap", "2", "--bootstrap-seed", "9", "--workers", "1")
    assert code == 0
    err = capsys.readouterr().err
    for b in (1, 2):  # the progress bar shows the bootstrap's stages
        assert f"bootstrap {b}/2: calibration on appearances 1-3, d = " in err
    assert "100%" in err
    res = json.loads((one / "validation.json").read_text())
    boot = res.pop("bootstrap")
    assert _without_times(res) == _without_times(base)  # the point fits do not move
    assert boot["replicates"] == 2 and boot["seed"] == 9 and boot["dim"] == res["params_all"]["dim"]
    assert [f["resample_seed"] for f in boot["fits"]] == [[9, 0], [9, 1]]
    assert all(f["params"]["dim"] == boot["dim"] for f in boot["fits"])
    assert [r["parameter"] for r in boot["intervals"]] == [*bs.FIT_NAMES, *bs.POPULATION]
    for r in boot["intervals"]:
        values = [bs.flat(f["params"], f["population"])[r["parameter"]] for f in boot["fits"]]
        assert (r["lo"], r["hi"]) == (min(values), max(values))  # 2 replicates: the 95% interval is their range
    point = {r["parameter"]: r["point"] for r in boot["intervals"]}
    assert point["lr_shared"] == res["params_all"]["lr_shared"] and point["grad_noise"] == res["params_all"]["grad_noise"]
    report = (one / "report.md").read_text()
    assert "cluster bootstrap" in report and "B = 2 replicates" in report and "from seed 9" in report and "lr_shared" in report
    # the same bytes with two worker threads
    code, two = _validate(tmp_path, "two", "--quiet", "--bootstrap", "2", "--bootstrap-seed", "9", "--workers", "2")
    assert code == 0
    assert json.dumps(json.loads((two / "validation.json").read_text())["bootstrap"]) == json.dumps(boot)


@pytest.mark.parametrize("option, value, allowed", [
    ("--bootstrap", "-1", "an integer >= 0"), ("--bootstrap", "x", "an integer >= 0"), ("--bootstrap", "2.5", "an integer >= 0"),
    ("--bootstrap-seed", "-3", "an integer >= 0"),
])
def test_validate_rejects_a_bad_bootstrap_option_in_one_line(tmp_path, capsys, option, value, allowed):
    code, _ = _validate(tmp_path, "bad", "--quiet", option, value)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"{option} '{value}'" in err and allowed in err and err.startswith("simbench: error: command line")
