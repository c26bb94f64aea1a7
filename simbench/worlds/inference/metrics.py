"""The metrics of one run: accuracy, coverage@k, budget used, latency, E3, abstentions and the allocation by difficulty."""
from __future__ import annotations

import numpy as np

from simbench.worlds.inference.allocators._curves import quantile_bins
from simbench.worlds.inference.answers import unbiased_pass_at_k
from simbench.worlds.inference.engine import Outcome
from simbench.worlds.inference.latency import UNIT
from simbench.worlds.inference.tape import NO_ANSWER, Queries

QUINTILES = 5


def metrics(out: Outcome, queries: Queries, ks: tuple[int, ...]) -> dict:
    """One results row's metrics.

    ``accuracy``: the picked answer is correct (an abstention is wrong); ``coverage@k``: Brown et al.'s unbiased
    pass@k over the queries with at least k samples (nan if none); ``latency_p50``/``_p95``: over queries, the sum of
    their rounds (``latency_unit``); ``E3 = accuracy^2 / mean tokens per query`` (Plan-and-Budget);
    ``alloc_q1..q5``: mean samples per query in each true-difficulty quintile, q1 the hardest.
    """
    rec = out.record
    cols = np.arange(rec.answer.shape[1])[None, :] < rec.n[:, None]
    correct = ((rec.answer == 0) & cols).sum(axis=1)
    acc = float(out.correct.mean())
    tokens_per_query = float(out.tokens.mean())
    row = {"accuracy": acc, "abstain_rate": float((out.answer == NO_ANSWER).mean()),
           "samples": int(out.samples.sum()), "tokens": int(out.tokens.sum()),
           "samples_per_query": float(out.samples.mean()), "tokens_per_query": tokens_per_query,
           "latency_p50": float(np.percentile(out.latency, 50)), "latency_p95": float(np.percentile(out.latency, 95)),
           "latency_unit": UNIT, "rounds_max": int(out.rounds.max(initial=0)),
           "E3": acc * acc / tokens_per_query if tokens_per_query > 0 else float("nan")}
    for k in ks:
        est = unbiased_pass_at_k(out.samples, correct, k)
        row[f"coverage@{k}"] = float(np.nanmean(est)) if np.isfinite(est).any() else float("nan")
    bins = quantile_bins(queries.p, queries.keys, QUINTILES)
    for b in range(QUINTILES):
        members = bins == b
        row[f"alloc_q{b + 1}"] = float(out.samples[members].mean()) if members.any() else float("nan")
    return row
