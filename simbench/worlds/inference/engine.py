"""Run one strategy on the queries of one cell: waves until the budget is spent or the allocator returns zeros.

Every wave the allocator sees the samples drawn so far (``View``) and answers new
samples per query; the engine checks the answer (shape, integers, non-negative,
the per-query cap, the budget) and raises ``AllocatorError`` naming the allocator
and what it broke.  Samples come from the queries' tapes in order.  With a token
budget a wave is priced once drawn: if it would overspend, its samples are kept
in order of their position in the wave (ties by query key) while they fit, and
the rest are not generated.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core._numba import jit
from simbench.core.roles import RunInfo
from simbench.worlds.inference.latency import round_time
from simbench.worlds.inference.roles import Allocation, AllocatorError, InferenceAllocator, Picker, View
from simbench.worlds.inference.tape import NO_ANSWER, Queries, Record


@dataclass
class Outcome:
    """Per query after a run: the picked answer, samples, tokens, rounds, latency; the record of samples; waves run."""

    answer: np.ndarray
    samples: np.ndarray
    tokens: np.ndarray
    rounds: np.ndarray
    latency: np.ndarray
    record: Record
    waves: int

    @property
    def correct(self) -> np.ndarray:
        return self.answer == 0


@jit
def wave_stats(length, accept, score, start, count):
    """Per query, over this wave's samples only: tokens, the longest sample, any accepted, the best score."""
    Q = start.shape[0]
    tokens = np.zeros(Q, np.int64)
    longest = np.zeros(Q, np.int64)
    accepted = np.zeros(Q, np.bool_)
    best = np.full(Q, -np.inf)
    for q in range(Q):
        for j in range(start[q], start[q] + count[q]):
            tokens[q] += length[q, j]
            longest[q] = max(longest[q], length[q, j])
            accepted[q] |= accept[q, j]
            best[q] = max(best[q], score[q, j])
    return tokens, longest, accepted, best


def _check(alloc, allocator, view: View) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    a = alloc if isinstance(alloc, Allocation) else Allocation(alloc)
    count = np.asarray(a.count)
    Q = view.n_queries
    name = f"allocator {allocator.name!r} ({allocator!r}) at wave {view.wave}"
    if count.shape != (Q,) or not np.issubdtype(count.dtype, np.integer):
        raise AllocatorError(f"{name} returned {count.dtype} of shape {count.shape}: expected {Q} integers, one per query")
    if (count < 0).any():
        raise AllocatorError(f"{name} returned a negative count ({int(count.min())}) for query {int(np.argmin(count))}")
    if view.max_per_query and ((view.n + count) > view.max_per_query).any():
        q = int(np.argmax(view.n + count))
        raise AllocatorError(f"{name} gave query {q} {int(view.n[q] + count[q])} samples in all, over budget.max_per_query = {view.max_per_query}")
    # a sample costs at least one token, so no allocation may ask for more samples than units left (tokens are
    # checked exactly once drawn)
    if int(count.sum()) > view.remaining + 1e-9:
        raise AllocatorError(f"{name} asked for {int(count.sum())} samples with {view.remaining:g} {view.unit} left")
    for key, arr in (("cap", a.cap), ("fraction", a.fraction)):
        if arr is not None and np.shape(arr) != (Q,):
            raise AllocatorError(f"{name} returned a {key} of shape {np.shape(arr)}: expected ({Q},)")
    if a.fraction is not None and not ((np.asarray(a.fraction) > 0) & (np.asarray(a.fraction) <= 1)).all():
        raise AllocatorError(f"{name} returned a length fraction outside (0, 1]")
    if a.cap is not None and (np.asarray(a.cap) < 1).any():
        raise AllocatorError(f"{name} returned a length cap below 1 token")
    return count.astype(np.int64), a.cap, a.fraction


