"""Slow, obviously correct references for every kernel in ``simbench.worlds.rl.kernels``.

Plain Python loops and lists, one sample at a time, written from the kernels'
docstrings rather than their code.  The random references draw from the same
numpy ``Generator`` methods in the same order as the kernels (one uniform then
one normal per sample, ...), so with equal generator states the outputs must
agree: numba's Generator methods reproduce numpy's streams.
"""
from __future__ import annotations

import math

import numpy as np


def draw_wave(rng, n, p, mean_len, wrong_factor, sigma, max_len, token_cap):
    """Slots in order, samples of a slot consecutively; stop before the sample that would exceed ``token_cap``."""
    slots, rewards, lengths = [], [], []
    drawn = [0] * len(n)
    tokens = 0.0
    for i in range(len(n)):
        for _ in range(int(n[i])):
            correct = rng.random() < p[i]
            mean = mean_len[i] if correct else mean_len[i] * wrong_factor
            # log-normal with mean ``mean``: exp(sigma Z - sigma^2 / 2) has expectation 1
            length = mean * math.exp(sigma * rng.standard_normal() - sigma * sigma / 2)
            length = min(max(int(round(length)), 1), max_len)
            if tokens + length > token_cap:
                return _arrays(slots, rewards, lengths, drawn)
            tokens += length
            slots.append(i)
            rewards.append(1 if correct else 0)
            lengths.append(length)
            drawn[i] += 1
    return _arrays(slots, rewards, lengths, drawn)


def _arrays(slots, rewards, lengths, drawn):
    return (np.array(slots, np.int64), np.array(rewards, np.int8), np.array(lengths, np.int32), np.array(drawn, np.int64))


def group_counts(slot, reward, mask, n_slots):
    """Samples and correct samples per slot, among the masked ones."""
    count = [0] * n_slots
    pos = [0] * n_slots
    for s, r, m in zip(slot, reward, mask):
        if m:
            count[s] += 1
            pos[s] += int(r)
    return np.array(count, np.int64), np.array(pos, np.int64)


def group_mean_std(count, total):
    """Mean and unbiased std of the explicit 0/1 reward list of each group (verl: fewer than 2 -> 0, 1)."""
    mean, std = [], []
    for c, t in zip(count, total):
        if c < 2:
            mean.append(0.0)
            std.append(1.0)
            continue
        rewards = np.array([1.0] * int(t) + [0.0] * int(c - t))
        mean.append(float(np.mean(rewards)))
        std.append(float(np.std(rewards, ddof=1)))
    return np.array(mean), np.array(std)


def normalised_advantage(slot, reward, mask, mean, std, by_std, eps):
    """A_t = (r_t - mean) / (std + eps), or r_t - mean; 0 outside ``mask``."""
    out = []
    for s, r, m in zip(slot, reward, mask):
        if not m:
            out.append(0.0)
        elif by_std:
            out.append((float(r) - mean[s]) / (std[s] + eps))
        else:
            out.append(float(r) - mean[s])
    return np.array(out)


def policy_update(rng, slot, reward, length, adv, prompts, p, x, noise, ref_len, lr_shared, lr_prompt, scale, phi, u):
    """One SGD step on (phi, u), in place; returns the norm of the change.

    Per slot i with at least one nonzero advantage: signal_i = sum_j A_j (r_j - p_i)
    and the summed noise sum_j A_j xi_j ~ N(0, noise^2 sum_j A_j^2 len_j / ref_len)
    per coordinate, drawn for the d coordinates of phi and then for u_i.
    """
    d = x.shape[1]
    dphi = [0.0] * d
    du = [0.0] * len(prompts)
    for i in range(len(prompts)):
        members = [t for t in range(len(slot)) if slot[t] == i and adv[t] != 0.0]
        if not members:
            continue
        signal = sum(adv[t] * (reward[t] - p[i]) for t in members)
        var = sum(adv[t] ** 2 * length[t] for t in members)
        k = prompts[i]
        sd = noise[k] * math.sqrt(var / ref_len)
        for c in range(d):
            dphi[c] += signal * x[k, c] + sd * rng.standard_normal()
        du[i] = signal + sd * rng.standard_normal()
    change = []
    for c in range(d):
        step = lr_shared * scale * dphi[c]
        phi[c] += step
        change.append(step)
    for i in range(len(prompts)):
        step = lr_prompt * scale * du[i]
        u[prompts[i]] += step
        change.append(step)
    return math.sqrt(sum(s * s for s in change))


def grad_norms(rng, slot, reward, length, prompts, p, x, noise, ref_len, extra_dims):
    """|| (r - p)[x; 1] + xi || per sample, xi_c ~ N(0, noise^2 len / ref_len) over d + 1 + extra_dims coordinates.

    The extra coordinates are pure noise; their squared norm sd^2 chi2(extra_dims)
    is drawn as sd^2 * 2 Gamma(extra_dims / 2), as the kernel documents.
    """
    out = []
    for t in range(len(slot)):
        i = slot[t]
        k = prompts[i]
        sd = noise[k] * math.sqrt(length[t] / ref_len)
        err = reward[t] - p[i]
        vec = [err * x[k, c] + sd * rng.standard_normal() for c in range(x.shape[1])]
        vec.append(err + sd * rng.standard_normal())
        sq = sum(v * v for v in vec)
        if extra_dims > 0:
            sq += sd * sd * 2.0 * rng.standard_gamma(0.5 * extra_dims)
        out.append(math.sqrt(sq))
    return np.array(out)


