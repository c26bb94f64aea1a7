"""The inference world against published figures and closed forms (checks A1-A7 of the test-time compute specification).

Each check runs the real engine on the sample tapes where it can: the closed forms are the ground truth, the
engine's Monte-Carlo means must match them within 3 standard errors.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simbench import registry
from simbench.testing.inference import scenario
from simbench.worlds.inference.allocators.adaptive_consistency import beta_confidence
from simbench.worlds.inference.allocators.esc import expected_samples
from simbench.worlds.inference.coverage import beta_pass_at_k, fit_beta, loglog_slope
from simbench.worlds.inference.engine import run
from simbench.worlds.inference.tape import Queries


def queries(p, weights=(1.0,), seed: int = 0, mean_len: float = 100.0, fpr: float = 0.0) -> Queries:
    """Queries with given pass rates and the same wrong-answer weights, fresh tape keys from ``seed``."""
    p = np.asarray(p, float)
    Q = len(p)
    w = np.asarray(weights, float)
    wcum = np.tile(np.cumsum(w / w.sum()), (Q, 1))
    keys = np.random.SeedSequence([seed, 13]).generate_state(Q, np.uint64)
    return Queries(p, np.full(Q, mean_len), wcum, np.zeros((Q, len(w) + 1)), np.full(Q, fpr), keys)


def engine_run(qs, sc, allocator, picker, per_query):
    return run(qs, sc, registry.make("inference_allocator", allocator), registry.make("picker", picker), per_query * len(qs))


def within_3se(values, expected, what):
    values = np.asarray(values, float)
    se = values.std(ddof=1) / np.sqrt(len(values))
    assert abs(values.mean() - expected) <= 3 * se + 1e-12, f"{what}: {values.mean():.5f} vs {expected:.5f} (3 SE = {3 * se:.5f})"


# A1: Large Language Monkeys, SWE-bench Lite with DeepSeek-Coder-V2-Instruct (Brown et al., arXiv 2407.21787, Table 1)
def test_a1_swebench_beta_fit_predicts_pass_at_5():
    a, b = fit_beta(0.159, 250, 0.56)
    assert (round(a, 4), round(b, 4)) == (0.1220, 0.6454)
    assert abs(100 * float(beta_pass_at_k(a, b, 5)) - 29.62) <= 1.0


def test_a1_engine_coverage_on_the_fitted_population_matches_the_closed_form():
    """Uniform sampling with an oracle on Beta(0.1220, 0.6454) queries: coverage@k (Brown's unbiased estimator) matches."""
    from simbench.worlds.inference.answers import unbiased_pass_at_k

    a, b = 0.1220, 0.6454
    p = np.random.default_rng(5).beta(a, b, 4000)
    sc = scenario(answers="unique", per_query=16.0)
    out = engine_run(queries(p), sc, "uniform", "oracle_any", 16)
    correct = (out.record.answer[:, :16] == 0).sum(axis=1)
    for k in (1, 5, 16):
        within_3se(unbiased_pass_at_k(out.samples, correct, k), float(beta_pass_at_k(a, b, k)), f"coverage@{k}")
    within_3se(out.correct, float(beta_pass_at_k(a, b, 16)), "oracle_any accuracy at N = 16")


# A2: Schaeffer et al.: under a Beta(a, b) population, -log pass@k falls as k^-a
def test_a2_beta_coverage_closed_form_and_power_law():
    a, b = 0.3, 0.3
    rng = np.random.default_rng(0)
    p = rng.beta(a, b, 200_000)
    for k in (1, 3, 10):
        within_3se(1 - (1 - p) ** k, float(beta_pass_at_k(a, b, k)), f"pass@{k}")
    assert abs(loglog_slope(a, b, 1e4) + a) <= 0.02 * a
    # for larger b the slope approaches -a more slowly, but it does approach it
    for bb in (1.0, 10.0):
        gaps = [abs(loglog_slope(a, bb, k) + a) for k in (1e3, 1e4, 1e5, 1e6)]
        assert gaps == sorted(gaps, reverse=True) and gaps[-1] <= 0.02 * a, (bb, gaps)


# A3: ESC's expected number of samples (Li et al., ICLR 2024; the reference's control scheme)
@pytest.mark.parametrize("pi, closed", [((0.8, 0.1, 0.1), 14.62), ((0.5, 0.3, 0.2), 35.55), ((1.0,), 5.0)])
def test_a3_esc_expected_samples(pi, closed):
    assert expected_samples(pi, 5, 40) == pytest.approx(closed, abs=0.005)
    Q = 4000
    weights = pi[1:] if len(pi) > 1 else (1.0,)
    out = engine_run(queries(np.full(Q, pi[0]), weights), scenario(per_query=40.0), "esc", "majority", 40)
    if len(pi) == 1:
        assert (out.samples == 5).all()
    else:
        within_3se(out.samples, expected_samples(pi, 5, 40), "ESC samples")


# A4: Adaptive-Consistency's Beta rule (Aggarwal et al., EMNLP 2023; the reference's stopping_criterias.py)
def test_a4_beta_rule_table():
    v1, v2 = [3, 4, 5, 6, 7, 8], [0, 0, 1, 1, 2, 2]
    expected = [0.9375, 0.9688, 0.9375, 0.9648, 0.9453, 0.9673]
    np.testing.assert_allclose(beta_confidence(v1, v2), expected, atol=1e-3)
    assert list(beta_confidence(v1, v2) >= 0.95) == [False, True, False, True, False, True]


@pytest.mark.parametrize("p", [1.0, 0.0])
def test_a4_unanimous_answers_stop_after_exactly_four_samples(p):
    out = engine_run(queries(np.full(50, p)), scenario(per_query=40.0), "adaptive_consistency", "majority", 40)
    assert (out.samples == 4).all() and (out.rounds == 4).all()


# A5: elimination across queries (Zuo & Zhu, arXiv 2506.12721): p_i = i / n
def test_a5_elimination_beats_uniform_at_equal_budget():
    n = 200
    qs = queries(np.arange(1, n + 1) / n)
    sc = scenario(per_query=4.0, answers="unique")
    uni = engine_run(qs, sc, "uniform", "oracle_any", 4)
    eli = engine_run(qs, sc, "elimination", "resample_until_pass", 4)
    assert eli.samples.sum() == uni.samples.sum() == 4 * n
    assert eli.correct.mean() > uni.correct.mean()


def test_a5_budget_to_solve_all_grows_linearly_for_elimination_and_quadratically_for_uniform():
    """Elimination's budget is the sum of each query's first success; uniform needs n x the largest of them."""
    sizes = np.array([16, 32, 64, 128, 256])
    elim, unif = [], []
    for n in sizes:
        e, u = [], []
        for seed in range(12):
            qs = queries(np.arange(1, n + 1) / n, seed=seed)
            out = engine_run(qs, scenario(per_query=float(50 * n), answers="unique"), "elimination", "resample_until_pass", 50 * n)
            assert out.correct.all()
            e.append(out.samples.sum())
            u.append(n * out.samples.max())
        elim.append(np.mean(e))
        unif.append(np.mean(u))
    slope_e = np.polyfit(np.log(sizes), np.log(elim), 1)[0]
    slope_u = np.polyfit(np.log(sizes), np.log(unif), 1)[0]
    print(f"A5 slopes: elimination {slope_e:.3f}, uniform {slope_u:.3f}")
    assert 0.8 <= slope_e <= 1.3, slope_e
    assert 1.7 <= slope_u <= 2.3, slope_u


# A6: resample until the verifier passes, with false positives (Stroebl et al., arXiv 2411.17501)
def test_a6_resample_until_pass_tends_to_its_limit():
    p, fpr = 0.3, 0.2
    sc = scenario(verifier="binary", per_query=1000.0, max_per_query=1000)
    sc = dataclasses.replace(sc, verifier=dataclasses.replace(sc.verifier, tpr=1.0))
    out = engine_run(queries(np.full(20_000, p), fpr=fpr), sc, "elimination", "resample_until_pass", 1000)
    assert abs(out.correct.mean() - p / (p + (1 - p) * fpr)) <= 0.01


# A7: Best-of-Majority (arXiv 2510.03199)
def test_a7_bom_with_alpha_zero_is_best_of_n_sample_for_sample():
    sc = scenario(verifier="rm", n_queries=500, per_query=32.0)
    from simbench.worlds.inference.tape import make_queries

    qs = make_queries(sc, sc.cell_seed(0))
    bon = engine_run(qs, sc, {"kind": "uniform", "n": 32}, "bon", 32)
    bom = engine_run(qs, sc, {"kind": "uniform", "n": 32}, {"kind": "bom", "alpha": 0.0}, 32)
    np.testing.assert_array_equal(bom.answer, bon.answer)


def test_a7_bon_degrades_with_n_under_per_answer_bias_while_bom_does_not():
    """Every wrong sample a distinct answer with its own reward bias: more samples find more over-scored wrong answers."""
    from simbench.worlds.inference.tape import make_queries

    sc = scenario(verifier="rm", n_queries=3000, answers="unique", per_query=256.0)
    qs = make_queries(sc, sc.cell_seed(0))
    acc = {}
    for N in (16, 256):
        for name, picker in (("bon", "bon"), ("bom", {"kind": "bom", "alpha": 0.05})):
            acc[name, N] = engine_run(qs, sc, {"kind": "uniform", "n": N}, picker, N).correct.astype(float)
    drop = acc["bon", 16] - acc["bon", 256]
    gain = acc["bom", 256] - acc["bom", 16]
    se = lambda d: d.std(ddof=1) / np.sqrt(len(d))  # noqa: E731  paired over queries
    assert drop.mean() > 3 * se(drop), f"BoN: {acc['bon', 16].mean():.3f} at N = 16, {acc['bon', 256].mean():.3f} at 256"
    assert gain.mean() >= 0, f"BoM: {acc['bom', 16].mean():.3f} at N = 16, {acc['bom', 256].mean():.3f} at 256"


# A8: Brown et al.'s MATH plateau (Llama-3-8B-Instruct: coverage 82.9% at k = 100 and 98.44% at 10^4, majority vote
# about 41% over the range).  A single Beta fitted to the two coverage points implies pass@1 = 12.2%, too low for a 41%
# majority vote, so the population is a two-Beta mixture: 45% easy queries, Beta(4, 3) (a choice), and 55% hard ones,
# Beta(0.5335, 12.84), fitted so that the mixture's closed-form coverage is 82.9% at 100 and 98.44% at 10^4.
MATH_LLAMA3_8B = {"kind": "beta_mixture", "weights": [0.45, 0.55], "alphas": [4.0, 0.5335], "betas": [3.0, 12.84]}


def test_a8_majority_vote_plateaus_while_coverage_climbs():
    from simbench.worlds import parse_scenario
    from simbench.worlds.inference.tape import make_queries

    law = MATH_LLAMA3_8B
    cov = lambda k: sum(w * beta_pass_at_k(a, b, k) for w, a, b in zip(law["weights"], law["alphas"], law["betas"]))  # noqa: E731
    assert abs(cov(100) - 0.829) < 5e-4 and abs(cov(1e4) - 0.9844) < 5e-4
    sc = parse_scenario({"world": "inference", "name": "a8", "queries": {"n_queries": 500, "pass_rate": law},
                         "answers": {"wrong_concentration": 0.3}, "budget": {"per_query": [1e4]}, "strategies": [{"allocator": "uniform"}]})
    qs = make_queries(sc, sc.cell_seed(0))
    acc = {(k, picker): engine_run(qs, sc, {"kind": "uniform", "n": k}, picker, k).correct.mean()
           for k in (100, 10_000) for picker in ("majority", "oracle_any")}
    print(f"A8: {acc}")
    assert abs(acc[10_000, "majority"] - acc[100, "majority"]) < 0.02, acc
    assert acc[10_000, "oracle_any"] - acc[100, "oracle_any"] > 0.10, acc
    assert abs(acc[10_000, "majority"] - 0.41) < 0.05, acc  # eta = 0.3 puts the plateau near Brown's 41%


# Snell et al.'s qualitative check: at equal budget, allocation by difficulty bins is at least as good as uniform,
# and gains most on a wide population
def test_difficulty_bins_beat_uniform_most_on_a_wide_population():
    gains = {}
    for name, (a, b) in (("narrow", (20.0, 60.0)), ("wide", (0.3, 0.9))):
        p = np.random.default_rng(3).beta(a, b, 2000)
        qs = queries(p)
        sc = scenario(per_query=16.0, answers="unique")
        uni = engine_run(qs, sc, "uniform", "oracle_any", 16)
        bins = engine_run(qs, sc, {"kind": "difficulty_bins", "oracle_difficulty": True}, "oracle_any", 16)
        assert bins.samples.sum() <= 16 * len(p)
        gains[name] = bins.correct.mean() - uni.correct.mean()
    print(f"difficulty_bins minus uniform at 16 samples per query: {gains}")
    assert gains["narrow"] >= 0 and gains["wide"] > gains["narrow"], gains
