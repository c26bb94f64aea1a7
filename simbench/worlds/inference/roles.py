"""The two roles of the inference world and what they see.

An allocator (role ``inference_allocator``) is asked, wave after wave, how many
new samples each query gets (optionally with a length cap); the engine checks
every answer against the budget and the per-query cap and raises
``AllocatorError`` on a broken contract.  A picker (role ``picker``) returns the
answer of each query from the samples drawn.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.roles import Role
from simbench.worlds.inference.answers import tally
from simbench.worlds.inference.tape import NO_ANSWER, field_normals, field_uniforms


class AllocatorError(RuntimeError):
    """An allocator broke its contract (shape, integers, non-negative, the budget or the per-query cap)."""


@dataclass
class View:
    """What an allocator sees before a wave.

    Attributes
    ----------
    wave : index of the wave being planned (from 0).
    n : (Q,) samples drawn so far per query.
    answer, length, accept, score : (Q, capacity) the samples drawn, valid in columns ``< n[q]`` (answer -1: cut, no answer).
    unit : ``"samples"`` or ``"tokens"``; remaining : budget left in that unit; total : the whole budget.
    price : expected tokens of a new sample (mean length drawn so far; before any, the length law's mean).
    max_per_query : cap on samples per query (0: none).
    keys : (Q,) uint64 identity of each query (break ties between queries with it, to stay order-free).
    oracle_p : (Q,) true pass rates for allocators with ``uses_oracle``, else None.
    accepted, best_score : (Q,) some sample accepted so far, the best score so far (kept by the engine; None: scanned).
    """

    wave: int
    n: np.ndarray
    answer: np.ndarray
    length: np.ndarray
    accept: np.ndarray
    score: np.ndarray
    unit: str
    remaining: float
    total: float
    price: float
    max_per_query: int
    keys: np.ndarray
    oracle_p: np.ndarray | None
    _p: np.ndarray | None = None
    accepted: np.ndarray | None = None
    best_score: np.ndarray | None = None

    @property
    def n_queries(self) -> int:
        return len(self.n)

    def room(self) -> int:
        """Samples the remaining budget pays for at ``price`` (all of it in samples)."""
        return int(self.remaining // (1.0 if self.unit == "samples" else self.price))

    def votes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per query: votes of the most frequent answer, of the second, and the number of distinct answers."""
        _, v1, v2, distinct = tally(self.answer, self.n, np.empty((self.n_queries, 0)), np.zeros(self.n_queries), 0.0)
        return v1, v2, distinct

    def solved(self, threshold: float | None = None) -> np.ndarray:
        """Per query: some sample accepted by the verifier (``threshold``: some score >= it)."""
        if threshold is None and self.accepted is not None:
            return self.accepted.copy()
        if threshold is not None and self.best_score is not None:
            return self.best_score >= threshold
        cols = np.arange(self.answer.shape[1])[None, :] < self.n[:, None]
        hit = self.accept if threshold is None else self.score >= threshold
        return (hit & cols).any(axis=1)

    def uniforms(self, field: int = 9) -> np.ndarray:
        """A uniform per query from its tape at the next sample's position (for randomised rules: same tape, same draw)."""
        return field_uniforms(self.keys, self.n, field)

    def self_eval(self, sigma: float) -> np.ndarray:
        """The model's noisy estimate of its own success probability for the next sample, ``clip(p_q + sigma z)``
        (Manvi et al., arXiv 2410.02725), available before (or mid-way through) that sample."""
        return np.clip(self._p + sigma * field_normals(self.keys, self.n, 10), 0.0, 1.0)


@dataclass
class Allocation:
    """An allocator's answer: new samples per query and, optionally, a cap on their length in tokens (per query, or a
    fraction of each sample's own length: a response cut before its end gives no answer)."""

    count: np.ndarray
    cap: np.ndarray | None = None
    fraction: np.ndarray | None = None


class InferenceAllocator(Role):
    """Decides, per wave, how many samples each query gets; returning zeros everywhere ends the run."""

    role = "inference_allocator"
    default_picker = "majority"

    def allocate(self, view: View) -> np.ndarray | Allocation:
        raise NotImplementedError


class Picker(Role):
    """Returns each query's answer (NO_ANSWER: abstain) from its samples."""

    role = "picker"

    def pick(self, view: View) -> np.ndarray:
        raise NotImplementedError


def fit(want: np.ndarray, view: View) -> np.ndarray:
    """``want`` (non-negative integers) trimmed to the per-query cap and to what the budget pays for.

    Over budget, every query keeps the floor of its proportional share and the samples left over go one each to the
    queries with the largest remainders, ties by the queries' keys: independent of the order of the queries.
    """
    want = np.maximum(np.asarray(want, np.int64), 0)
    if view.max_per_query:
        want = np.minimum(want, np.maximum(view.max_per_query - view.n, 0))
    room = view.room()
    total = int(want.sum())
    if total <= room:
        return want
    share = want * (room / total)
    out = np.floor(share).astype(np.int64)
    left = room - int(out.sum())
    if left > 0:
        order = np.lexsort((view.keys, -(share - out)))
        out[order[:left]] += 1
    return out


def no_answer(q: int) -> np.ndarray:
    return np.full(q, NO_ANSWER, np.int64)


def build_strategy(strategy, where: str = "strategy") -> tuple[InferenceAllocator, Picker]:
    """The allocator and picker of a strategy table (the picker defaults to the allocator's reference one)."""
    import simbench.registry as registry

    allocator = registry.make("inference_allocator", strategy.allocator, f"{where}.allocator")
    picker_spec = strategy.picker if strategy.picker is not None else allocator.default_picker
    picker = registry.make("picker", picker_spec, f"{where}.picker")
    return allocator, picker
