"""A slow, literal transcription of GVM's stage-2 sample-size script (for differential tests).

GVM (arXiv 2505.02391, RLHFlow/GVM) stage 2, steps 3-5, one prompt at a time with plain Python floats.
"""
from __future__ import annotations

import math


def reference_stage2(p, G, N, alpha=1e-3, beta=2.0, filter_threshold=0.0, filter_insufficient=0.0):
    w = []
    for pi, gi in zip(p, G):
        w.append(0.0 if gi == 0 or pi == 0 else gi / math.sqrt(pi + alpha / pi ** (beta - 1)))
    total = sum(w)
    ratio = [wi / total for wi in w] if total > 0 else [0.0] * len(w)
    if filter_threshold > 0:
        ratio = [0.0 if pi > filter_threshold else r for pi, r in zip(p, ratio)]
    if filter_insufficient > 0:
        ratio = [0.0 if pi * r * N < filter_insufficient else r for pi, r in zip(p, ratio)]
    total = sum(ratio)
    if total <= 0:
        ratio = [1.0 / len(p)] * len(p)  # simbench's defined fallback (the reference divides 0/0)
    else:
        ratio = [r / total for r in ratio]
    x = [r * N for r in ratio]
    k = [round(v) for v in x]  # Python's round: half to even, like numpy
    e = N - sum(k)
    resid = [v - ki for v, ki in zip(x, k)]
    if e > 0:
        for i in sorted(range(len(x)), key=lambda i: (-resid[i], i))[:e]:
            k[i] += 1
    elif e < 0:
        order = [i for i in sorted(range(len(x)), key=lambda i: (resid[i], i)) if k[i] > 0]
        for i in order[:-e]:
            k[i] -= 1
    return k
