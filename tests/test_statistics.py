"""Statistics of reports on adversarial inputs: supports, censoring, the default target, pairing, determinism."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from simbench.core import stats
from simbench.worlds.rl.results import at_equal_budget, axis_speedups, default_target, level_target, summarise


def frame(runs: dict[str, list[tuple[float, list[float]]]]) -> pd.DataFrame:
    """Rows of synthetic runs: per allocator, one (tokens per step, test pass by step) per seed."""
    rows = []
    for alloc, seeds in runs.items():
        for seed, (per_step, passes) in enumerate(seeds):
            rows += [{"allocator": alloc, "seed": seed, "step": k, "cum_tokens": per_step * k, "test_pass": p}
                     for k, p in enumerate(passes)]
    return pd.DataFrame(rows)


RISING = [0.30, 0.32, 0.34, 0.36, 0.38, 0.40]
FLAT = [0.30, 0.30, 0.31, 0.30, 0.31, 0.30]


def in_support(s: pd.DataFrame) -> None:
    """Every interval of a summary lies in its quantity's support and brackets its estimate."""
    for col, (lo, hi) in {"final_test_pass": (0, 1), "tokens_to_target_median": (0, math.inf)}.items():
        m, a, b = s[col], s[col + "_ci_low"], s[col + "_ci_high"]
        ok = a.notna()
        assert ((a[ok] >= lo) & (b[ok] <= hi) & (a[ok] <= m[ok]) & (m[ok] <= b[ok])).all(), s[[col, col + "_ci_low", col + "_ci_high"]]
    assert (s["tokens_to_target_median"] > 0).all()


def test_kaplan_meier_median_without_censoring_is_the_sample_median():
    rng = np.random.default_rng(1)
    for n in range(1, 10):
        t = rng.exponential(1.0, n)
        assert stats.km_median(t, np.ones(n, bool))[0] == pytest.approx(np.median(t), rel=1e-12)


def test_kaplan_meier_median_with_censoring_by_hand():
    # S: 5/6 at 1, (5/6)(3/4) = 0.625 at 3, 0.625 * 1/2 = 0.3125 at 5: the median is 5
    assert stats.km_median([1, 2, 3, 4, 5, 6], [1, 0, 1, 0, 1, 1])[0] == 5
    # S = 1/2 exactly from 2 to the next event at 4: the midpoint
    assert stats.km_median([1, 2, 3, 4], [1, 1, 0, 1])[0] == 3
    # fewer than half observed: the curve never falls to 1/2
    assert stats.km_median([1, 2, 3, 4], [1, 0, 0, 0])[0] == math.inf
    assert stats.km_median([5.0], [False])[0] == math.inf
    # rows are independent samples
    np.testing.assert_array_equal(stats.km_median([[1, 2, 3], [3, 2, 1]], [[1, 1, 1], [0, 0, 0]]), [2, math.inf])


@pytest.mark.parametrize("values, support", [
    ([0.001, 0.002, 0.08], stats.UNIT),          # pass rates near 0
    ([0.999, 0.97, 0.9995], stats.UNIT),         # near 1
    ([1e3, 4e8], stats.POSITIVE),                # token counts of two seeds, far apart
    ([0.99, 0.45], stats.AT_MOST_ONE),           # R^2 of two seeds
])
def test_intervals_stay_in_the_support_where_a_plain_t_interval_leaves_it(values, support):
    m, lo, hi = stats.mean_ci(values, support)
    assert support[0] < lo < m < hi < support[1]
    v = np.asarray(values)
    half = sps.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    assert m - half < support[0] or m + half > support[1], "the plain interval must leave the support for this case to test anything"


def test_intervals_far_from_the_bounds_agree_with_the_t_interval():
    # the delta method is exact to first order: with a small standard error the two intervals coincide
    v = 0.5 + 1e-4 * np.array([-1.0, 0.3, 0.7, -0.2, 0.4])
    m, lo, hi = stats.mean_ci(v, stats.UNIT)
    half = sps.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    assert (lo, hi) == pytest.approx((m - half, m + half), rel=1e-9)


def test_one_value_gives_no_interval_and_values_outside_the_support_are_refused():
    assert stats.mean_ci([0.3], stats.UNIT)[0] == 0.3 and math.isnan(stats.mean_ci([0.3], stats.UNIT)[1])
    assert math.isnan(stats.mean_ci([0.1], stats.difference_support(stats.UNIT))[2])
    with pytest.raises(ValueError, match="support"):
        stats.mean_ci([0.5, 1.2], stats.UNIT)


