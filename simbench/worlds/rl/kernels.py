"""Numba kernels: the inner loops over prompts and samples.

Kernels are pure functions over arrays and a numpy ``Generator``; they know
nothing of scenarios or classes, and each is called once per wave (or step)
over all prompts, never once per prompt from Python.  ``tests/naive.py`` holds
slow, obviously correct references for each.
"""
from __future__ import annotations

import math

import numpy as np

from simbench.core._numba import as_generator, jit


@jit
def draw_wave(rng, n, p, mean_len, wrong_factor, sigma, max_len, token_cap):
    """Draw the responses of one wave: ``draw_wave_sums`` without its per-slot sums."""
    slot, reward, length, drawn, _, _ = draw_wave_sums(rng, n, p, mean_len, wrong_factor, sigma, max_len, token_cap)
    return slot, reward, length, drawn


@jit
def draw_wave_sums(rng, n, p, mean_len, wrong_factor, sigma, max_len, token_cap):
    """Draw the responses of one wave.

    Parameters
    ----------
    rng : numpy.random.Generator, or its ``generator_handle`` (cheaper to pass)
    n : (S,) int64 responses wanted per slot.
    p : (S,) float64 current pass rate per slot.
    mean_len : (S,) float64 mean length of a correct response per slot.
    wrong_factor, sigma : float, length multiplier of wrong answers and log-sd.
    max_len : int, truncation of a response's length.
    token_cap : float, stop before the sample that would exceed this many tokens.

    Returns
    -------
    slot : (T,) int64, reward : (T,) int8, length : (T,) int32,
    drawn, pos, tokens : (S,) int64 responses actually drawn, correct ones and their tokens, per slot.

    Slots are visited in order, samples of a slot consecutively: per sample one
    uniform for the reward and one normal for the length.
    """
    gen = as_generator(rng)
    total = 0
    for i in range(n.shape[0]):
        total += n[i]
    slot = np.empty(total, np.int64)
    reward = np.empty(total, np.int8)
    length = np.empty(total, np.int32)
    drawn = np.zeros(n.shape[0], np.int64)
    pos = np.zeros(n.shape[0], np.int64)
    slot_tokens = np.zeros(n.shape[0], np.int64)
    half_var = 0.5 * sigma * sigma
    tokens = 0  # an integer: exact, and compared as a float like the cap
    t = 0
    for i in range(n.shape[0]):
        pi = p[i]
        m_right = mean_len[i]
        m_wrong = mean_len[i] * wrong_factor
        q, tok = 0, 0
        for k in range(n[i]):
            r = 1 if gen.random() < pi else 0
            m = m_right if r == 1 else m_wrong
            ln = int(round(m * math.exp(sigma * gen.standard_normal() - half_var)))
            if ln < 1:
                ln = 1
            elif ln > max_len:
                ln = max_len
            if float(tokens + ln) > token_cap:
                drawn[i], pos[i], slot_tokens[i] = k, q, tok
                return slot[:t], reward[:t], length[:t], drawn, pos, slot_tokens
            tokens += ln
            q += r
            tok += ln
            slot[t] = i
            reward[t] = r
            length[t] = ln
            t += 1
        drawn[i], pos[i], slot_tokens[i] = max(n[i], 0), q, tok
    return slot, reward, length, drawn, pos, slot_tokens


# The same draw in two kernels around numpy's vectorised exp, for waves without a token cap (the cap
# stops the draw at a sample that depends on the lengths before it).  The scalar exp was about 60% of
# the draw; numpy's exp may differ from it in the last bit, which changes a length only when
# mean * exp lies within a few ulps of a half-integer: there the length is recomputed with the scalar
# exp, so the lengths are the one-pass kernel's, bit for bit.
EXP_AGREE = 1e-12  # relative: numpy's and the scalar exp agree far closer (a few 1e-16)


