"""Generation time of one wave of batched decoding: an event-driven simulation and a closed form.

The rollout engines are vLLM-like continuous-batching replicas.  ``R = gpus / tp``
engines each run decode iterations over their active sequences; one iteration
with ``b`` sequences and ``C`` tokens of context costs the memory/compute roofline

    t_iter(b, C) = t_fix + max(a + c * C, f * b)

(``a``: reading the weights, ``c``: reading one token's KV cache, ``f``: one
sequence's forward FLOPs; the split of decode cost into compute and memory traffic
as in Kinetics, Infini-AI-Lab/Kinetics:cost_model).  The wave ends when the last
engine finishes (the synchronous barrier of verl's hybrid engine, the straggler
effect of DAPO's paper, arXiv 2503.14476, section 3.2).

Scheduling rules of the ``event`` model (and of the brute-force reference in the tests):

* dispatch ``chunk``: the wave is split by count into ``R`` contiguous chunks in
  submission order (verl's ``DataProto.chunk``), so a prompt's samples stay together;
  ``per_rollout``: every rollout is its own job and they are dealt to the engines in
  turn (Knapsack-RL's rollout balancing), so a prompt's samples spread over them all;
* an engine admits queued sequences in order when it starts and whenever its active
  set changes (a completion or a preemption), while ``b < max_num_seqs`` and the KV
  cache holds them: with preemption, ``C + tokens + b + 1 <= K_cap`` (room for the
  next iteration); without, the admitted sequences' final lengths must fit.  A lone
  sequence is always admitted;
* admission charges a prefill of ``f`` seconds per prompt token, once per prompt and
  engine with ``prefix_cache``;
* with preemption, when the next iteration's tokens would not fit, the most recently
  admitted sequence is preempted and put back at the front of its queue.  As vLLM's
  recompute policy does, re-admission re-prefills its prompt and generated tokens
  (one prefill, not a second decode);
* an engine whose queue is empty and whose sequences are done stops.

A shared queue that the first engine with room draws from would model "the engine
that frees up first" literally, but at the start of a wave it fills the first
engine up to ``max_num_seqs`` and leaves the others idle: dealing is what balancing
means here.
"""
from __future__ import annotations

import math

import numpy as np

from simbench.core._numba import jit

STRAGGLER_QUANTILE = 0.9  # Seer's metric: the share of the wave's time after 90% of its sequences finished


@jit
def iter_sum(b, C0, d, t_fix, a, c, f):
    """sum_{i<d} t_iter(b, C0 + i*b), in closed form: the compute branch up to the roofline crossover, then memory."""
    comp = f * b
    m0 = a + c * C0
    slope = c * b
    if slope > 0.0:
        x = (comp - m0) / slope
        k = 0.0 if x <= 0.0 else min(float(d), math.ceil(x))
    else:
        k = float(d) if comp > m0 else 0.0
    dd = float(d)
    mem = (dd - k) * m0 + slope * (dd * (dd - 1.0) - k * (k - 1.0)) / 2.0
    return dd * t_fix + k * comp + mem


@jit
def chunk_bounds(n, R):
    """np.array_split's bounds of ``n`` items over ``R`` chunks (the first ``n % R`` one larger)."""
    out = np.empty(R + 1, np.int64)
    q, r = n // R, n % R
    out[0] = 0
    for e in range(R):
        out[e + 1] = out[e] + q + (1 if e < r else 0)
    return out


@jit
def _dispatch_into(order, bounds, n, R, per_rollout):
    """Fill ``order[:n]`` and ``bounds`` as ``dispatch`` returns them."""
    if not per_rollout:
        bounds[:] = chunk_bounds(n, R)
        for j in range(n):
            order[j] = j
        return
    k = 0
    bounds[0] = 0
    for e in range(R):
        for j in range(e, n, R):
            order[k] = j
            k += 1
        bounds[e + 1] = k


@jit
def dispatch(n, R, per_rollout):
    """(order, bounds): engine e runs sequences ``order[bounds[e]:bounds[e+1]]`` in that order."""
    order = np.empty(n, np.int64)
    bounds = np.empty(R + 1, np.int64)
    _dispatch_into(order, bounds, n, R, per_rollout)
    return order, bounds


