"""A whole uniform-GRPO history in one compiled call (the calibration's inner loop).

``uniform_grpo_history`` runs, step by step, what the general engine (``Cell``
with a uniform allocator, epoch shuffling, keep-all and GRPO advantages) does,
and records each prompt's correct count at each appearance as ``RecordingCell``
does.  It calls the engine's own kernels (``draw_wave``, ``group_counts``,
``group_mean_std``, ``normalised_advantage``, ``policy_update``) on the same
random streams in the same order, so the counts equal the engine's.

The float arithmetic around those kernels is the learner's (``LogisticPolicy``)
written as loops: the pass rates' dot product ``x_i . phi``, the logistic's
``exp`` and the format gate's ``dot(A, f - s)`` may round differently from
numpy's BLAS and SIMD routines in the last bit.  A counted outcome changes only
if a uniform falls within those few ulps of a pass rate (about 1e-15 per sample),
so the recorded counts are the engine's exactly (``tests/test_history_kernel.py``).
"""
from __future__ import annotations

import math

import numpy as np

from simbench.core._numba import jit
from simbench.worlds.rl.kernels import draw_wave, group_counts, group_mean_std, normalised_advantage, policy_update


@jit
def _sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


@jit
def _skill_rates(prompts, b, x, phi, u):
    """q_i = sigmoid(b_i + x_i . phi + u_i) of the batch's prompts (``LogisticPolicy.skill_rates``)."""
    q = np.empty(prompts.shape[0])
    for i in range(prompts.shape[0]):
        k = prompts[i]
        dot = 0.0
        for c in range(x.shape[1]):
            dot += x[k, c] * phi[c]
        q[i] = _sigmoid(b[k] + dot + u[k])
    return q


@jit
def uniform_grpo_history(order, n, batch, steps, appearances, b, x, noise, mean_len, wrong_factor, sigma, max_len,
                         ref_len, lr_shared, lr_prompt, kl_coef, gated, g0, lr_format, by_std, eps, out_rng, learn_rng):
    """Run ``steps`` steps of uniform GRPO; return (K, N, diverged).

    Parameters
    ----------
    order : (steps * batch,) int64 prompts in selection order (the epoch shuffles, concatenated).
    n, batch, steps, appearances : int, responses per prompt, prompts per step, steps, appearances recorded.
    b, x, noise, mean_len : the learner's base logits and the train pool's features, noise scales, mean lengths.
    wrong_factor, sigma, max_len : the length model (``LengthSpec``).
    ref_len, lr_shared, lr_prompt, kl_coef, lr_format : the learner (``LearnerSpec``).
    gated, g0 : whether the format gate is on, and its initial logit.
    by_std, eps : GRPO's normalisation by the group std and its epsilon.
    out_rng, learn_rng : numpy Generators, the cell's outcome and learner streams.

    Returns
    -------
    K, N : (prompts, appearances) int64 correct and drawn samples per appearance (-1 and 0 where none).
    diverged : int, the 1-based step whose update overflowed (0 if none; the run stops there).
    """
    P = b.shape[0]
    K = np.full((P, appearances), -1, np.int64)
    N = np.zeros((P, appearances), np.int64)
    seen = np.zeros(P, np.int64)
    last = np.full(P, -1, np.int64)  # the step a prompt's u was last shrunk by the KL pull (once per step)
    phi = np.zeros(x.shape[1])
    u = np.zeros(P)
    g = g0
    counts = np.full(batch, n, np.int64)
    keep = np.ones(batch * n, np.bool_)
    t = np.empty(batch, np.int64)
    complete = 0  # prompts with all their appearances recorded
    for step in range(steps):
        prompts = order[step * batch:(step + 1) * batch]
        s = _sigmoid(g) if gated else 1.0
        q = _skill_rates(prompts, b, x, phi, u)
        p = q * s if gated else q
        slot, reward, length, drawn = draw_wave(out_rng, counts, p, mean_len[prompts], wrong_factor, sigma, max_len, math.inf)
        cnt, pos = group_counts(slot, reward, keep, batch)
        mean, std = group_mean_std(cnt, pos)
        adv = normalised_advantage(slot, reward, keep, mean, std, by_std, eps)
        # the learner's update (LogisticPolicy.update): the KL pull first, then the policy gradient
        if kl_coef > 0:
            f_phi = max(0.0, 1.0 - lr_shared * kl_coef)
            for c in range(phi.shape[0]):
                phi[c] *= f_phi
            f_u = max(0.0, 1.0 - lr_prompt * kl_coef)
            for i in range(batch):
                if last[prompts[i]] != step:
                    last[prompts[i]] = step
                    u[prompts[i]] *= f_u
            if gated:
                g -= min(1.0, lr_format * kl_coef) * (g - g0)
        n_kept = batch * n
        q = _skill_rates(prompts, b, x, phi, u)
        if gated:
            s = _sigmoid(g)
            correct = np.empty(slot.shape[0], np.int8)
            dot = 0.0
            for j in range(slot.shape[0]):
                qj = q[slot[j]]
                w = learn_rng.random() * (1.0 - s * qj)
                passed = reward[j] != 0
                wrong_formed = s * (1.0 - qj)
                formed = passed or w < wrong_formed
                correct[j] = 1 if passed or (w >= wrong_formed and w < wrong_formed + (1.0 - s) * qj) else 0
                dot += adv[j] * ((1.0 if formed else 0.0) - s)
            step_g = lr_format / n_kept * dot
            g += step_g
            norm = policy_update(learn_rng, slot, correct, length, adv, prompts, q, x, noise, ref_len, lr_shared, lr_prompt,
                                 1.0 / n_kept, phi, u)
            moved = math.hypot(norm, step_g)
        else:
            moved = policy_update(learn_rng, slot, reward, length, adv, prompts, q, x, noise, ref_len, lr_shared, lr_prompt,
                                  1.0 / n_kept, phi, u)
        if not math.isfinite(moved):
            return K, N, step + 1
        # record (RecordingCell.record): appearance numbers before this step; a prompt twice in one batch
        # (across an epoch boundary) gets its later slot's counts, and counts as two appearances
        for i in range(batch):
            t[i] = seen[prompts[i]]
        for i in range(batch):
            if t[i] < appearances:
                K[prompts[i], t[i]] = pos[i]
                N[prompts[i], t[i]] = drawn[i]
        for i in range(batch):
            seen[prompts[i]] += 1
            if seen[prompts[i]] == appearances:
                complete += 1
        if complete == P:  # later steps record nothing
            break
    return K, N, 0