@jit
def draw_wave_exponents(rng, n, p, sigma):
    """``draw_wave_sums`` without a token cap, up to the lengths: per sample, in the same order, the same
    uniform (reward) and normal, kept as the length's exponent ``sigma z - sigma^2 / 2``.

    Returns slot (T,) int64, reward (T,) int8, exponent (T,) float64.
    """
    gen = as_generator(rng)
    total = 0
    for i in range(n.shape[0]):
        total += max(n[i], 0)
    slot = np.empty(total, np.int64)
    reward = np.empty(total, np.int8)
    expo = np.empty(total)
    half_var = 0.5 * sigma * sigma
    t = 0
    for i in range(n.shape[0]):
        pi = p[i]
        for _ in range(n[i]):
            reward[t] = 1 if gen.random() < pi else 0
            expo[t] = sigma * gen.standard_normal() - half_var
            slot[t] = i
            t += 1
    return slot, reward, expo


@jit
def _length(v, max_len):
    """A response's length from mean * exp: rounded half to even (as Python's round), clipped to [1, max_len]."""
    ln = int(round(v))
    if ln < 1:
        ln = 1
    elif ln > max_len:
        ln = max_len
    return ln


@jit
def _exp_decides(v, agree):
    """Whether ``round(v)`` could change if ``v``'s exp changed by ``agree`` (relative): near a half-integer,
    beyond 2^52 or nan."""
    return (v >= 4503599627370496.0) | (abs(v - np.floor(v) - 0.5) <= agree * v) | (v != v)  # |, not or: no branch


@jit
def wave_lengths(n, slot, reward, expo, e, mean_len, wrong_factor, max_len, agree):
    """The lengths ``round(m exp(expo))`` (m the slot's mean, times ``wrong_factor`` when wrong), clipped to
    [1, max_len], from ``e`` (numpy's ``exp(expo)``) unless ``m e`` lies within ``agree`` (relative) of a
    half-integer, where the scalar exp decides as in ``draw_wave_sums``; and the per-slot sums.

    Returns length (T,) int32, drawn, pos, tokens (S,) int64.
    """
    S = n.shape[0]
    length = np.empty(slot.shape[0], np.int32)
    drawn = np.zeros(S, np.int64)
    pos = np.zeros(S, np.int64)
    tokens = np.zeros(S, np.int64)
    means = np.empty(2)  # the slot's mean length when wrong and when right: a lookup, not a branch on r
    products = np.empty(slot.shape[0])
    t = 0
    for i in range(S):
        means[1] = mean_len[i]
        means[0] = mean_len[i] * wrong_factor
        q, tok = 0, 0
        for _ in range(n[i]):
            r = reward[t]
            v = means[r] * e[t]
            products[t] = v
            ln = _length(v, max_len)
            length[t] = ln
            q += r
            tok += ln
            t += 1
        drawn[i], pos[i], tokens[i] = max(n[i], 0), q, tok
    # the near-ties counted in a loop of their own (a vectorised one), fixed in another (about never)
    near = 0
    for t in range(slot.shape[0]):
        near += _exp_decides(products[t], agree)
    if near:
        for t in range(slot.shape[0]):
            if _exp_decides(products[t], agree):
                m = mean_len[slot[t]] * (1.0 if reward[t] == 1 else wrong_factor)  # as means[r] above
                ln = _length(m * math.exp(expo[t]), max_len)
                tokens[slot[t]] += ln - length[t]
                length[t] = ln
    return length, drawn, pos, tokens


def draw_wave_fast(rng, n, p, mean_len, wrong_factor, sigma, max_len):
    """``draw_wave_sums`` without a token cap, bit for bit and leaving ``rng`` in the same state: the
    draws in one kernel, numpy's exp, the lengths in another (see ``EXP_AGREE``)."""
    slot, reward, expo = draw_wave_exponents(rng, n, p, sigma)
    length, drawn, pos, tokens = wave_lengths(n, slot, reward, expo, np.exp(expo), mean_len, wrong_factor, max_len, EXP_AGREE)
    return slot, reward, length, drawn, pos, tokens


# Per-slot sums below add a run of consecutive samples of one slot in a register before touching
# the slot's entry: samples come slot by slot, and adding into the same memory entry sample after
# sample is bound by store-to-load latency.  Integer sums, so the result does not depend on the order.


