"""The per-query sample tapes: every strategy reads prefixes of the same samples (common random numbers).

Query q has its own key, drawn from a child of the cell's ``SeedSequence``.  The
j-th sample of its tape is a pure function of (key, j): each random field is a
counter-based hash (SplitMix64's finaliser: one hash of the key and the sample
index, then one more per field), so a tape can be drawn lazily, in blocks of any
size, in any order, by any number of workers, and always gives the same bytes.
Best-of-N at N = 16 and ESC stopping at 10 see the same first 10 samples.

A sample is (answer, length, accepted, score): answer 0 is the correct one,
1..M the query's wrong answers (``unique``: M + 1 + j, a distinct answer per
sample), -1 no answer (a response cut before it ended).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simbench.core._numba import jit
from simbench.worlds.inference.tables import read_answer_table

# random fields of a sample: 0 correct, 1 wrong answer, 2-3 length, 4 verifier, 5-6 score noise, 7-8 bias of a
# unique answer; read by roles at the next sample's position: 9 ties, 10-11 self-evaluation, 12 random stopping

VERIFIERS = {"oracle": 0, "binary": 1, "rm": 2}
NO_ANSWER = -1

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


@jit
def mix(x):
    """SplitMix64's finaliser: a bijection of uint64 whose outputs pass BigCrush when fed a counter."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@jit
def base(key, j):
    """The hash of sample ``j`` of the tape keyed ``key``, from which each of its fields is one more hash."""
    return mix(key ^ mix(np.uint64(j) + _GOLDEN))


@jit
def field(b, f):
    """The uniform in (0, 1) of field ``f`` of the sample whose hash is ``b``."""
    x = mix(b + np.uint64(f + 1) * _GOLDEN)
    return (float(x >> _S11) + 0.5) * (1.0 / 9007199254740992.0)


@jit
def field_normal(b, f):
    """A standard normal from fields ``f`` and ``f + 1`` (Box-Muller)."""
    return math.sqrt(-2.0 * math.log(field(b, f))) * math.cos(2.0 * math.pi * field(b, f + 1))


@jit
def uniform(key, j, f):
    """The uniform in (0, 1) of field ``f`` of sample ``j`` of the tape keyed ``key``."""
    return field(base(key, j), f)


@jit
def normal(key, j, f):
    """A standard normal from fields ``f`` and ``f + 1`` of sample ``j`` (Box-Muller)."""
    return field_normal(base(key, j), f)


@jit
def field_uniforms(keys, pos, f):
    """Per query, the uniform of field ``f`` at tape position ``pos[q]``."""
    out = np.empty(keys.shape[0])
    for q in range(keys.shape[0]):
        out[q] = uniform(keys[q], pos[q], f)
    return out


@jit
def field_normals(keys, pos, f):
    """Per query, the standard normal of fields ``f, f + 1`` at tape position ``pos[q]``."""
    out = np.empty(keys.shape[0])
    for q in range(keys.shape[0]):
        out[q] = normal(keys[q], pos[q], f)
    return out


@jit
def draw_block(keys, p, mean_len, wcum, bias, fpr, start, count, unique, verifier, tpr, mu, sigma_b, sigma_eps, threshold,
               wrong_factor, sigma, max_len, answer, length, accept, score):
    """Draw samples ``start[q] .. start[q] + count[q] - 1`` of every query's tape into columns of the same index.

    Parameters
    ----------
    keys : (Q,) uint64 tape keys.  p, mean_len, fpr : (Q,) pass rate, mean correct length, false-positive rate.
    wcum : (Q, M) cumulative wrong-answer weights.  bias : (Q, M + 1) reward-model bias of each answer.
    unique : every wrong sample is a distinct answer.  verifier : 0 oracle, 1 binary, 2 rm.
    answer, length, accept, score : (Q, capacity) records written in place.
    """
    half_var = 0.5 * sigma * sigma
    M = wcum.shape[1]
    for q in range(keys.shape[0]):
        key = keys[q]
        for j in range(start[q], start[q] + count[q]):
            h = base(key, j)
            correct = field(h, 0) < p[q]
            if correct:
                a = 0
            elif unique:
                a = M + 1 + j
            else:
                u = field(h, 1) * wcum[q, M - 1]
                a = M
                for m in range(M):
                    if u < wcum[q, m]:
                        a = m + 1
                        break
            m_len = mean_len[q] if correct else mean_len[q] * wrong_factor
            ln = int(round(m_len * math.exp(sigma * field_normal(h, 2) - half_var)))
            ln = min(max(ln, 1), max_len)
            if verifier == 2:
                b = sigma_b * field_normal(h, 7) if a > M else bias[q, a]
                s = mu * correct + b + sigma_eps * field_normal(h, 5)
                ok = s >= threshold
            elif verifier == 1:
                ok = field(h, 4) < (tpr if correct else fpr[q])
                s = 1.0 if ok else 0.0
            else:
                ok = correct
                s = 1.0 if ok else 0.0
            answer[q, j] = a
            length[q, j] = ln
            accept[q, j] = ok
            score[q, j] = s


