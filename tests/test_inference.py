"""The inference world's machinery: scenario errors, the tapes (against a slow reference), the answer kernels, the
engine's contract checks, token budgets and length caps, determinism across workers, and its report."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from simbench import registry
from simbench.core.config import ConfigError
from simbench.testing.inference import run_once, scenario
from simbench.worlds import parse_scenario
from simbench.worlds.inference import answers as kernels
from simbench.worlds.inference import tape
from simbench.worlds.inference.engine import run
from simbench.worlds.inference.roles import AllocatorError, InferenceAllocator
from simbench.worlds.inference.tape import Record, make_queries

MASK = (1 << 64) - 1


def _mix(x):
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _uniform(key, j, f):
    b = _mix(int(key) ^ _mix((j + 0x9E3779B97F4A7C15) & MASK))
    x = _mix((b + (f + 1) * 0x9E3779B97F4A7C15) & MASK)
    return ((x >> 11) + 0.5) / 2.0 ** 53


def _normal(key, j, f):
    return math.sqrt(-2 * math.log(_uniform(key, j, f))) * math.cos(2 * math.pi * _uniform(key, j, f + 1))


def slow_sample(qs, q, j, sc):
    """Sample j of query q's tape, written out from the model's definition."""
    L, V, M = sc.queries.lengths, sc.verifier, qs.wcum.shape[1]
    key = qs.keys[q]
    correct = _uniform(key, j, 0) < qs.p[q]
    if correct:
        a = 0
    elif sc.answers.model == "unique":
        a = M + 1 + j
    else:
        u = _uniform(key, j, 1) * qs.wcum[q, -1]
        a = 1 + next((m for m in range(M) if u < qs.wcum[q, m]), M - 1)
    mean = qs.mean_len[q] * (1 if correct else L.wrong_factor)
    length = min(max(int(round(mean * math.exp(L.sigma * _normal(key, j, 2) - L.sigma ** 2 / 2))), 1), L.max)
    if V.kind == "rm":
        b = V.sigma_b * _normal(key, j, 7) if a > M else qs.bias[q, a]
        score = V.mu * correct + b + V.sigma_eps * _normal(key, j, 5)
        ok = score >= V.threshold
    else:
        ok = correct if V.kind == "oracle" else _uniform(key, j, 4) < (V.tpr if correct else qs.fpr[q])
        score = float(ok)
    return a, length, bool(ok), score


@pytest.mark.parametrize("verifier, answers", [("oracle", "dirichlet"), ("binary", "dirichlet"), ("rm", "dirichlet"), ("rm", "unique")])
def test_tape_kernel_matches_the_slow_reference(verifier, answers):
    sc = scenario(3, verifier=verifier, answers=answers, n_queries=12)
    qs = make_queries(sc, sc.cell_seed(0))
    rec = Record(qs, sc)
    rec.draw(np.arange(12) % 5 + 1)
    for q in range(12):
        for j in range(rec.n[q]):
            a, length, ok, score = slow_sample(qs, q, j, sc)
            assert (rec.answer[q, j], rec.length[q, j], bool(rec.accept[q, j])) == (a, length, ok), (q, j)
            assert rec.score[q, j] == pytest.approx(score, rel=1e-12, abs=1e-12)


def test_tape_prefixes_do_not_depend_on_how_they_are_drawn():
    """Blocks of any size give the same tape: 16 at once, or 3 + 7 + 6."""
    sc = scenario(1, verifier="rm", n_queries=30)
    qs = make_queries(sc, sc.cell_seed(0))
    one, parts = Record(qs, sc), Record(qs, sc)
    one.draw(np.full(30, 16))
    for k in (3, 7, 6):
        parts.draw(np.full(30, k))
    for f in ("answer", "length", "accept", "score"):
        np.testing.assert_array_equal(getattr(one, f)[:, :16], getattr(parts, f)[:, :16])


def test_uniforms_are_uniform():
    keys = np.random.SeedSequence(0).generate_state(20_000, np.uint64)
    u = tape.field_uniforms(keys, np.zeros(20_000, np.int64), 0)
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    chi2 = ((counts - 1000) ** 2 / 1000).sum()
    assert 0 < u.min() and u.max() < 1 and chi2 < 43.8  # the 0.999 quantile of chi-square with 19 degrees of freedom


def slow_tally(row, weight, u):
    totals = Counter()
    for a, w in zip(row, weight):
        if a >= 0:
            totals[a] += w
    if not totals:
        return -1
    best = max(totals.values())
    tied = sorted(a for a, t in totals.items() if t == best)
    return tied[int(u * len(tied))]


def test_answer_kernels_match_slow_references():
    rng = np.random.default_rng(0)
    Q, cap = 300, 12
    answer = rng.integers(-1, 4, (Q, cap))
    score = np.round(rng.normal(size=(Q, cap)), 1)  # rounded: ties happen
    n = rng.integers(0, cap + 1, Q)
    u = rng.random(Q)
    ones = np.ones((Q, cap))
    win = kernels.tally(answer, n, np.empty((Q, 0)), u, 0.0)[0]
    wwin = kernels.tally(answer, n, score + 3, u, 0.0)[0]
    for q in range(Q):
        row = answer[q, :n[q]]
        assert win[q] == slow_tally(row, ones[q, :n[q]], u[q])
        assert wwin[q] == slow_tally(row, score[q, :n[q]] + 3, u[q])
        ok = [j for j in range(n[q]) if row[j] >= 0]
        best = max(ok, key=lambda j: (score[q, j], -j)) if ok else None
        assert kernels.best_scored(answer, score, n, 0.0)[q] == (row[best] if ok else -1)
        first = next((row[j] for j in range(n[q]) if score[q, j] > 1.0), -1)
        assert kernels.first_accepted(answer, score > 1.0, n)[q] == first


def test_unbiased_pass_at_k():
    est = kernels.unbiased_pass_at_k(np.array([10, 10, 10, 3]), np.array([0, 1, 10, 1]), 5)
    np.testing.assert_allclose(est[:3], [0.0, 0.5, 1.0])
    assert np.isnan(est[3])


class Greedy(InferenceAllocator):
    """An allocator that breaks its contract: 10 samples more than the budget."""

    name = "greedy"

    def allocate(self, view):
        return np.full(view.n_queries, view.room() // view.n_queries + 10)


@pytest.mark.parametrize("bad, message", [(lambda v: np.full(v.n_queries, 1.0), "integers"),
                                          (lambda v: -np.ones(v.n_queries, np.int64), "negative"),
                                          (lambda v: np.ones(v.n_queries + 1, np.int64), "shape")])
def test_engine_raises_allocator_error_on_broken_contracts(bad, message):
    sc = scenario()
    greedy = Greedy()
    with pytest.raises(AllocatorError, match="over budget|asked for"):
        run_once(sc, greedy, registry.make("picker", "majority"))
    greedy.allocate = bad
    with pytest.raises(AllocatorError, match=message):
        run_once(sc, greedy, registry.make("picker", "majority"))


def test_max_per_query_breach_is_an_allocator_error():
    sc = scenario(max_per_query=2)
    with pytest.raises(AllocatorError, match="max_per_query"):
        run_once(sc, _Fixed(3), registry.make("picker", "majority"))


class _Fixed(InferenceAllocator):
    """k samples per query in the first wave, whatever the cap."""

    name = "fixed"

    def __init__(self, k):
        super().__init__()
        self.k = k

    def allocate(self, view):
        return np.full(view.n_queries, self.k if view.wave == 0 else 0, np.int64)


def test_token_budget_is_kept_exactly_and_spent():
    sc = scenario(unit="tokens", per_query=1000.0)
    out, _, total = run_once(sc, registry.make("inference_allocator", "uniform"), registry.make("picker", "majority"))
    assert out.tokens.sum() <= total and out.tokens.sum() > total - sc.queries.lengths.max


def test_length_caps_cut_responses_and_their_answers():
    sc = scenario(n_queries=200)
    cap = registry.make("inference_allocator", {"kind": "plan_and_budget", "budgets": [50.0]})
    out, _, _ = run_once(sc, cap, registry.make("picker", "majority"))
    rec = out.record
    assert (rec.length[:, 0] <= 50).all()
    full, _, _ = run_once(sc, registry.make("inference_allocator", {"kind": "uniform", "n": 1}), registry.make("picker", "majority"))
    cut = full.record.length[:, 0] > 50
    assert cut.any() and (rec.answer[cut, 0] == -1).all()
    np.testing.assert_array_equal(rec.answer[~cut, 0], full.record.answer[~cut, 0])


def test_e3_is_accuracy_squared_over_mean_tokens():
    """Plan-and-Budget's E3 = A^2 / T, from the picked answers and the tokens of every sample drawn (cut ones included)."""
    from simbench.worlds.inference.metrics import metrics

    sc = scenario(n_queries=500)
    qs = make_queries(sc, sc.cell_seed(0))
    out = run(qs, sc, registry.make("inference_allocator", {"kind": "plan_and_budget", "n": 3}), registry.make("picker", "majority"), 1e9)
    rec = out.record
    tokens = sum(int(rec.length[q, :rec.n[q]].sum()) for q in range(500))
    accuracy = float(np.mean(out.answer == 0))
    m = metrics(out, qs, (1,))
    assert m["tokens"] == tokens and m["accuracy"] == accuracy
    assert m["E3"] == pytest.approx(accuracy ** 2 / (tokens / 500), rel=1e-12)