@jit
def group_counts(slot, reward, mask, n_slots):
    """Per-slot number of samples and of correct samples among ``mask``."""
    count = np.zeros(n_slots, np.int64)
    pos = np.zeros(n_slots, np.int64)
    cur, c, q = -1, 0, 0
    for t in range(slot.shape[0]):
        if slot[t] != cur:
            if cur >= 0:
                count[cur] += c
                pos[cur] += q
            cur, c, q = slot[t], 0, 0
        m = 1 if mask[t] else 0
        c += m
        q += m * reward[t]
    if cur >= 0:
        count[cur] += c
        pos[cur] += q
    return count, pos


@jit
def slot_sums(slot, values, n_slots):
    """Per-slot sum of integer ``values`` (int64): np.bincount(slot, weights=values), exact."""
    out = np.zeros(n_slots, np.int64)
    cur, acc = -1, 0
    for t in range(slot.shape[0]):
        if slot[t] != cur:
            if cur >= 0:
                out[cur] += acc
            cur, acc = slot[t], 0
        acc += values[t]
    if cur >= 0:
        out[cur] += acc
    return out


@jit
def fold_history(prompts, drawn, pos, tokens, step, h_n, h_pos, h_tokens, h_last_n, h_last_pos, h_last_step):
    """Add one step's per-slot counts into the per-prompt history arrays, in place; return the step's tokens.

    Slots with ``drawn == 0`` are skipped.  A prompt in two slots gets both
    slots' counts; its ``last_*`` entries are this step's totals.
    """
    for s in range(prompts.shape[0]):
        if drawn[s] > 0:
            k = prompts[s]
            h_last_n[k] = 0
            h_last_pos[k] = 0
    total = tokens.dtype.type(0)
    for s in range(prompts.shape[0]):
        if drawn[s] > 0:
            k = prompts[s]
            h_n[k] += drawn[s]
            h_pos[k] += pos[s]
            h_tokens[k] += tokens[s]
            h_last_n[k] += drawn[s]
            h_last_pos[k] += pos[s]
            h_last_step[k] = step
            total += tokens[s]
    return total


@jit
def group_mean_std(count, total):
    """Mean and unbiased std of a group of ``count`` rewards summing to ``total``.

    Rewards are 0/1 here, so the sums are sufficient.  verl's conventions: a
    group of one (or none) gets mean 0 and std 1.
    """
    S = count.shape[0]
    mean = np.zeros(S)
    std = np.ones(S)
    for i in range(S):
        c = count[i]
        if c >= 2:
            mu = total[i] / c
            mean[i] = mu
            # sum (r - mu)^2 = c mu (1 - mu) for 0/1 rewards
            std[i] = math.sqrt(max(c * mu * (1.0 - mu), 0.0) / (c - 1))
    return mean, std


@jit
def normalised_advantage(slot, reward, mask, mean, std, by_std, eps):
    """A = (r - mean[slot]) / (std[slot] + eps) (or r - mean) where ``mask``, else 0.

    With 0/1 rewards (checked first) a slot's advantages take two values, computed once per slot
    (the same operations, so the same bits) and looked up per sample, where a division per sample
    bound the loop; other rewards are computed per sample.
    """
    T = slot.shape[0]
    adv = np.empty(T)  # every entry is written: no separate pass to zero it first
    binary = True
    for t in range(T):
        binary &= (reward[t] == 0) | (reward[t] == 1)
    if not binary:
        for t in range(T):
            a = 0.0
            if mask[t]:
                a = reward[t] - mean[slot[t]]
                if by_std:
                    a /= std[slot[t]] + eps
            adv[t] = a
        return adv
    table = np.empty(2 * mean.shape[0])  # slot s's advantage of reward r in entry 2 s + r
    for i in range(mean.shape[0]):
        for r in range(2):
            a = r - mean[i]
            if by_std:
                a /= std[i] + eps
            table[2 * i + r] = a
    for t in range(T):
        adv[t] = table[2 * slot[t] + reward[t]] if mask[t] else 0.0
    return adv


