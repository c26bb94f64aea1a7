"""Population fits (beta-binomial MLE), paper statistics, and the forecast check on the shipped log."""
from __future__ import annotations

import numpy as np
import pytest

from simbench.worlds.replay import appearance_counts, bundled
from simbench.worlds.replay.calibrate import forecast
from simbench.worlds.replay.population_fit import PopulationFit, fit_beta, fit_mixture, goodness_of_fit, paper_statistics
from simbench.worlds.replay.simulate import LogAlgorithm


@pytest.mark.parametrize("a,b,seed", [(0.35, 0.7, 0), (2.0, 3.0, 1), (0.8, 0.3, 2)])
def test_beta_mle_recovers_known_parameters(a, b, seed):
    rng = np.random.default_rng(seed)
    n = np.full(3000, 8)
    k = rng.binomial(n, rng.beta(a, b, len(n)))
    fit, se = fit_beta(k, n)
    # within 3.5 asymptotic standard errors (in log space) of the truth
    assert abs(np.log(fit.alphas[0]) - np.log(a)) < 3.5 * se[0]
    assert abs(np.log(fit.betas[0]) - np.log(b)) < 3.5 * se[1]
    assert 0 < se[0] < 0.5 and 0 < se[1] < 0.5


def test_mixture_is_at_least_as_likely_as_one_beta_and_fits_a_mixture():
    rng = np.random.default_rng(7)
    size = 4000
    comp = rng.random(size) < 0.3
    p = np.where(comp, rng.beta(20, 4, size), rng.beta(0.3, 1.5, size))
    n = np.full(size, 8)
    k = rng.binomial(n, p)
    one, _ = fit_beta(k, n)
    two = fit_mixture(k, n)
    assert two.loglik >= one.loglik - 1e-6
    assert two.weights[1] == pytest.approx(0.3, abs=0.06)
    gof = goodness_of_fit(two, k, n)
    assert gof.observed.sum() == size and gof.expected.sum() == pytest.approx(size)
    assert gof.p_value > 1e-3  # the true model family is not rejected


def test_paper_statistics_match_monte_carlo():
    fit = PopulationFit((0.7, 0.3), (0.3, 5.0), (1.2, 1.0), 0.0, 0)
    rng = np.random.default_rng(0)
    m = 200_000
    comp = rng.random(m) < 0.3
    p = np.where(comp, rng.beta(5.0, 1.0, m), rng.beta(0.3, 1.2, m))
    stats = paper_statistics(fit)
    for n in (4, 16, 256):
        for name, x in ((f"all_correct_n{n}", p ** n), (f"all_wrong_n{n}", (1 - p) ** n)):
            se = x.std() / np.sqrt(m)
            assert abs(stats[name] - x.mean()) < 4 * se + 1e-12, name
    passk = [stats[f"pass_at_{k}"] for k in (1, 2, 4, 8, 16, 32, 64, 128, 256)]
    assert passk[0] == pytest.approx(fit.mean())
    assert all(np.diff(passk) > 0)


def test_goodness_of_fit_of_the_shipped_log_at_appearance_1():
    table, _ = bundled("one_shot_rlvr")
    K, N = appearance_counts(table)
    mix = fit_mixture(K[:, 0], N[:, 0])
    gof = goodness_of_fit(mix, K[:, 0], N[:, 0])
    assert gof.observed.tolist() == [439, 151, 103, 91, 73, 76, 88, 96, 92]
    assert mix.share_all_wrong(8) == pytest.approx(439 / 1209, abs=0.02)


def _forecast_shipped():
    table, _ = bundled("one_shot_rlvr")
    K, N = appearance_counts(table)
    return forecast(K, N, LogAlgorithm(n=8, batch=128, prompts=K.shape[0]), 13, workers=2)


def test_forecast_of_the_shipped_log_meets_the_003_requirement():
    """Calibrate on appearances 1-13, predict 14-26: |error| <= 0.03 at appearance 26 and on average over 14-26."""
    fc = _forecast_shipped()  # computed afresh: nothing is cached across tests
    assert fc.calibration.calib_appearances == 13
    assert sorted(fc.calibration.profile) == [4, 16, 64]  # the feature dimension is profiled
    assert fc.calibration.params.dim == min(fc.calibration.profile, key=fc.calibration.profile.get)
    assert fc.simulated["mean_pass"].shape == (8, 26)
    for curve in ("mean_pass", "all_correct", "all_wrong"):
        assert fc.errors_end[curve] <= 0.03, (curve, fc.errors_end)
        assert fc.errors_mean[curve] <= 0.03, (curve, fc.errors_mean)
    # the calibrated format gate is a real effect of the fit, not a bound: it starts inside its search range
    assert 0.01 < fc.calibration.params.format_fail < 0.19