def _data(sc):
    from simbench.core.config import to_dict

    d = to_dict(sc)
    d["world"] = "inference"
    return d


ESC_BOM = [{"allocator": "esc", "picker": {"kind": "bom"}}]


@pytest.mark.parametrize("patch, key, allowed", [
    ({"queries": {"n_queries": 0}}, "queries.n_queries", "an integer >= 1"),
    ({"answers": {"model": "many"}}, "answers.model", "one of 'dirichlet', 'unique'"),
    ({"answers": {"wrong_concentration": -1.0}}, "answers.wrong_concentration", "a positive number"),
    ({"verifier": {"kind": "judge"}}, "verifier.kind", "one of 'oracle', 'binary', 'rm'"),
    ({"verifier": {"fpr0": 1.5}}, "verifier.fpr0", "a probability in [0, 1]"),
    ({"budget": {"per_query": [4.0, 2.0]}}, "budget.per_query", "increasing distinct numbers"),
    ({"budget": {"unit": "flops"}}, "budget.unit", "one of 'samples', 'tokens'"),
    ({"budget": {"unit": "tokens", "per_query": [10.0]}}, "budget.per_query", "at least one mean response"),
    ({"queries": {"pass_rate": {"a": 0.0}}}, "queries.pass_rate.a", "a positive number"),
    ({"queries": {"colour": 1}}, "queries.colour", "unknown key"),
    ({"strategies": [{"allocator": "nope"}]}, "strategies[0].allocator.kind", "a registered inference_allocator"),
    ({"strategies": [{"allocator": "esc", "picker": {"kind": "bom", "alpha": 2.0}}]}, "strategies[0].picker.alpha", "a share in [0, 1]"),
    ({"strategies": [{"allocator": {"kind": "esc", "window": 0}}]}, "strategies[0].allocator.window", "an integer >= 1"),
    ({"strategies": [{"allocator": "esc", "picker": "vote"}]}, "strategies[0].picker.kind", "a registered picker"),
    ({"strategies": ESC_BOM + ESC_BOM}, "strategies", "distinct strategy names"),
    ({"report": {"baseline": "nope"}}, "report.baseline", "the name of one of the strategies"),
])
def test_bad_keys_are_named(patch, key, allowed):
    data = {"world": "inference", "name": "bad", "strategies": ESC_BOM}
    for section, value in patch.items():
        data[section] = value
    with pytest.raises(ConfigError) as err:
        parse_scenario(data, "bad.toml")
    msg = str(err.value)
    assert msg.startswith(f"bad.toml: key '{key}' = ") and allowed in msg and "\n" not in msg, msg


