"""Slow, obviously correct references for the knapsack kernels (small instances only)."""
from __future__ import annotations

import itertools
import math

import numpy as np


def choices(n_min, n_max, allow_zero=True):
    return ([0] if allow_zero else []) + list(range(n_min, n_max + 1))


def brute_force(V, units, cap, n_min, n_max, allow_zero=True, exact=False):
    """Best sum V[i, n_i] over every combination with sum units_i n_i <= cap (== cap if exact); -inf if none."""
    best = -math.inf
    for combo in itertools.product(choices(n_min, n_max, allow_zero), repeat=len(units)):
        used = sum(u * n for u, n in zip(units, combo))
        if used > cap or (exact and used != cap):
            continue
        best = max(best, sum(V[i, n] for i, n in enumerate(combo)))
    return best


def naive_greedy(V, cost, budget, n_min, n_max):
    """Greedy by gain per cost, scanning every item for the best next piece; ties to the lower index.

    Returns (n, skipped): ``skipped`` says a piece did not fit while cheaper-ratio pieces remained.
    """
    M = len(cost)
    size = []
    for i in range(M):
        s_best, r_best = n_min, (V[i, n_min] - V[i, 0]) / n_min
        for s in range(n_min + 1, n_max + 1):
            r = (V[i, s] - V[i, 0]) / s
            if r > r_best * (1.0 + 1e-12) + 1e-300:
                s_best, r_best = s, r
        size.append(s_best)
    n = [0] * M
    dead = [False] * M
    spent = 0.0
    skipped = False
    while True:
        pick = None
        for i in range(M):
            if dead[i] or n[i] >= n_max:
                continue
            s = size[i] if n[i] == 0 else 1
            gain = V[i, n[i] + s] - V[i, n[i]]
            if gain <= 0:
                continue
            ratio = gain / (cost[i] * s)
            if pick is None or ratio > pick[0]:
                pick = (ratio, i, s)
        if pick is None:
            return np.array(n, np.int64), skipped
        _, i, s = pick
        if spent + cost[i] * s <= budget:
            spent += cost[i] * s
            n[i] += s
        else:
            dead[i] = True
            skipped = True


# -- Knapsack-RL, restated from liziniu/KnapsackRL as plain loops -------------------------------


def naive_p_hat(reward_lists, L=16, epoch=True, robust=True):
    """p_hat of one prompt from its per-visit reward lists (oldest first)."""
    latest = reward_lists[-1]
    if epoch and (len(latest) >= L or not robust):
        return sum(latest) / len(latest)
    recent = []
    for lst in reversed(reward_lists):
        recent.extend(reversed(lst))
        if len(recent) >= L:
            break
    recent = recent[:L]
    return sum(recent) / len(recent)


def knapsack_rl_value(N, p):
    return (1 - p**N - (1 - p) ** N) * p * (1 - p) ** 2


def naive_extra_dp(rates, budget, K, min_n, zero_extra_scores_zero=True):
    """Exact-fill DP over k in {0..K} extra rollouts per item, then the even split of the unplaced rest."""
    M = len(rates)
    NEG = -math.inf
    table = [[NEG] * (budget + 1) for _ in range(M + 1)]
    pick = [[0] * (budget + 1) for _ in range(M + 1)]
    table[0][0] = 0.0
    for i in range(1, M + 1):
        p = rates[i - 1]
        for b in range(budget + 1):
            for k in range(0, K + 1):
                if k > b or table[i - 1][b - k] == NEG:
                    continue
                val = knapsack_rl_value(min_n + k, p) if (k > 0 or not zero_extra_scores_zero) else 0.0
                cand = table[i - 1][b - k] + val
                if cand > table[i][b]:
                    table[i][b] = cand
                    pick[i][b] = k
    used = budget
    while used > 0 and table[M][used] == NEG:
        used -= 1
    extra = [0] * M
    b = used
    for i in range(M, 0, -1):
        extra[i - 1] = pick[i][b]
        b -= pick[i][b]
    rest = budget - used
    if rest > 0:
        for i in range(M):
            extra[i] += rest // M + (1 if i < rest % M else 0)
    return extra


def naive_knapsack_rl_plan(counts, p_hats, n=8, min_n=2, max_n=128, alpha=0.9, min_buffer=8, fallback=True):
    """The whole Knapsack-RL allocation for one batch, prompt by prompt."""
    S = len(counts)
    total = n * S
    alloc, rate, items = [0] * S, [0.0] * S, []
    for i in range(S):
        if counts[i] < min_buffer:
            alloc[i] = n
            continue
        p = p_hats[i]
        rate[i] = float(np.float32(p))
        if 0 < p < 1:
            alloc[i] = min_n
            items.append(i)
        else:
            alloc[i] = 2
    left = total - sum(alloc)
    zeros = [i for i in range(S) if rate[i] == 0]
    if left > 0 and not items:
        if zeros:
            for j, i in enumerate(zeros):
                alloc[i] += left // len(zeros) + (1 if j < left % len(zeros) else 0)
        else:
            alloc = [n] * S
        return alloc
    if items:
        est = 0
        for i in items:
            p = p_hats[i]
            est += int(min(max_n, float(np.float32(math.log(1 - alpha) / math.log(max(p, 1 - p))))))
        if fallback and est < left:
            cand = zeros or [i for i in range(S) if i not in items]
            if cand:
                for j, i in enumerate(cand):
                    alloc[i] += (left - est) // len(cand) + (1 if j < (left - est) % len(cand) else 0)
                left = est
    if left > 0 and items:
        extra = naive_extra_dp([rate[i] for i in items], left, max_n - min_n, min_n)
        for i, k in zip(items, extra):
            alloc[i] += k
    return alloc
