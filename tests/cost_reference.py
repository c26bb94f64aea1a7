"""A slow, obviously correct simulator of batched decoding: one decode iteration at a time.

It follows the scheduling rules of ``simbench.cost.generation`` literally (each engine its
own queue, one engine after another, admission when an engine starts or its active set changed,
preemption of the newest sequence when the next iteration's tokens do not fit) and pays
``t_fix + max(a + c*C, f*b)`` for every iteration, so the event simulator must agree
with it up to the rounding of a sum.
"""
from __future__ import annotations

from collections import deque

import numpy as np


def brute_force_wave(P, L, prompt, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, trace=None):
    """Return (finish times, engine clocks, preemptions), as ``simulate_wave``.

    ``trace``, a dict, receives ``peak``: the most KV tokens any iteration of two or more sequences held
    (its context plus the tokens it wrote), and ``batch``: the largest batch.
    """
    n = len(P)
    if per_rollout:  # dealt in turn
        queues = [deque(range(e, n, R)) for e in range(R)]
    else:  # contiguous chunks
        queues = [deque(x.tolist()) for x in np.array_split(np.arange(n), R)]
    g = [0] * n
    finish = [0.0] * n
    clock = [0.0] * R
    active = [[] for _ in range(R)]
    changed = [True] * R
    done = [False] * R
    cached = [set() for _ in range(R)]
    preemptions = 0
    while not all(done):
        e = min(k for k in range(R) if not done[k])  # engines are independent: one after another
        q = queues[e]
        act = active[e]
        ctx = sum(P[j] + g[j] for j in act)
        if preemption:
            while len(act) > 1 and ctx + len(act) > k_cap:
                j = act.pop()
                ctx -= P[j] + g[j]
                q.appendleft(j)
                preemptions += 1
                changed[e] = True
        if changed[e]:
            changed[e] = False
            while q and len(act) < s_max:
                j = q[0]
                if preemption:
                    fits = ctx + P[j] + g[j] + len(act) + 1 <= k_cap
                else:
                    fits = sum(P[i] + L[i] for i in act) + P[j] + L[j] <= k_cap
                if not fits and act:
                    break
                q.popleft()
                if g[j] > 0:
                    clock[e] += f * (P[j] + g[j])
                elif not (prefix_cache and prompt[j] in cached[e]):
                    clock[e] += f * P[j]
                    cached[e].add(prompt[j])
                act.append(j)
                ctx += P[j] + g[j]
        if not act:
            done[e] = True
            continue
        if trace is not None:
            if len(act) > 1:
                trace["peak"] = max(trace.get("peak", 0), ctx + len(act))
            trace["batch"] = max(trace.get("batch", 0), len(act))
        clock[e] += t_fix + max(a + c * ctx, f * len(act))
        for j in act:
            g[j] += 1
        for j in [j for j in act if g[j] >= L[j]]:
            finish[j] = clock[e]
            act.remove(j)
            changed[e] = True
    return np.array(finish), np.array(clock), preemptions
