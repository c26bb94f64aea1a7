"""Reinforce-Ada's deterministic downsampling to n samples per prompt, with its fallback."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.core._numba import jit
from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.roles import Downsampler, StepView


@dataclass(frozen=True)
class ReinforceAdaKeepParams:
    """``choice`` and ``keep`` (final_keep_per_prompt) as in the allocator; ``positive_threshold`` too."""

    choice: Literal["balanced", "positive_focused"] = "balanced"
    keep: int = 4
    positive_threshold: float = 0.7

    def check(self) -> None:
        require(self.keep >= 1, "keep", self.keep, "an integer >= 1")


@jit
def ada_targets(pos, neg, keep, balanced):
    """How many positives and negatives each slot keeps (the reference's rules).

    Finished slots: t_pos = min(keep // 2, |pos|), t_neg = min(keep - t_pos, |neg|),
    a shortfall topped up from positives if they have extras, else negatives.
    Unfinished slots (fallback): take = min(keep, |pos| + |neg|); balanced aims
    at keep // 2 and keep - keep // 2 filled from the other side;
    positive_focused: t_pos = clamp(ceil(|pos| / rows * keep), 1, take - 1).
    """
    S = pos.shape[0]
    t_pos = np.zeros(S, np.int64)
    t_neg = np.zeros(S, np.int64)
    half = keep // 2
    for i in range(S):
        P, Q = pos[i], neg[i]
        if P + Q == 0:
            continue
        done = (P >= half and Q >= keep - half) if balanced else P >= 1
        take = keep if done else min(keep, P + Q)
        if done or balanced:
            # aim at keep // 2 positives and the rest negatives; top up from positives, then negatives
            a = min(half, P)
            b = min(keep - half, Q)
            short = take - a - b
            extra = min(short, P - a)
            a += extra
            short -= extra
            b += min(short, Q - b)
        else:
            rows = P + Q
            a = int(math.ceil(P / rows * keep))
            a = max(1, min(a, take - 1)) if take >= 2 else min(1, take)
            a = min(a, P)
            b = min(take - a, Q)
            a = min(take - b, P)
        t_pos[i] = a
        t_neg[i] = b
    return t_pos, t_neg


@jit
def take_first(slot, is_pos, t_pos, t_neg):
    """Keep the first t_pos positives and first t_neg negatives of each slot, in generation order."""
    keep = np.zeros(slot.shape[0], np.bool_)
    got_pos = np.zeros(t_pos.shape[0], np.int64)
    got_neg = np.zeros(t_neg.shape[0], np.int64)
    for t in range(slot.shape[0]):
        i = slot[t]
        if is_pos[t]:
            if got_pos[i] < t_pos[i]:
                keep[t] = True
                got_pos[i] += 1
        elif got_neg[i] < t_neg[i]:
            keep[t] = True
            got_neg[i] += 1
    return keep


@register
class ReinforceAdaKeep(Downsampler):
    """Reinforce-Ada: first positives and negatives in generation order up to n per prompt, with the fallback rule."""

    name = "reinforce_ada_keep"
    Params = ReinforceAdaKeepParams

    def keep(self, view: StepView) -> np.ndarray:
        p = self.params
        is_pos = view.sample_reward > p.positive_threshold
        pos = np.bincount(view.sample_slot, weights=is_pos, minlength=view.n_slots).astype(np.int64)
        neg = view.drawn - pos
        t_pos, t_neg = ada_targets(pos, neg, p.keep, p.choice == "balanced")
        return take_first(view.sample_slot, is_pos, t_pos, t_neg)