def slot_sums(slot, values, n_slots):
    """Sum of integer ``values`` per slot."""
    out = [0] * n_slots
    for s, v in zip(slot, values):
        out[s] += int(v)
    return np.array(out, np.int64)


def fold_history(prompts, drawn, pos, tokens, step, h_n, h_pos, h_tokens, h_last_n, h_last_pos, h_last_step):
    """Fold one step into the history, in place: totals grow; ``last_*`` become this step's totals per prompt."""
    this_n, this_pos = {}, {}
    for s in range(len(prompts)):
        if drawn[s] == 0:
            continue
        k = int(prompts[s])
        h_n[k] += drawn[s]
        h_pos[k] += pos[s]
        h_tokens[k] += tokens[s]
        this_n[k] = this_n.get(k, 0) + int(drawn[s])
        this_pos[k] = this_pos.get(k, 0) + int(pos[s])
    for k in this_n:
        h_last_n[k] = this_n[k]
        h_last_pos[k] = this_pos[k]
        h_last_step[k] = step


def step_counts(drawn, pos, slot, length, keep, adv):
    """[samples, tokens, prompts that drew, prompts with a kept sample, kept samples,
    groups all correct, all wrong, mixed, kept samples with |advantage| > 1e-12]."""
    kept_slots = {int(s) for s, k in zip(slot, keep) if k}
    got = [i for i in range(len(drawn)) if drawn[i] > 0]
    return np.array([
        len(slot), sum(int(x) for x in length), len(got), len(kept_slots), sum(bool(k) for k in keep),
        sum(pos[i] == drawn[i] for i in got), sum(pos[i] == 0 for i in got), sum(0 < pos[i] < drawn[i] for i in got),
        sum(bool(k) and abs(a) > 1e-12 for k, a in zip(keep, adv)),
    ], np.int64)


def spending(group, p, drawn, n_groups, n_bands):
    """Samples per group, and per band floor(p * n_bands) of the pass rate (p = 1 in the last band)."""
    by_group, by_band = [0] * n_groups, [0] * n_bands
    for g, q, d in zip(group, p, drawn):
        by_group[g] += int(d)
        by_band[min(math.floor(q * n_bands), n_bands - 1)] += int(d)
    return np.array(by_group, np.int64), np.array(by_band, np.int64)


def request_totals(n, cost):
    """(min(0, smallest entry), total count, sum of n * cost)."""
    return min([0] + [int(v) for v in n]), float(sum(int(v) for v in n)), math.fsum(float(v) * c for v, c in zip(n, cost))


def neg_logits(t, b, u, prompts):
    """-((t_i + b_k) + u_k) for k the slot's prompt (i itself without prompts; no u term without u), and
    whether some finite value exceeds 709 (exp overflows past log(DBL_MAX) = 709.78)."""
    out = []
    for i, ti in enumerate(t):
        k = i if prompts is None else int(prompts[i])
        v = float(ti) + float(b[k])
        if u is not None:
            v += float(u[k])
        out.append(-v)
    return np.array(out, np.float64), any(math.isfinite(v) and v > 709.0 for v in out)


def one_over_one_plus(t):
    """1 / (1 + t_i)."""
    return np.array([1.0 / (1.0 + float(v)) for v in t], np.float64)


def gather_rows(x, rows):
    """The rows of ``x`` at ``rows``, one by one."""
    return np.array([[float(v) for v in x[int(k)]] for k in rows], np.float64).reshape(len(rows), x.shape[1])


def pairwise_sum(a):
    """numpy's pairwise summation, as its C source reads: up to 8 values in a row; up to 128 with 8 accumulators
    combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the rest in a row; above that, the two
    halves (the first cut down to a multiple of 8) summed recursively and added."""
    a = [float(v) for v in a]
    n = len(a)
    if n < 8:
        res = 0.0
        for v in a:
            res += v
        return res
    if n <= 128:
        r = a[:8]
        m = n - n % 8
        for i in range(8, m, 8):
            for j in range(8):
                r[j] += a[i + j]
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for v in a[m:]:
            res += v
        return res
    h = n // 2
    h -= h % 8
    return pairwise_sum(a[:h]) + pairwise_sum(a[h:])


def pass_at_ks(p, ks):
    """[mean(p)] then, per k, the mean of 1 - (1 - p)^k, in plain numpy (its power, its sum)."""
    out = [float(np.add.reduce(p) / len(p))]
    for k in ks:
        t = 1.0 - p
        t **= int(k)
        out.append(float(np.add.reduce(np.subtract(1.0, t, out=t)) / len(t)))
    return np.array(out)