def _cut(rec: Record, start: np.ndarray, count: np.ndarray, cap, fraction) -> None:
    """Cut this wave's samples at the length cap (or fraction of their length): a cut response has no answer."""
    if cap is None and fraction is None:
        return
    for q in np.flatnonzero(count):
        cols = slice(start[q], start[q] + count[q])
        ln = rec.length[q, cols]
        limit = np.full(ln.shape, np.iinfo(np.int64).max)
        if cap is not None:
            limit = np.minimum(limit, int(cap[q]))
        if fraction is not None and fraction[q] < 1:
            limit = np.minimum(limit, np.ceil(fraction[q] * ln).astype(np.int64))
        over = ln > limit
        rec.answer[q, cols] = np.where(over, NO_ANSWER, rec.answer[q, cols])
        rec.accept[q, cols] &= ~over
        rec.score[q, cols] = np.where(over, -np.inf, rec.score[q, cols])
        rec.length[q, cols] = np.minimum(ln, limit)


def _fit_tokens(rec: Record, start: np.ndarray, count: np.ndarray, keys: np.ndarray, room: float) -> np.ndarray:
    """The prefix of this wave's samples (by position in the wave, then query key) that ``room`` tokens pay for."""
    q = np.repeat(np.arange(len(count)), count)
    pos = np.arange(len(q)) - np.repeat(np.cumsum(count) - count, count)
    order = np.lexsort((keys[q], pos))
    cost = np.cumsum(rec.length[q[order], start[q[order]] + pos[order]])
    keep = int(np.searchsorted(cost, room, side="right"))
    kept = np.bincount(q[order[:keep]], minlength=len(count))
    rec.n -= count - kept
    return kept


def run(queries: Queries, scenario, allocator: InferenceAllocator, picker: Picker, total: float, rng_seed=None) -> Outcome:
    """Run ``allocator`` then ``picker`` on ``queries`` with a budget of ``total`` (in ``scenario.budget.unit``)."""
    Q, unit = len(queries), scenario.budget.unit
    rec = Record(queries, scenario)
    info = RunInfo(Q, np.zeros(Q, np.int32), ("all",), Q, unit, total, scenario.queries.lengths.max)
    allocator.reset(info, np.random.default_rng(rng_seed))
    picker.reset(info, np.random.default_rng(rng_seed))
    spent = 0.0
    tokens = np.zeros(Q, np.int64)
    rounds = np.zeros(Q, np.int64)
    latency = np.zeros(Q)
    accepted = np.zeros(Q, bool)
    best = np.full(Q, -np.inf)
    wave = 0
    for wave in range(scenario.engine.max_waves + 1):
        drawn = int(rec.n.sum())
        price = float(tokens.sum() / drawn) if drawn else float(scenario.queries.lengths.mean)
        view = View(wave, rec.n.copy(), rec.answer, rec.length, rec.accept, rec.score, unit, total - spent, total, price,
                    scenario.budget.max_per_query, queries.keys, queries.p if allocator.uses_oracle else None, queries.p,
                    accepted, best)
        count, cap, fraction = _check(allocator.allocate(view), allocator, view)
        if count.sum() == 0:
            break
        if wave == scenario.engine.max_waves:
            raise AllocatorError(f"allocator {allocator.name!r} still asks for samples after engine.max_waves = {wave} waves")
        start = rec.draw(count)
        _cut(rec, start, count, cap, fraction)
        if unit == "tokens":
            count = _fit_tokens(rec, start, count, queries.keys, total - spent)
        t, longest, acc, top = wave_stats(rec.length, rec.accept, rec.score, start, count)
        tokens += t
        accepted |= acc
        best = np.maximum(best, top)
        latency += round_time(longest, count)
        rounds += count > 0
        spent = float(rec.n.sum()) if unit == "samples" else float(tokens.sum())
        if unit == "tokens" and count.sum() == 0:
            break
    view = View(wave, rec.n.copy(), rec.answer, rec.length, rec.accept, rec.score, unit, total - spent, total, 0.0,
                scenario.budget.max_per_query, queries.keys, None, queries.p)
    answer = np.asarray(picker.pick(view), np.int64)
    if answer.shape != (Q,):
        raise AllocatorError(f"picker {picker.name!r} returned shape {answer.shape}: expected ({Q},)")
    return Outcome(answer, rec.n.copy(), tokens, rounds, latency, rec, wave)