def test_posterior_sample_is_the_conjugate_posterior():
    fit = PopulationFit((1.0,), (0.5,), (1.5,), 0.0, 0)
    rng = np.random.default_rng(3)
    m = 100_000
    for k in (0, 3, 8):
        p = fit.posterior_sample(rng, np.full(m, k), np.full(m, 8))
        want = (0.5 + k) / (0.5 + 1.5 + 8)
        assert abs(p.mean() - want) < 4 * p.std() / np.sqrt(m)


def test_calibration_on_a_synthetic_log_fits_at_least_as_well_as_the_truth():
    """The search works: on a log the simulator itself wrote (known parameters, format gate on), the calibrated
    point's objective over appearances 1-13 is no worse than the true parameters' under the same seeds."""
    from simbench.worlds.replay.calibrate import calibrate, loss, observed_curves, simulate_curves
    from simbench.worlds.replay.simulate import CalibrationParams, simulate_counts

    table, _ = bundled("one_shot_rlvr")
    K, N = appearance_counts(table)
    algo = LogAlgorithm(n=8, batch=128, prompts=K.shape[0])
    truth = CalibrationParams(lr_shared=0.03, lr_prompt=6.0, skill_shape=2.2, idio_scale=0.55, grad_noise=10.5,
                          kl_coef=1e-4, format_fail=0.066, lr_format=3.7)
    Ks, Ns = simulate_counts(fit_mixture(K[:, 0], N[:, 0]), truth, algo, 13, seed=1000, first=(K[:, 0], N[:, 0]))
    cal = calibrate(Ks, Ns, algo, 13, dims=(truth.dim,), workers=2)
    H_obs, obs = observed_curves(Ks, Ns, algo.n)
    at_truth = loss(simulate_curves(cal.init, truth, algo, 13, (0, 1, 2, 3), cal.first), H_obs, obs, 13)
    assert cal.loss <= at_truth, (cal.loss, at_truth, cal.params)
    assert cal.params.format_fail > 0.01  # the gate is found, not switched off


def test_validate_cli_writes_the_report_and_rejects_bad_dims(tmp_path):
    """End to end on a small history log the simulator wrote: files, fitted parameters, profiled dimensions."""
    import json

    from simbench.cli import main

    log = tmp_path / "acc.json"
    _history_log(log, LogAlgorithm(n=8, batch=32, prompts=160), 6, 4)
    out = tmp_path / "val"
    args = ["validate", str(log), "--format", "history", "--n", "8", "--batch", "32", "--calib", "4", "--seeds", "2",
            "--maxfev", "10", "--out", str(out)]
    assert main(args + ["--dims", "4,x"]) == 2
    assert main(args + ["--workers", "0"]) == 2
    assert main(args + ["--dims", "2,4"]) == 0
    res = json.loads((out / "validation.json").read_text())
    assert res["calibration_appearances"] == 4
    assert sorted(res["dimension_profile_forecast"]) == ["2", "4"]
    assert res["params_forecast"]["dim"] in (2, 4)
    assert set(res["forecast_errors_end"]) == {"mean_pass", "all_correct", "all_wrong"}
    for name in ("report.md", "report/validation.png", "report/index.html", "curves.csv", "population_fits.csv", "manifest.json"):
        assert (out / name).stat().st_size > 0
    assert "objective by dimension" in (out / "report.md").read_text()
    # the calibrated simulator as a scenario file: it loads, carries the fitted learner, and runs
    import dataclasses

    from simbench.worlds import load_scenario
    from simbench.worlds.rl.engine import Cell

    sc = load_scenario(out / "scenario.toml")
    fitted = res["params_all"]
    assert sc.learner.format_fail == pytest.approx(fitted["format_fail"])
    assert sc.learner.lr_shared == pytest.approx(fitted["lr_shared"])
    assert sc.population.features.dim == fitted["dim"]
    assert sc.population.train_prompts == 160 and sc.engine.batch_prompts == 32
    assert sc.strategies[0].allocator == {"kind": "uniform", "n": 8}
    short = dataclasses.replace(sc, engine=dataclasses.replace(sc.engine, steps=3))
    for i in range(len(short.strategies)):
        rows = Cell(short, i, 0).run()
        assert [r["step"] for r in rows] == [0, 1, 2, 3]  # step 0 is before training