@jit
def group_advantage(slot, reward, keep, drawn, pos, by_std, eps, global_stats):
    """GRPO's advantage in one call: per-slot counts of the kept samples (of every sample with
    ``global_stats``), ``group_mean_std``, the std floored at ``eps`` with ``global_stats``, then
    ``normalised_advantage``.

    ``drawn`` and ``pos`` are the slots' counts of every sample (a ``StepView``'s): the counts
    themselves when every sample counts, where counting them again was a pass over the samples.
    """
    every = global_stats
    if not every:
        every = True
        for t in range(keep.shape[0]):
            every &= keep[t]
    if every:
        mean, std = group_mean_std(drawn, pos)
    else:
        mean, std = group_mean_std(*group_counts(slot, reward, keep, drawn.shape[0]))
    if global_stats:
        for i in range(std.shape[0]):
            std[i] = max(std[i], eps)  # never nan: as np.maximum
    return normalised_advantage(slot, reward, keep, mean, std, by_std, eps)


@jit
def policy_update(rng, slot, reward, length, adv, prompts, p, x, noise, ref_len, lr_shared, lr_prompt, scale, phi, u):
    """Apply one SGD step of the logistic policy in place; return the update's norm.

    The score of sample j of slot i is (r_ij - p_i) [x_i ; e_i] + xi_ij with
    xi_ij ~ N(0, noise_i^2 * len_ij / ref_len I).  The update is
    ``scale * sum_j A_j score_j`` (times ``lr_shared`` on phi, ``lr_prompt`` on u).
    Because the xi_ij are independent Gaussians, sum_j A_j xi_ij of one slot is
    one Gaussian with variance noise_i^2 sum_j A_j^2 len_j / ref_len: one draw
    per slot and coordinate, so the cost is O(samples + slots * d).  ``rng``: a Generator or its handle.
    """
    gen = as_generator(rng)
    S = prompts.shape[0]
    d = x.shape[1]
    signal = np.zeros(S)
    var = np.zeros(S)
    # a run of samples of one slot accumulates in registers, from and back to the slot's entries:
    # the same additions in the same order as adding into the entries sample by sample
    cur, sig, v = -1, 0.0, 0.0
    for t in range(slot.shape[0]):
        a = adv[t]
        if a != 0.0:
            i = slot[t]
            if i != cur:
                if cur >= 0:
                    signal[cur], var[cur] = sig, v
                cur, sig, v = i, signal[i], var[i]
            sig += a * (reward[t] - p[i])
            v += a * a * length[t]
    if cur >= 0:
        signal[cur], var[cur] = sig, v
    dphi = np.zeros(d)
    du = np.zeros(S)
    for i in range(S):
        if var[i] == 0.0:
            continue
        k = prompts[i]
        sd = noise[k] * math.sqrt(var[i] / ref_len)
        for c in range(d):
            dphi[c] += signal[i] * x[k, c] + sd * gen.standard_normal()
        du[i] = signal[i] + sd * gen.standard_normal()
    sq = 0.0
    for c in range(d):
        step = lr_shared * scale * dphi[c]
        phi[c] += step
        sq += step * step
    for i in range(S):
        step = lr_prompt * scale * du[i]
        u[prompts[i]] += step
        sq += step * step
    return math.sqrt(sq)


@jit
def grad_norms(rng, slot, reward, length, prompts, p, x, noise, ref_len, extra_dims):
    """Per-sample norm of the score (r - p)[x; 1] + xi, xi over d + 1 + extra_dims coordinates.

    O(samples * d): only for allocators that measure gradient norms (GVM's stage 1).
    ``rng``: a Generator or its handle.
    """
    gen = as_generator(rng)
    T = slot.shape[0]
    d = x.shape[1]
    out = np.empty(T)
    for t in range(T):
        i = slot[t]
        k = prompts[i]
        sd = noise[k] * math.sqrt(length[t] / ref_len)
        e = reward[t] - p[i]
        sq = 0.0
        for c in range(d):
            v = e * x[k, c] + sd * gen.standard_normal()
            sq += v * v
        v = e + sd * gen.standard_normal()
        sq += v * v
        if extra_dims > 0:
            # the extra coordinates hold pure noise: their squared norm is sd^2 chi2(extra_dims)
            sq += sd * sd * 2.0 * gen.standard_gamma(0.5 * extra_dims)
        out[t] = math.sqrt(sq)
    return out