@dataclass
class Queries:
    """The queries of one cell, as arrays (index q is query q); permuting every array permutes the world.

    Attributes
    ----------
    p : (Q,) latent single-sample success probability.
    mean_len : (Q,) mean tokens of a correct response.
    wcum : (Q, M) cumulative weights of the wrong answers (Dirichlet draws).
    bias : (Q, M + 1) reward-model bias of each answer (index 0: the correct one).
    fpr : (Q,) false-positive rate of the binary verifier.
    keys : (Q,) uint64 key of each query's tape (its identity: ties between queries are broken by it).
    """

    p: np.ndarray
    mean_len: np.ndarray
    wcum: np.ndarray
    bias: np.ndarray
    fpr: np.ndarray
    keys: np.ndarray

    def __len__(self) -> int:
        return len(self.p)

    def subset(self, index) -> "Queries":
        return Queries(*(getattr(self, f)[index] for f in ("p", "mean_len", "wcum", "bias", "fpr", "keys")))


def make_queries(scenario, seed: np.random.SeedSequence) -> Queries:
    """Draw the queries of one cell: pass rates, lengths, wrong-answer weights, biases and tape keys (independent streams)."""
    Q = scenario.queries.n_queries
    law, L, A, V = scenario.queries.pass_rate, scenario.queries.lengths, scenario.answers, scenario.verifier
    child = lambda tag: np.random.default_rng(np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 7, tag)))  # noqa: E731
    p = np.clip(law.sample(child(0), Q, Path(scenario.base_dir)), 0.0, 1.0)
    mean_len = L.mean * np.exp(L.difficulty_slope * (0.5 - p) + L.prompt_sigma * child(1).standard_normal(Q))
    if A.model == "table":
        table = read_answer_table(A.path, Path(scenario.base_dir))
        w = table[np.arange(Q) % len(table)]
    else:
        w = child(2).dirichlet(np.full(A.wrong_answers, A.wrong_concentration), size=Q)
    bias = V.sigma_b * child(3).standard_normal((Q, w.shape[1] + 1))
    fpr = V.fpr0 * (1.0 - p) ** V.fpr_slope
    keys = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 7, 4)).generate_state(Q, np.uint64)
    return Queries(p, mean_len, np.cumsum(w, axis=1), bias, fpr, keys)


class Record:
    """The samples a strategy has drawn so far, per query: prefixes of the tapes, possibly cut by a length cap.

    ``answer``, ``length``, ``accept``, ``score`` are (Q, capacity) arrays valid in columns ``< n[q]``; the
    capacity grows by blocks of 64 samples.
    """

    BLOCK = 64

    def __init__(self, queries: Queries, scenario):
        self.queries = queries
        self.sc = scenario
        Q = len(queries)
        self.n = np.zeros(Q, np.int64)
        self._alloc(0)

    def _alloc(self, cap: int) -> None:
        Q = len(self.queries)
        old = getattr(self, "answer", None)
        arrays = {"answer": np.int32, "length": np.int32, "accept": np.bool_, "score": np.float64}
        for name, dtype in arrays.items():
            new = np.zeros((Q, cap), dtype)
            if old is not None:
                new[:, :getattr(self, name).shape[1]] = getattr(self, name)
            setattr(self, name, new)

    def draw(self, count: np.ndarray) -> np.ndarray:
        """Append the next ``count[q]`` tape samples of every query; return the start column of each query's new samples."""
        need = int((self.n + count).max(initial=0))
        if need > self.answer.shape[1]:
            self._alloc(max(need, 2 * self.answer.shape[1]) + (-max(need, 2 * self.answer.shape[1])) % self.BLOCK)
        q, L, V = self.queries, self.sc.queries.lengths, self.sc.verifier
        start = self.n.copy()
        draw_block(q.keys, q.p, q.mean_len, q.wcum, q.bias, q.fpr, start, count, self.sc.answers.model == "unique",
                   VERIFIERS[V.kind], V.tpr, V.mu, V.sigma_b, V.sigma_eps, V.threshold, L.wrong_factor, L.sigma, L.max,
                   self.answer, self.length, self.accept, self.score)
        self.n += count
        return start