@jit
def workspace(n, R):
    """Scratch arrays for waves of up to ``n`` sequences on ``R`` engines, allocated once per step, not per wave.

    (P, L, prompt, order, bounds, g, target, active, cached, heap targets, heap items, stack, finish, done, clock)
    """
    m, cap = max(n, 1), 2 * n + 2
    iw = np.empty(7 * m + 3 * cap + R + 1, np.int64)  # three blocks, not fifteen allocations
    fw = np.empty(2 * m + R)
    cut = np.cumsum(np.array([m, m, m, m, R + 1, m, m, m, cap, cap, cap]))
    return (iw[:cut[0]], iw[cut[0]:cut[1]], iw[cut[1]:cut[2]], iw[cut[2]:cut[3]], iw[cut[3]:cut[4]], iw[cut[4]:cut[5]],
            iw[cut[5]:cut[6]], np.empty(m, np.bool_), iw[cut[6]:cut[7]], iw[cut[7]:cut[8]], iw[cut[8]:cut[9]],
            iw[cut[9]:cut[10]], fw[:m], fw[m:2 * m], fw[2 * m:])


@jit
def _heap_push(ht, hj, size, t, j):
    """Push (t, j) on the min-heap of targets ``ht`` (items ``hj``) holding ``size`` entries; return the new size."""
    i = size
    ht[i], hj[i] = t, j
    while i > 0:
        parent = (i - 1) // 2
        if ht[parent] <= ht[i]:
            break
        ht[parent], ht[i] = ht[i], ht[parent]
        hj[parent], hj[i] = hj[i], hj[parent]
        i = parent
    return size + 1


@jit
def _heap_pop(ht, hj, size):
    """Remove the root of the min-heap; return the new size."""
    size -= 1
    ht[0], hj[0] = ht[size], hj[size]
    i = 0
    while True:
        small, left, right = i, 2 * i + 1, 2 * i + 2
        if left < size and ht[left] < ht[small]:
            small = left
        if right < size and ht[right] < ht[small]:
            small = right
        if small == i:
            return size
        ht[small], ht[i] = ht[i], ht[small]
        hj[small], hj[i] = hj[i], hj[small]
        i = small


@jit
def simulate_wave(P, L, prompt, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption):
    """Event-driven decoding of one wave on ``R`` engines (rules in the module docstring), O(n log n) per engine.

    Parameters
    ----------
    P, L : (n,) int64 prompt and response tokens of each sequence, in submission order.
    prompt : (n,) int64 prompt index in [0, n) of each sequence (for the prefix cache).
    R, s_max, k_cap : engines, sequence cap and KV capacity (tokens) per engine.
    t_fix, a, c, f : roofline coefficients in seconds (per iteration, per iteration, per context token, per sequence).
    per_rollout, prefix_cache, preemption : bool switches.

    Returns
    -------
    finish : (n,) float64 time each sequence finished.
    clock : (R,) float64 time each engine finished.
    preemptions : int number of preemptions.
    """
    n = len(P)
    ws = workspace(n, R)
    pre = _simulate(P, L, prompt, n, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, ws)
    return ws[12][:n].copy(), ws[14].copy(), pre