@jit
def request_totals(n, cost):
    """An allocator's request ``n`` (per slot): its smallest entry, its total, and its cost ``sum(n * cost)``."""
    lowest = 0
    total = 0.0
    need = 0.0
    for i in range(n.shape[0]):
        if n[i] < lowest:
            lowest = n[i]
        total += n[i]
        need += n[i] * cost[i]
    return lowest, total, need


@jit
def step_counts(drawn, pos, slot, length, keep, adv):
    """The step's counts for its metrics row, as one int64 array.

    samples, tokens, prompts (slots that drew), trained_prompts (slots with a kept
    sample), trained_samples (kept samples), groups all correct, all wrong and
    mixed (among slots that drew), effective samples (kept, |advantage| > 1e-12).
    ``drawn`` and ``pos`` count every sample of ``slot``, per slot.
    """
    out = np.zeros(9, np.int64)
    S = drawn.shape[0]
    # sums without a branch per slot (vectorisable), then a flag per slot with a kept sample:
    # plain stores, where a per-slot running count mispredicts at every new slot
    tokens, kept, effective = 0, 0, 0
    for t in range(slot.shape[0]):
        tokens += length[t]
        m = 1 if keep[t] else 0
        kept += m
        effective += m if abs(adv[t]) > 1e-12 else 0
    trained = np.zeros(S, np.bool_)
    if kept < slot.shape[0]:
        for t in range(slot.shape[0]):
            if keep[t]:
                trained[slot[t]] = True
    else:  # every sample kept: the slots that drew (``drawn`` counts every sample of the step)
        for i in range(S):
            trained[i] = drawn[i] > 0
    for i in range(S):
        if trained[i]:
            out[3] += 1
        if drawn[i] > 0:
            out[2] += 1
            if pos[i] == drawn[i]:
                out[5] += 1
            elif pos[i] == 0:
                out[6] += 1
            else:
                out[7] += 1
    out[0], out[1], out[4], out[8] = slot.shape[0], tokens, kept, effective
    return out


@jit
def spending(group, p, drawn, n_groups, n_bands):
    """Samples drawn per group and per band of the slot's pass rate (``n_bands`` equal bands of [0, 1])."""
    by_group = np.zeros(n_groups, np.int64)
    by_band = np.zeros(n_bands, np.int64)
    for i in range(drawn.shape[0]):
        by_group[group[i]] += drawn[i]
        by_band[min(int(p[i] * n_bands), n_bands - 1)] += drawn[i]
    return by_group, by_band


# log(DBL_MAX) is 709.78: exp of anything above overflows (a warning in numpy); a little margin below it
EXP_SAFE = 709.0


@jit
def neg_logits(t, b, u, prompts):
    """``t <- -((t + b[k]) + u[k])`` in place, k = ``prompts[i]`` (or i when ``prompts`` is None).

    ``u`` may be None (test prompts).  The same additions in the same order as numpy's
    ``t += b; t += u; np.negative(t)``.  Returns whether some finite entry is above
    ``EXP_SAFE`` (its exp overflows), so that the caller silences that only when needed.
    """
    risky = False
    for i in range(t.shape[0]):
        k = i
        if prompts is not None:
            k = prompts[i]
        v = t[i] + b[k]
        if u is not None:
            v += u[k]
        v = -v
        if v > EXP_SAFE and v != math.inf:
            risky = True
        t[i] = v
    return risky


@jit
def one_over_one_plus(t):
    """``t <- 1 / (1 + t)`` in place: the end of a sigmoid, after ``t = exp(-theta)``.  Returns nothing
    (returning ``t`` would cost a new Python object of it, about 0.5 us)."""
    for i in range(t.shape[0]):
        t[i] = 1.0 / (t[i] + 1.0)


