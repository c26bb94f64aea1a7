"""The time one wave of generation takes: the one place latency is computed, in tokens and (with ``[cost]``) seconds.

A query's samples of one wave run in parallel and adaptive methods run waves one after the other, so a query's
latency is the sum over the waves it took part in.  In tokens, a wave lasts as long as the query's own longest sample
(decode steps).  In seconds, each wave of the engine is one batched generate call over every sample drawn in it for
every query, priced by the cost model (``simbench.cost.generation.wave_time``, plus the fixed ``overhead.wave_s`` of
a call); every query in the wave waits for the call to return, so each pays the whole wave's duration.  All GPUs are
held for the call: its GPU-seconds are ``hw.gpus`` times its duration.
"""
from __future__ import annotations

import numpy as np

from simbench.cost.generation import coefficients, wave_time

UNIT = "tokens"  # the unit of round_time: decode steps of the longest sample


def round_time(longest: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Time of one round per query in tokens, from the length of its longest sample and its number of samples in the round."""
    return np.where(samples > 0, longest, 0).astype(float)


def wave_samples(count: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query, position in the wave, order) of a wave's samples; ``order`` sorts them by position, then query key.

    The samples of the wave are ``count[q]`` per query; ``order`` is the order in which a budget keeps them.
    """
    q = np.repeat(np.arange(len(count)), count)
    pos = np.arange(len(q)) - np.repeat(np.cumsum(count) - count, count)
    return q, pos, np.lexsort((keys[q], pos))


def wave_seconds(cost, prompt_len: np.ndarray, keys: np.ndarray, q: np.ndarray, length: np.ndarray) -> float:
    """Seconds of one generate call over samples of queries ``q`` with response ``length`` (0 if there are none).

    The call receives the samples grouped by query, queries in order of their keys (so that the time does not depend
    on how queries are numbered), and a query's samples share its prompt (the prefix cache).
    """
    if len(q) == 0:
        return 0.0
    order = np.lexsort((keys[q],))  # stable: a query's samples stay in tape order
    qs = q[order]
    _, prompt = np.unique(keys[qs], return_inverse=True)
    return cost.overhead.wave_s + wave_time(cost, prompt_len[qs], length[order], prompt)[0]


def gpu_seconds_floor(cost) -> float:
    """GPU-seconds no sample can cost less than: one decode iteration shared by a full batch on every engine."""
    t_fix, a, _, _ = coefficients(cost)
    return cost.hw.gpus * (t_fix + a) / (cost.engines * cost.rollout.max_num_seqs)