def test_pass_rate_table_errors_name_the_key_and_line(tmp_path):
    (tmp_path / "p.csv").write_text("p\n0.5\n1.5\n")
    data = {"world": "inference", "name": "t", "queries": {"pass_rate": {"kind": "table", "path": "p.csv"}},
            "strategies": [{"allocator": "uniform"}]}
    with pytest.raises(ConfigError, match=r"bad.toml: key 'queries.pass_rate.path' = 1.5 .*p.csv:3"):
        parse_scenario(data, "bad.toml", str(tmp_path))
    (tmp_path / "p.csv").write_text("p\n0.5\n0.25\n")
    sc = parse_scenario(data, "ok.toml", str(tmp_path))
    qs = make_queries(sc, sc.cell_seed(0))
    np.testing.assert_array_equal(qs.p[:4], [0.5, 0.25, 0.5, 0.25])


def test_same_bytes_with_any_number_of_workers(tmp_path):
    """``simbench run`` of a small scenario gives identical results with one worker and with two."""
    from simbench.cli import main

    text = """world = "inference"\nname = "w"\nseeds = 2\n[queries]\nn_queries = 60\n[budget]\nper_query = [2, 8]\n
[[strategies]]\nallocator = "uniform"\n[[strategies]]\nallocator = "esc"\n[[strategies]]\nallocator = "elimination"\n"""
    (tmp_path / "w.toml").write_text(text)
    for w in (1, 2):
        assert main(["run", str(tmp_path / "w.toml"), "--out", str(tmp_path / f"o{w}"), "--workers", str(w), "--quiet"]) == 0
    import pandas as pd

    a, b = pd.read_parquet(tmp_path / "o1" / "results.parquet"), pd.read_parquet(tmp_path / "o2" / "results.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert (tmp_path / "o1" / "summary.csv").read_bytes() == (tmp_path / "o2" / "summary.csv").read_bytes()
    assert main(["report", str(tmp_path / "o1")]) == 0
    assert (tmp_path / "o1" / "report" / "inference_accuracy.png").exists()
    assert main(["compare", str(tmp_path / "o1"), str(tmp_path / "o2")]) == 0


def test_answer_tables_give_each_query_its_wrong_answers(tmp_path):
    (tmp_path / "w.csv").write_text("w1,w2,w3\n1,0,0\n0,0,2\n")
    data = {"world": "inference", "name": "t", "queries": {"n_queries": 40, "pass_rate": {"kind": "beta", "a": 1.0, "b": 3.0}},
            "answers": {"model": "table", "path": "w.csv"}, "strategies": [{"allocator": "uniform"}]}
    sc = parse_scenario(data, "t.toml", str(tmp_path))
    assert set(sc.files()) == {"answers.path"}
    qs = make_queries(sc, sc.cell_seed(0))
    rec = Record(qs, sc)
    rec.draw(np.full(40, 20))
    wrong = rec.answer[rec.answer > 0]
    assert set(np.unique(rec.answer[0::2][rec.answer[0::2] > 0])) == {1} and set(np.unique(rec.answer[1::2][rec.answer[1::2] > 0])) == {3}
    assert wrong.size > 0
    for text, allowed in (("w1,w3\n1,1\n", "header is w1, w2"), ("w1,w2\n1,x\n", "w.csv:2"), ("w1,w2\n0,0\n", "positive sum at"),
                          ("w1\n", "at least one row")):
        (tmp_path / "w.csv").write_text(text)
        with pytest.raises(ConfigError, match="bad.toml: key 'answers.path'") as err:
            parse_scenario(data, "bad.toml", str(tmp_path))
        assert allowed in str(err.value)
    with pytest.raises(ConfigError, match="answers.path"):
        parse_scenario({**data, "answers": {"model": "table"}}, "bad.toml", str(tmp_path))
