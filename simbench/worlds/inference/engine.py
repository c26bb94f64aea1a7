"""Run one strategy on the queries of one cell: waves until the budget is spent or the allocator returns zeros.

Every wave the allocator sees the samples drawn so far (``View``) and answers new
samples per query; the engine checks the answer (shape, integers, non-negative,
the per-query cap, the budget) and raises ``AllocatorError`` naming the allocator
and what it broke.  Samples come from the queries' tapes in order.  With a token
or GPU-second budget a wave is priced once drawn, before it is committed: if it
would overspend, its samples are kept in order of their position in the wave
(ties by query key) while they fit, and the rest are not generated.  With a
``[cost]`` table every wave is priced in seconds (``latency.wave_seconds``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from simbench.core._numba import jit
from simbench.core.config import ConfigError
from simbench.core.roles import RunInfo
from simbench.worlds.inference.eflops import available as eflops_available
from simbench.worlds.inference.eflops import floor as eflops_floor
from simbench.worlds.inference.eflops import wave_eflops
from simbench.worlds.inference.latency import gpu_seconds_floor, round_time, wave_samples, wave_seconds
from simbench.worlds.inference.roles import Allocation, AllocatorError, InferenceAllocator, Picker, View
from simbench.worlds.inference.spec import mean_price
from simbench.worlds.inference.tape import NO_ANSWER, Queries, Record


@dataclass
class Outcome:
    """Per query after a run: the picked answer, samples, tokens, rounds, latency (tokens); the record of samples; waves
    run; with ``[cost]``, per query latency in seconds and the run's GPU-seconds, and its eFLOPs if the model gives its
    attention heads (else None)."""

    answer: np.ndarray
    samples: np.ndarray
    tokens: np.ndarray
    rounds: np.ndarray
    latency: np.ndarray
    record: Record
    waves: int
    seconds: np.ndarray | None = None
    gpu_seconds: float | None = None
    eflops: float | None = None

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


def _check(alloc, allocator, view: View, floor: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
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
    # a sample costs at least ``floor`` units (one sample, one token, or latency.gpu_seconds_floor), so no allocation
    # may ask for more samples than that pays for (tokens and GPU-seconds are checked exactly once drawn)
    if int(count.sum()) * floor > view.remaining + 1e-9:
        raise AllocatorError(f"{name} asked for {int(count.sum())} samples with {view.remaining:g} {view.unit} left "
                             f"(a sample costs at least {floor:g})")
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


def _fit(rec: Record, queries: Queries, start: np.ndarray, count: np.ndarray, unit: str, spent: float, total: float, cost,
         first: bool, name: str) -> tuple[np.ndarray, float, float]:
    """Keep the longest prefix of this wave's samples (by position in the wave, then query key) that the budget left,
    ``total - spent``, pays for.

    Returns the samples kept per query, the kept wave's duration in seconds (nan without ``cost``) and its eFLOPs
    (nan unless ``eflops.available``); a ``ConfigError`` if the ``first`` wave of allocator ``name`` cannot pay for
    a single sample.  Tokens add up; GPU-seconds and eFLOPs are found by bisection on the prefix, each candidate
    priced by the cost model (a wave's time need not grow with every sample, so what is kept is a prefix whose own
    price was checked; eFLOPs do grow, so theirs is the longest that fits).  A price fits if ``spent + price <=
    total``, the very sum the engine then adds, so no rounding can take the total over.
    """
    if unit == "samples" and cost is None:  # nothing to price: keep the wave as asked, with no sort
        return count, float("nan"), float("nan")
    q, pos, order = wave_samples(count, queries.keys)
    q, length = q[order], rec.length[q[order], start[q[order]] + pos[order]].astype(np.int64)
    gpus = cost.hw.gpus if cost is not None else 1
    seconds = cache(lambda k: wave_seconds(cost, queries.prompt_len, queries.keys, q[:k], length[:k]) if cost is not None else float("nan"))
    flops = cache(lambda k: wave_eflops(cost, queries.prompt_len, q[:k], length[:k]) if eflops_available(cost) else float("nan"))
    price = {"gpu_seconds": lambda k: gpus * seconds(k), "eflops": flops}.get(unit)
    fits = lambda k: spent + price(k) <= total  # noqa: E731
    keep = len(q)
    if unit == "tokens":  # integers: exact
        keep = int(np.searchsorted(np.cumsum(length), total - spent, side="right"))
    elif price is not None and not fits(keep):
        lo, hi = 0, keep  # the prefix of lo samples fits, that of hi does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        keep = lo
        if keep == 0 and first:
            raise ConfigError("budget.per_query", total / len(count), f"a budget that pays for at least one sample: the first "
                              f"wave of {name} costs {price(1):.4g} {unit} with one sample ({total:.4g} in all for "
                              f"{len(count)} queries)")
    kept = np.bincount(q[:keep], minlength=len(count))
    rec.n -= count - kept
    return kept, seconds(keep), flops(keep)


def cache(f):
    """``f`` of an integer, each value computed once."""
    return functools.lru_cache(maxsize=None)(f)


def run(queries: Queries, scenario, allocator: InferenceAllocator, picker: Picker, total: float, rng_seed=None) -> Outcome:
    """Run ``allocator`` then ``picker`` on ``queries`` with a budget of ``total`` (in ``scenario.budget.unit``)."""
    Q, unit, cost = len(queries), scenario.budget.unit, scenario.cost
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
    seconds = np.zeros(Q)
    gpu_seconds = eflops = 0.0
    floor = {"gpu_seconds": gpu_seconds_floor, "eflops": eflops_floor}.get(unit, lambda _: 1.0)(cost)
    wave = 0
    for wave in range(scenario.engine.max_waves + 1):
        drawn = int(rec.n.sum())
        used = {"gpu_seconds": gpu_seconds, "eflops": eflops}.get(unit, tokens.sum())
        price = float(used / drawn) if drawn else mean_price(scenario)
        view = View(wave, rec.n.copy(), rec.answer, rec.length, rec.accept, rec.score, unit, total - spent, total, price,
                    scenario.budget.max_per_query, queries.keys, queries.p if allocator.uses_oracle else None, queries.p,
                    accepted, best)
        count, cap, fraction = _check(allocator.allocate(view), allocator, view, floor)
        if count.sum() == 0:
            break
        if wave == scenario.engine.max_waves:
            raise AllocatorError(f"allocator {allocator.name!r} still asks for samples after engine.max_waves = {wave} waves")
        start = rec.draw(count)
        _cut(rec, start, count, cap, fraction)
        count, duration, flops = _fit(rec, queries, start, count, unit, spent, total, cost, wave == 0, f"allocator {allocator.name!r}")
        t, longest, acc, top = wave_stats(rec.length, rec.accept, rec.score, start, count)
        tokens += t
        accepted |= acc
        best = np.maximum(best, top)
        latency += round_time(longest, count)
        rounds += count > 0
        if cost is not None:  # the sums _fit checked
            seconds += np.where(count > 0, duration, 0.0)
            gpu_seconds += cost.hw.gpus * duration
            eflops += flops
        spent = {"samples": float(rec.n.sum()), "tokens": float(tokens.sum()), "gpu_seconds": gpu_seconds, "eflops": eflops}[unit]
        if count.sum() == 0:  # the budget pays for none of the samples asked for
            break
    view = View(wave, rec.n.copy(), rec.answer, rec.length, rec.accept, rec.score, unit, total - spent, total, 0.0,
                scenario.budget.max_per_query, queries.keys, None, queries.p)
    answer = np.asarray(picker.pick(view), np.int64)
    if answer.shape != (Q,):
        raise AllocatorError(f"picker {picker.name!r} returned shape {answer.shape}: expected ({Q},)")
    return Outcome(answer, rec.n.copy(), tokens, rounds, latency, rec, wave,
                   seconds if cost is not None else None, gpu_seconds if cost is not None else None,
                   eflops if eflops_available(cost) else None)