SMALL = LogAlgorithm(n=8, batch=8, prompts=40)


def _history_counts(algo: LogAlgorithm, appearances: int, seed: int):
    """(K, N) of a history the simulator wrote (format gate on), starting from counts drawn from Beta(0.4, 0.8)."""
    from simbench.worlds.replay.simulate import CalibrationParams, simulate_counts

    rng = np.random.default_rng(seed)
    k0, n0 = rng.binomial(8, rng.beta(0.4, 0.8, algo.prompts)), np.full(algo.prompts, 8)
    return simulate_counts(fit_mixture(k0, n0), CalibrationParams(format_fail=0.05, lr_format=3.0), algo, appearances, seed=0,
                           first=(k0, n0))


def _history_log(path, algo: LogAlgorithm, appearances: int, seed: int) -> None:
    """``_history_counts`` written as a per-prompt accuracy history (JSON)."""
    import json

    K, _ = _history_counts(algo, appearances, seed)
    path.write_text(json.dumps({str(i): (K[i] / algo.n).tolist() for i in range(algo.prompts)}))


def test_validate_shows_its_progress_on_stderr_unless_quiet(tmp_path, capsys):
    """Every stage (population fits, each calibration's dimensions, candidates, forecast) with elapsed and remaining time."""
    import re

    from simbench.cli import main
    from simbench.commands.validate import progress_bar

    log = tmp_path / "acc.json"
    _history_log(log, SMALL, 3, 2)
    assert main(["validate", str(log), "--format", "history", "--n", "8", "--batch", "8", "--calib", "2", "--seeds", "2",
                 "--maxfev", "3", "--dims", "2,3", "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    for stage in ("population fits at appearances 1-3", "calibration on appearances 1-3, d = 2",
                  "calibration on appearances 1-3, d = 3", "simulation of appearances 1-3",
                  "calibration on appearances 1-2, d = 2", "calibration on appearances 1-2, d = 3",
                  "forecast of appearances 3-3"):
        assert stage in err, stage
    assert re.search(r"candidate \d+/\d+", err) and re.search(r"grid screen \d+/144", err)
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d\]", err)  # elapsed < remaining
    assert "100%" in err  # the bar's total is the work done, not a guess that stops short
    with progress_bar(10, quiet=True) as progress:  # --quiet
        progress("calibration on appearances 1-2, d = 2", "candidate 1/10", 10)
    assert capsys.readouterr().err == ""


def test_calibration_is_the_same_with_any_number_of_worker_threads():
    """Seeds are simulated in threads, each on its own streams: the fit does not depend on how many threads."""
    from simbench.worlds.replay.calibrate import calibrate

    K, N = _history_counts(SMALL, 3, 2)
    one, two = (calibrate(K, N, SMALL, 3, maxfev=8, dims=(2,), workers=w) for w in (1, 2))
    assert one.params == two.params and one.loss == two.loss and one.trace == two.trace
    assert one.evaluations == 144 + len(one.trace)  # the one-seed grid screen, then every seed


def test_mixture_likelihoods_logsumexp_is_scipys():
    """The fits' own logsumexp (columns of a 2-D array) against SciPy's, ties and empty components included."""
    from scipy.special import logsumexp

    from simbench.worlds.replay.population_fit import _logsumexp_rows

    rng = np.random.default_rng(0)
    t = rng.normal(0, 30, (3, 200))
    t[:, 0] = 1.5  # a three-way tie
    t[1, 1] = t[0, 1]  # a two-way tie
    t[:, 2] = [-np.inf, 4.0, -np.inf]  # zero-weight components
    t[:, 3] = -np.inf  # a column with no mass
    ours, theirs = _logsumexp_rows(t), logsumexp(t, axis=0)
    assert ours[2] == theirs[2] == 4.0 and ours[3] == theirs[3] == -np.inf
    # a few ulps of the largest term (the last addition's rounding; older SciPy sums in another order)
    finite = np.isfinite(theirs)
    assert (np.abs(ours[finite] - theirs[finite]) <= 4 * np.finfo(float).eps * (np.abs(t.max(0)[finite]) + 1)).all()