def test_one_seed_gives_estimates_without_intervals():
    df = frame({"uniform": [(100, RISING)], "dapo": [(50, RISING)]})
    s = summarise(df)
    assert s["seeds"].tolist() == [1, 1] and s["seeds_reaching_target"].tolist() == [1, 1]
    assert s["final_test_pass_ci_low"].isna().all() and s["speedup_vs_uniform_ci_low"].isna().all()
    assert s["speedup_vs_uniform"].tolist() == pytest.approx([1.0, 2.0])
    assert at_equal_budget(df)["gain_vs_uniform_ci_low"].isna().all()


def test_two_seeds_give_intervals_inside_the_support():
    df = frame({"uniform": [(100, RISING), (120, [0.2, 0.25, 0.3, 0.35, 0.45, 0.6])],
                "dapo": [(60, RISING), (300, [0.2, 0.3, 0.4, 0.5, 0.7, 0.99])]})
    s = summarise(df)
    assert s["final_test_pass_ci_low"].notna().all()
    in_support(s)


def test_censored_seeds_are_counted_not_dropped():
    # 3 of 8 seeds reach the target at a tenth of the baseline's tokens, 5 never do: the mean over
    # the 3 would call this allocator 10x faster; the Kaplan-Meier median says it did not get there
    base = [(100, RISING)] * 8
    lucky = [(10, RISING)] * 3 + [(10, FLAT)] * 5
    s = summarise(frame({"uniform": base, "lucky": lucky})).set_index("allocator")
    assert s.loc["lucky", "seeds_reaching_target"] == 3
    assert s.loc["lucky", "tokens_to_target_median"] == math.inf
    assert math.isnan(s.loc["lucky", "speedup_vs_uniform"])
    # 5 of 8 reach it: the median is the Kaplan-Meier one, not the median of the 5
    mixed = [(10 * (k + 1), RISING) for k in range(5)] + [(100, FLAT)] * 3
    s = summarise(frame({"uniform": base, "mixed": mixed})).set_index("allocator")
    target = default_target(frame({"uniform": base}), "uniform")
    t = np.array([10 * (k + 1) * 4.5 for k in range(5)] + [500.0] * 3)  # reached at step 4.5 (gain 0.9 x 0.1 = 0.09)
    assert target.value == pytest.approx(0.09)
    e = np.array([True] * 5 + [False] * 3)
    assert s.loc["mixed", "tokens_to_target_median"] == pytest.approx(stats.km_median(t, e)[0]) == pytest.approx((180 + 225) / 2)
    assert np.median(t[e]) == 135  # what dropping the censored seeds would report
    in_support(s.reset_index())


def test_all_seeds_censored_and_a_baseline_that_never_reaches_a_target():
    df = frame({"uniform": [(100, RISING)] * 3, "stuck": [(100, FLAT)] * 3})
    s = summarise(df).set_index("allocator")
    assert s.loc["stuck", "seeds_reaching_target"] == 0 and s.loc["stuck", "tokens_to_target_median"] == math.inf
    assert math.isnan(s.loc["stuck", "speedup_vs_uniform"])
    # a level no run reaches: nobody reaches it, no speedup is claimed
    s = summarise(df, target=level_target(0.9, "test")).set_index("allocator")
    assert (s["seeds_reaching_target"] == 0).all() and s["speedup_vs_uniform"].isna().all()
    # a baseline that does not learn has no default target: said, not crashed
    t = default_target(frame({"uniform": [(100, [0.3, 0.29, 0.3])] * 2}), "uniform")
    assert math.isnan(t.value) and "never rises" in t.describe()
    s = summarise(frame({"uniform": [(100, [0.3, 0.29, 0.3])] * 2, "dapo": [(100, RISING)] * 2}))
    assert (s["seeds_reaching_target"] == 0).all() and s["speedup_vs_uniform"].isna().all()


def test_default_target_is_reached_by_every_baseline_seed():
    # noisy curves from different initial values: a common level would be met by some seeds at step 0
    rng = np.random.default_rng(3)
    walks = {a: [(float(rng.uniform(50, 150)), list(np.clip(rng.uniform(0.25, 0.35) + np.cumsum(rng.normal(0.01, 0.02, 30)), 0, 1)))
                 for _ in range(8)] for a in ("uniform", "other")}
    df = frame(walks)
    target = default_target(df, "uniform")
    assert target.kind == "gain" and target.value > 0
    s = summarise(df, target=target).set_index("allocator")
    assert s.loc["uniform", "seeds_reaching_target"] == 8
    in_support(s.reset_index())