@jit
def _simulate(P, L, prompt, n, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, ws):
    """``simulate_wave`` of the first ``n`` sequences in the scratch arrays ``ws`` of ``workspace``; return the preemptions.

    Fills ``finish[:n]``, ``clock`` and ``done[:n]``: each engine's finish times in completion order (non-decreasing),
    in the engine's segment ``bounds[e]:bounds[e+1]``.  An active sequence is kept as the engine iteration at which it
    will finish (a min-heap finds the next completion); its generated tokens follow from the engine's iteration count.
    Entries of preempted or finished sequences are left in the heap and in the admission stack and skipped when met.
    """
    _, _, _, queue, bounds, g, target, active, cached, ht, hj, stack, finish, done, clock = ws
    _dispatch_into(queue, bounds, n, R, per_rollout)
    for j in range(n):
        g[j] = 0  # tokens generated when last admitted or preempted
        active[j] = False
        cached[j] = -1  # the engine that holds each prompt's prefix
    cap = len(ht)
    preemptions = 0
    for e in range(R):
        head, end = bounds[e], bounds[e + 1]
        if _all_at_once(P, L, queue[head:end], s_max, k_cap):
            clock[e] = _run_all_at_once(P, L, prompt, queue[head:end], e, cached, prefix_cache, t_fix, a, c, f, finish,
                                        done[head:end])
            continue
        nd = head  # next slot of done
        t = 0.0
        it = 0  # decode iterations run by this engine
        b = 0
        C = 0  # context tokens of the active sequences
        reserve = 0  # their final lengths
        hsize = 0
        top = 0
        while True:
            if preemption:
                while b > 1 and C + b > k_cap:  # the next iteration's tokens do not fit: preempt the newest
                    top -= 1
                    j = stack[top]
                    if not active[j]:
                        continue
                    active[j] = False
                    g[j] = L[j] - (target[j] - it)
                    b -= 1
                    C -= P[j] + g[j]
                    reserve -= P[j] + L[j]
                    head -= 1
                    queue[head] = j
                    preemptions += 1
            while head < end and b < s_max:
                j = queue[head]
                need = P[j] + g[j]
                if preemption:
                    fits = C + need + b + 1 <= k_cap
                else:
                    fits = reserve + P[j] + L[j] <= k_cap
                if not fits and b > 0:
                    break
                head += 1
                if g[j] > 0:
                    t += f * need  # recompute after a preemption
                else:
                    t += _prefill(P, prompt, j, e, cached, prefix_cache, f)
                active[j] = True
                target[j] = it + L[j] - g[j]
                if hsize == cap or top == cap:  # compact: keep the live entries only
                    hsize, top = _compact(ht, hj, hsize, stack, top, active, target)
                hsize = _heap_push(ht, hj, hsize, target[j], j)
                stack[top] = j
                top += 1
                b += 1
                C += need
                reserve += P[j] + L[j]
            if b == 0:
                break
            while not (active[hj[0]] and target[hj[0]] == ht[0]):  # drop stale heap entries
                hsize = _heap_pop(ht, hj, hsize)
            d = ht[0] - it
            if preemption:
                d = max(1, min(d, (k_cap - C) // b))
            t += iter_sum(b, C, d, t_fix, a, c, f)
            C += d * b
            it += d
            while hsize > 0 and ht[0] <= it:
                j = hj[0]
                hsize = _heap_pop(ht, hj, hsize)
                if active[j] and target[j] == it:
                    active[j] = False
                    finish[j] = t
                    done[nd] = t
                    nd += 1
                    b -= 1
                    C -= P[j] + L[j]
                    reserve -= P[j] + L[j]
        clock[e] = t
    return preemptions


@jit
def _prefill(P, prompt, j, e, cached, prefix_cache, f):
    """Seconds to prefill sequence ``j``'s prompt on engine ``e`` (none if its prefix is cached there); marks it cached."""
    if prefix_cache and cached[prompt[j]] == e:
        return 0.0
    cached[prompt[j]] = e
    return f * P[j]


@jit
def _all_at_once(P, L, js, s_max, k_cap):
    """Whether an engine admits all its sequences ``js`` at its start with room for their final lengths.

    Then, if every sequence has a token to generate, no preemption or later admission can happen (the context never
    exceeds the final lengths) and the sequences finish in the order of ``L``.
    """
    if len(js) == 0 or len(js) > s_max:
        return False
    total = 0
    for j in js:
        if L[j] < 1:
            return False
        total += P[j] + L[j]
    return total <= k_cap


@jit
def _run_all_at_once(P, L, prompt, js, e, cached, prefix_cache, t_fix, a, c, f, finish, done):
    """Engine ``e``'s clock when ``_all_at_once`` holds: the event loop's admissions and completions with the same
    floating-point operations, one sort instead of a heap.  Fills ``finish`` and ``done`` (in completion order)."""
    t = 0.0
    C = 0
    for j in js:
        t += _prefill(P, prompt, j, e, cached, prefix_cache, f)
        C += P[j]
    m = len(js)
    order = np.argsort(L[js])
    b = m
    it = 0
    i = 0
    while i < m:
        end = L[js[order[i]]]
        d = end - it
        t += iter_sum(b, C, d, t_fix, a, c, f)
        C += d * b
        it = end
        while i < m and L[js[order[i]]] == end:
            j = js[order[i]]
            finish[j] = t
            done[i] = t
            b -= 1
            C -= P[j] + L[j]
            i += 1
    return t


@jit
def _compact(ht, hj, hsize, stack, top, active, target):
    """Drop the stale entries of the heap and of the admission stack; return their new sizes."""
    k = 0
    for i in range(top):
        if active[stack[i]]:
            stack[k] = stack[i]
            k += 1
    top = k
    size = 0
    items = hj[:hsize].copy()
    times = ht[:hsize].copy()
    for i in range(len(items)):
        j = items[i]
        if active[j] and target[j] == times[i]:
            size = _heap_push(ht, hj, size, times[i], j)
    return size, top


@jit
def simple_wave(P, L, prompt, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache):
    """Closed-form generation time: per engine, the larger of the throughput bound and the longest sequence's latency.

    Throughput: prefill plus ``sum L * t_iter(b, C)/b`` at the engine's mean batch ``b = min(s_max, k_cap/(P+L), n_e)``
    and mean context ``C = b (P + L/2)``; latency: ``P f + L t_iter(1, P + L/2)``.
    """
    n = len(L)
    seen = np.full(max(n, 1), -1, np.int64)
    return _simple(P, np.arange(n), L, prompt, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, seen, 0)[0]


@jit
def _simple(P, idx, L, key, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, seen, stamp):
    """(``simple_wave``, total prompt tokens, total response tokens) of sequences with prompt tokens ``P[idx]``,
    response tokens ``L`` and prompt ids ``key``.

    Engine e's prompt prefixes are cached when ``seen[key] == stamp + e`` (``seen`` below ``stamp`` before the call),
    so that a step's waves share one array without resetting it.  The engines' sequences are read in place.
    """
    n = len(L)
    q, r = n // R, n % R
    T = tp = tl = 0.0
    for e in range(R):
        if per_rollout:  # dealt in turn
            lo, hi, by = e, n, R
        else:  # np.array_split's chunks, as chunk_bounds
            lo = e * q + min(e, r)
            hi, by = lo + q + (1 if e < r else 0), 1
        if hi <= lo:
            continue
        sp = 0.0
        sl = 0.0
        pre = 0.0
        lat = 0.0
        for i in range(lo, hi, by):
            Pj, Lj = P[idx[i]], L[i]
            sp += Pj
            sl += Lj
            if not prefix_cache or seen[key[i]] != stamp + e:
                pre += Pj
                seen[key[i]] = stamp + e
            t1 = t_fix + max(a + c * (Pj + Lj / 2.0), f)
            lat = max(lat, Pj * f + Lj * t1)
        m = (hi - lo + by - 1) // by
        pm, lm = sp / m, sl / m
        bb = max(1.0, min(float(s_max), k_cap / (pm + lm), float(m)))
        t_it = t_fix + max(a + c * bb * (pm + lm / 2.0), f * bb)
        thr = pre * f + sl * t_it / bb
        T = max(T, thr, lat)
        tp += sp
        tl += sl
    return T, tp, tl


@jit
def straggler_time(finish, T):
    """Seconds of the wave after ``STRAGGLER_QUANTILE`` of its sequences had finished."""
    n = len(finish)
    return _straggler_sorted(np.sort(finish), np.array([0, n]), n, T)


@jit
def _straggler_sorted(done, bounds, n, T):
    """``straggler_time`` from each engine's finish times in non-decreasing order, ``done[bounds[e]:bounds[e+1]]``.

    The quantile is the (n - 1 - k)-th largest finish time: merging the engines' sorted runs from their ends reaches
    it in O(R (n - k)) steps, a tenth of the wave, instead of a selection over all of it.
    """
    if n == 0:
        return 0.0
    k = max(0, math.ceil(STRAGGLER_QUANTILE * n) - 1)
    R = len(bounds) - 1
    tail = bounds[1:].copy()  # one past each run's largest unmerged entry
    x = 0.0
    for _ in range(n - k):
        best = -1
        for e in range(R):
            if tail[e] > bounds[e] and (best < 0 or done[tail[e] - 1] > done[tail[best] - 1]):
                best = e
        tail[best] -= 1
        x = done[tail[best]]
    return T - x


@jit
def peak_rate_kernel(R, s_max, k_cap, t_fix, a, c, f, pm, lm):
    """Decode tokens per second of ``R`` engines fully batched at mean prompt ``pm`` and response ``lm`` tokens."""
    b = max(1.0, min(float(s_max), k_cap / (pm + lm)))
    return R * b / (t_fix + max(a + c * b * (pm + lm / 2.0), f * b))


@jit
def _event_wave(n, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, ws):
    """(T_gen, straggler seconds, preemptions) of the wave held in the first ``n`` entries of ``ws``'s P, L and prompt."""
    pre = _simulate(ws[0], ws[1], ws[2], n, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, ws)
    T = ws[14].max()
    return T, _straggler_sorted(ws[13], ws[4], n, T), pre


@jit
def wave_kernel(P, L, prompt, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, simple):
    """(T_gen, straggler seconds, preemptions) of one wave; ``simple``: the closed form (straggling nan, no preemption)."""
    if simple:
        return simple_wave(P, L, prompt, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache), np.nan, 0
    n = len(P)
    ws = workspace(n, R)
    ws[0][:n] = P
    ws[1][:n] = L
    ws[2][:n] = prompt
    return _event_wave(n, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, ws)


@jit
def step_kernel(P, slot, length, wave, keep, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, simple):
    """(gen, straggler seconds, preemptions, decode tokens, capacity token-seconds, waves, kept tokens) of a step.

    The samples of a wave are contiguous (the engine appends them wave by wave).  ``simple`` reads them in place;
    ``event`` copies each wave into scratch arrays shared by all the step's waves.  It lives in this module with
    the kernels it calls, so that numba's on-disk cache, which tracks a kernel's own file only, never keeps it
    compiled against an older version of them.
    """
    n = len(slot)
    ws = workspace(0 if simple else n, R)
    Pw, Lw, prompt = ws[0], ws[1], ws[2]
    # event: slot -> prompt index within the wave (for the prefix cache), -1 between waves; simple: _simple's seen
    local = np.full(len(P), -1, np.int64)
    gen = strag = useful = capacity = 0.0
    pre = waves = kept = 0
    start = 0
    while start < n:
        stop = start + 1
        while stop < n and wave[stop] == wave[start]:
            stop += 1
        m = stop - start
        if simple:  # its token totals are exact integers in floats: the same values as integer sums
            w = slot[start:stop]
            T, sp, sl = _simple(P, w, length[start:stop], w, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache,
                                local, waves * R)
            st, p = np.nan, 0
        else:
            k = sp = sl = 0
            for i in range(m):
                s = slot[start + i]
                if local[s] < 0:
                    local[s] = k
                    k += 1
                prompt[i] = local[s]
                Pw[i] = P[s]
                Lw[i] = length[start + i]
                sp += Pw[i]
                sl += Lw[i]
            for i in range(m):
                local[slot[start + i]] = -1
            T, st, p = _event_wave(m, R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, ws)
        gen += T
        strag += st
        pre += p
        useful += sl
        capacity += T * peak_rate_kernel(R, s_max, k_cap, t_fix, a, c, f, sp / m, sl / m)
        waves += 1
        start = stop
    for i in range(n):
        kept += keep[i] * (P[slot[i]] + length[i])  # no branch: keep is random
    return gen, strag, pre, useful, capacity, waves, kept


def coefficients(spec) -> tuple[float, float, float, float]:
    """(t_fix, a, c, f) of ``t_iter`` in seconds for a ``CostSpec``, per engine of ``tp`` GPUs."""
    from simbench.cost.spec import kv_bytes_per_token, weight_bytes

    tp = spec.rollout.tp
    bw = spec.hw.hbm_tbps * 1e12 * spec.hw.bw_eff  # bytes/s each GPU reads; each holds 1/tp of weights and KV
    flops = spec.hw.peak_tflops * 1e12 * spec.hw.mfu_decode
    return (spec.rollout.t_fix_ms / 1e3, weight_bytes(spec) / tp / bw, kv_bytes_per_token(spec) / bw,
            2.0 * spec.model.params / (tp * flops))


def engine_args(spec) -> tuple:
    """The engine's arguments of ``wave_kernel`` after the wave: (R, s_max, k_cap, t_fix, a, c, f, per_rollout, prefix_cache, preemption, simple)."""
    from simbench.cost.spec import k_cap

    r = spec.rollout
    return (spec.engines, r.max_num_seqs, k_cap(spec), *coefficients(spec), r.dispatch == "per_rollout", r.prefix_cache,
            r.preemption, r.gen_model == "simple")


def wave_time(spec, P: np.ndarray, L: np.ndarray, prompt: np.ndarray) -> tuple[float, float, int]:
    """(T_gen seconds, straggler seconds, preemptions) of one wave under ``spec.rollout.gen_model``.

    The ``simple`` model has no timeline: its straggler seconds are nan and it never preempts.
    """
    if len(L) == 0:
        return 0.0, 0.0, 0
    P, L, prompt = (np.ascontiguousarray(x, np.int64) for x in (P, L, prompt))
    T, s, pre = wave_kernel(P, L, prompt, *engine_args(spec))
    return float(T), float(s), int(pre)


def peak_rate(spec, P: np.ndarray, L: np.ndarray) -> float:
    """Decode tokens per second of all engines fully batched at the wave's mean lengths (``gen_util``'s denominator)."""
    if len(L) == 0:
        return math.nan
    R, s_max, cap, t_fix, a, c, f = engine_args(spec)[:7]
    return peak_rate_kernel(R, s_max, cap, t_fix, a, c, f, float(np.mean(P)), float(np.mean(L)))
