"""eFLOPs of generation after Kinetics (Infini-AI-Lab/Kinetics, ``cost_model/utils.py``, ``dense_cost``).

Decoding is priced as its compute plus its memory traffic converted to FLOPs at the hardware's arithmetic
intensity ``I = peak FLOP/s / HBM bytes/s`` (``eFLOPs = compute + I x bytes``).  For a query with prompt P whose
samples of one wave have lengths L_i, with H attention heads, H_kv KV heads, head size d and ``layers`` layers:

    compute = sum_i 2 N L_i + 2 (2 P + L_i) L_i H d layers        (weights, and attention over the growing context)
    bytes   = (b / 2) 2 (2 P max_i L_i + sum_i L_i^2) H_kv d layers  (the KV cache read at every step)

The prompt's KV cache is read once per step for all of the query's samples (Kinetics' shared prefix; it equals
``dense_cost`` when the samples are equally long), and the ``L^2`` term makes a long response cost super-linearly.
As in Kinetics, reading the weights is not counted (it is shared by a batch).  ``b``: bytes per element (Kinetics
assumes 2).  Each wave is priced on its own: the prefix is read again by the next wave.
"""
from __future__ import annotations

import numpy as np


def available(cost) -> bool:
    """Whether eFLOPs can be priced: a ``[cost]`` table whose model gives its attention heads."""
    return cost is not None and cost.model.query_heads is not None


def intensity(cost) -> float:
    """The hardware's arithmetic intensity, FLOPs per byte of HBM traffic (peak compute over peak bandwidth)."""
    return cost.hw.peak_tflops / cost.hw.hbm_tbps


def wave_eflops(cost, prompt_len: np.ndarray, q: np.ndarray, length: np.ndarray) -> float:
    """eFLOPs of one wave's samples: those of queries ``q`` (prompt ``prompt_len[q]``) with response ``length``."""
    if len(q) == 0:
        return 0.0
    m = cost.model
    L = np.asarray(length, np.float64)
    P = prompt_len[q].astype(np.float64)
    compute = np.sum(2.0 * m.params * L + 2.0 * (2.0 * P + L) * L * m.query_heads * m.head_dim * m.layers)
    longest = np.zeros(len(prompt_len))
    np.maximum.at(longest, q, L)
    kv = 2.0 * np.sum(prompt_len * longest) + np.sum(L * L)
    return float(compute + intensity(cost) * m.bytes_per_elem * kv * m.kv_heads * m.head_dim * m.layers)


def floor(cost) -> float:
    """eFLOPs no sample can cost less than: one token's pass through the weights, 2 N."""
    return 2.0 * cost.model.params
