"""A slow, literal transcription of Reinforce-Ada's per-uid loop (for differential tests).

Written from Reinforce-Ada (arXiv 2510.04996, RLHFlow/Reinforce-Ada) as plain Python over lists: per uid, caches of
positive and negative sample indices in arrival order, rounds of M samples for
active uids, the exit rule, the deterministic downsampling and the fallback.
"""
from __future__ import annotations

import math


def reference_ada(streams, choice="balanced", max_rounds=4, M=8, n=4, threshold=0.7):
    """``streams[u]``: the rewards uid u would get, in order.  Returns (drawn per uid, kept sample indices per uid)."""
    state = [{"finished": False, "pos": [], "neg": [], "seen": 0} for _ in streams]
    for _round in range(max_rounds):
        active = [u for u, s in enumerate(state) if not s["finished"]]
        if not active:
            break
        for u in active:
            s = state[u]
            for _ in range(M):
                idx = s["seen"]
                r = streams[u][idx]
                (s["pos"] if r > threshold else s["neg"]).append(idx)
                s["seen"] += 1
            if choice == "balanced":
                done = len(s["pos"]) >= n // 2 and len(s["neg"]) >= n - n // 2
            else:
                done = len(s["pos"]) >= 1
            if done:
                s["finished"] = True
                t_pos = min(n // 2, len(s["pos"]))
                t_neg = min(n - t_pos, len(s["neg"]))
                while t_pos + t_neg < n and t_pos < len(s["pos"]):
                    t_pos += 1
                while t_pos + t_neg < n and t_neg < len(s["neg"]):
                    t_neg += 1
                s["kept"] = s["pos"][:t_pos] + s["neg"][:t_neg]
    for s in state:
        if s["finished"]:
            continue
        P, Q = len(s["pos"]), len(s["neg"])
        take = min(n, P + Q)
        if choice == "balanced":
            t_pos, t_neg = min(n // 2, P), min(n - n // 2, Q)
            while t_pos + t_neg < take and t_pos < P:
                t_pos += 1
            while t_pos + t_neg < take and t_neg < Q:
                t_neg += 1
        else:
            t_pos = min(max(math.ceil(P / (P + Q) * n), 1), take - 1) if take >= 2 else min(1, take)
            t_pos = min(t_pos, P)
            t_neg = min(take - t_pos, Q)
        s["kept"] = s["pos"][:t_pos] + s["neg"][:t_neg]
    return [s["seen"] for s in state], [sorted(s["kept"]) for s in state]


def exact_cost(p, choice="balanced", max_rounds=4, M=8, n=4):
    """E[samples per prompt] and P(fallback), exactly, by enumerating (pos, neg) after each round."""
    from scipy.stats import binom

    dist = {(0, 0): 1.0}
    expected, half = 0.0, n // 2
    for _ in range(max_rounds):
        nxt = {}
        for (P, Q), w in dist.items():
            expected += w * M
            for k in range(M + 1):
                q = w * binom.pmf(k, M, p)
                key = (P + k, Q + M - k)
                done = (key[0] >= half and key[1] >= n - half) if choice == "balanced" else key[0] >= 1
                if not done:
                    nxt[key] = nxt.get(key, 0.0) + q
        dist = nxt
    return expected, sum(dist.values())