@jit
def _block_sum(a, lo, n):
    """numpy's pairwise sum of at most 128 values: up to 8 in a row, else 8 accumulators combined as
    ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the remainder in a row."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    end = lo + n - n % 8
    i = lo + 8
    while i < end:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for j in range(end, lo + n):
        res += a[j]
    return res


@jit
def pairwise_sum(a):
    """``np.add.reduce(a)`` of a contiguous 1-D float64 array, bit for bit: numpy's pairwise sum.

    Above 128 values numpy sums the two halves (the first a multiple of 8) recursively and adds them;
    this walks the same tree with an explicit stack (numba's cache cannot hold a recursive kernel).
    The whole array only: a constant start would compile a second version of every call below.
    """
    start = np.zeros(64, np.int64)  # 64 halvings cover any int64 length
    size = np.empty(64, np.int64)
    left = np.empty(64)
    has_left = np.zeros(64, np.bool_)
    top = 0
    size[0] = a.shape[0]
    while True:
        while size[top] > 128:  # down the left halves
            h = size[top] // 2
            h -= h % 8
            start[top + 1], size[top + 1], has_left[top + 1] = start[top], h, False
            top += 1
        s = _block_sum(a, start[top], size[top])
        while True:  # up: a left half waits for its right half, a right half completes its parent
            if top == 0:
                return s
            parent = top - 1
            if not has_left[parent]:
                left[parent], has_left[parent] = s, True
                h = size[parent] // 2
                h -= h % 8
                start[top], size[top], has_left[top] = start[parent] + h, size[parent] - h, False
                break
            s = left[parent] + s
            top = parent


@jit
def complements(p, ks):
    """The rows that numpy's power raises for ``pass_at_k_means``: one row ``1 - p`` per k of ``ks`` other than
    1 and 2 (``t **= k`` leaves t for k = 1 and squares it for k = 2), and those k as a column of exponents."""
    m = 0
    for k in ks:
        m += 1 if k > 2 else 0
    rows = np.empty((m, p.shape[0]))
    exps = np.empty((m, 1))
    j = 0
    for k in ks:
        if k > 2:
            exps[j, 0] = k
            for i in range(p.shape[0]):
                rows[j, i] = 1.0 - p[i]
            j += 1
    return rows, exps


@jit
def pass_at_k_means(p, powered, ks):
    """``[mean(p)]`` then the mean of ``1 - (1 - p)^k`` for each k of ``ks``, as numpy's ``t = 1 - p; t **= k;``
    ``np.add.reduce(1 - t) / len(t)``: ``powered`` holds ``(1 - p)^k`` from numpy's power for k > 2
    (``complements``); k = 1 and 2 are computed here as numpy does them (t, and t * t)."""
    n = p.shape[0]
    out = np.empty(ks.shape[0] + 1)
    out[0] = pairwise_sum(p) / n
    scratch = np.empty(n)
    j = 0
    for c in range(ks.shape[0]):
        k = ks[c]
        if k > 2:
            for i in range(n):
                scratch[i] = 1.0 - powered[j, i]
            j += 1
        else:
            for i in range(n):
                t = 1.0 - p[i]
                scratch[i] = 1.0 - (t * t if k == 2 else t)
        out[c + 1] = pairwise_sum(scratch) / n
    return out



@jit
def step_row(drawn, pos, slot, length, keep, adv, group, p, n_groups, n_bands):
    """The integers of a step's metrics row in one array: ``step_counts`` then ``spending``'s two."""
    counts = step_counts(drawn, pos, slot, length, keep, adv)
    by_group, by_band = spending(group, p, drawn, n_groups, n_bands)
    return np.concatenate((counts, by_group, by_band))


@jit
def gather_rows(x, rows):
    """``x[rows]`` of a 2-D array, C-ordered as numpy's: a plain copy loop, about 3x numpy's fancy indexing here."""
    out = np.empty((rows.shape[0], x.shape[1]), x.dtype)
    for i in range(rows.shape[0]):
        k = rows[i]
        for c in range(x.shape[1]):
            out[i, c] = x[k, c]
    return out