def test_the_speedup_is_a_paired_bootstrap():
    # every seed: the allocator needs exactly half the baseline's tokens, but seeds differ 100-fold;
    # resampling seeds jointly gives exactly 2 in every resample, resampling them apart would not
    per_step = [1, 3, 10, 30, 100]
    df = frame({"uniform": [(t, RISING) for t in per_step], "half": [(t / 2, RISING) for t in per_step]})
    s = summarise(df).set_index("allocator")
    lo, hi = s.loc["half", ["speedup_vs_uniform_ci_low", "speedup_vs_uniform_ci_high"]]
    assert s.loc["half", "speedup_vs_uniform"] == pytest.approx(2.0) and lo == pytest.approx(2.0) and hi == pytest.approx(2.0)
    assert s.loc["half", "tokens_to_target_median_ci_high"] > 10 * s.loc["half", "tokens_to_target_median_ci_low"]


def test_speedups_on_every_axis_measure_each_axis_separately():
    # "dense" draws twice the samples per step of the baseline, each half as long, and learns twice as fast per
    # step: 2x on steps, 1x on samples, 2x on tokens; hours appear only with the cost model's columns
    rising = [0.30, 0.34, 0.38, 0.42, 0.46, 0.50, 0.54, 0.58, 0.62]
    slow = [0.30, 0.32, 0.34, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46]
    rows = []
    for seed in range(3):
        for alloc, passes, samples, tokens in (("uniform", slow, 8, 800), ("dense", rising, 16, 800)):
            rows += [{"allocator": alloc, "seed": seed, "step": k, "cum_samples": samples * k, "cum_tokens": tokens * k,
                      "test_pass": p} for k, p in enumerate(passes)]
    df = pd.DataFrame(rows)
    s = axis_speedups(df, "uniform", level_target(0.45, "test")).set_index("allocator")
    assert s.loc["dense", "steps_speedup"] == pytest.approx(2.0)
    assert s.loc["dense", "samples_speedup"] == pytest.approx(1.0)
    assert s.loc["dense", "tokens_speedup"] == pytest.approx(2.0)
    assert s.loc["uniform", ["steps_speedup", "samples_speedup", "tokens_speedup"]].tolist() == pytest.approx([1.0] * 3)
    assert not any(c.startswith("hours") for c in s.columns)


def test_the_gain_at_equal_budget_is_paired():
    # every seed: the allocator is 0.01 above the baseline at the same tokens, while seeds differ by 0.3
    starts = [0.1, 0.25, 0.4]
    df = frame({"uniform": [(100, [s + 0.01 * k for k in range(6)]) for s in starts],
                "better": [(100, [s + 0.01 + 0.01 * k for k in range(6)]) for s in starts]})
    g = at_equal_budget(df).set_index("allocator")
    assert (g.loc["better", ["gain_vs_uniform", "gain_vs_uniform_ci_low", "gain_vs_uniform_ci_high"]].to_numpy(float)
            == pytest.approx([0.01, 0.01, 0.01]))
    lo, hi = g.loc["better", ["test_pass_at_budget_ci_low", "test_pass_at_budget_ci_high"]]
    assert 0 < lo and hi < 1 and hi - lo > 0.3  # unpaired, the seeds' spread would swamp the gain
    # two seeds, differences of different signs: a wide interval, still inside [-1, 1]
    df = frame({"uniform": [(100, [0.3, 0.5]), (100, [0.3, 0.5])], "noisy": [(100, [0.3, 0.9]), (100, [0.3, 0.2])]})
    g = at_equal_budget(df).set_index("allocator")
    assert -1 < g.loc["noisy", "gain_vs_uniform_ci_low"] < -0.3 and 0.1 < g.loc["noisy", "gain_vs_uniform_ci_high"] < 1


def test_summaries_are_deterministic():
    rng = np.random.default_rng(5)
    df = frame({a: [(float(rng.uniform(50, 150)), list(0.3 + np.cumsum(rng.uniform(0, 0.02, 20)))) for _ in range(6)]
                for a in ("uniform", "dapo", "gvm")})
    pd.testing.assert_frame_equal(summarise(df), summarise(df))
    pd.testing.assert_frame_equal(at_equal_budget(df), at_equal_budget(df))
