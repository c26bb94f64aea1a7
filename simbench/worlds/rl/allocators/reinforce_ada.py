"""Reinforce-Ada: adaptive multi-round sampling with successive elimination (arXiv 2510.04996).

Each wave is one round: every slot still active gets ``round_repeat`` more
responses; a slot leaves once its exit rule holds (``balanced``: at least
n/2 correct and n - n/2 wrong so far; ``positive_focused``: at least one
correct), or after ``max_rounds``.  Its reference keeps ``final_keep_per_prompt``
samples per prompt (``reinforce_ada_keep``) and weighs them with GRPO
advantages from global statistics over every sample drawn for the prompt,
without std normalisation (the released run script).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.allocators._budget import fit_whole_groups
from simbench.worlds.rl.roles import SampleAllocator, StepView


@dataclass(frozen=True)
class ReinforceAdaParams:
    """Defaults of the released run script: balanced, threshold 0.7, 4 rounds of 8, keep 4."""

    choice: Literal["balanced", "positive_focused"] = "balanced"
    positive_threshold: float = 0.7
    max_rounds: int = 4
    round_repeat: int = 8
    final_keep_per_prompt: int = 4

    def check(self) -> None:
        require(self.max_rounds >= 1, "max_rounds", self.max_rounds, "an integer >= 1")
        require(self.round_repeat >= 1, "round_repeat", self.round_repeat, "an integer >= 1")
        require(self.final_keep_per_prompt >= 1, "final_keep_per_prompt", self.final_keep_per_prompt, "an integer >= 1")
        require(0.0 <= self.positive_threshold < 1.0, "positive_threshold", self.positive_threshold,
                "a number in [0, 1): a response is positive iff its reward exceeds it (rewards are 0/1)")


def finished(pos: np.ndarray, neg: np.ndarray, choice: str, keep: int) -> np.ndarray:
    """The exit rule per slot, from its positive and negative counts so far."""
    if choice == "balanced":
        half = keep // 2
        return (pos >= half) & (neg >= keep - half)
    return pos >= 1


def positives(view: StepView, threshold: float) -> np.ndarray:
    """Positive responses per slot: reward > threshold (0/1 rewards: the correct ones for threshold < 1)."""
    return view.pos if threshold < 1.0 else np.zeros_like(view.pos)


@register
class ReinforceAda(SampleAllocator):
    """Reinforce-Ada: rounds of round_repeat samples for each prompt until its exit rule holds (max_rounds)."""

    name = "reinforce_ada"
    Params = ReinforceAdaParams
    # A binding budget gives whole rounds to active slots in slot order (like a generation batch cut short).

    def allocate(self, view: StepView) -> np.ndarray:
        p = self.params
        if view.wave >= p.max_rounds:
            return np.zeros(view.n_slots, np.int64)
        pos = positives(view, p.positive_threshold)
        active = ~finished(pos, view.drawn - pos, p.choice, p.final_keep_per_prompt)
        if view.wave > 0:
            active &= view.drawn > 0  # a slot the budget skipped in round 0 never started
        want = np.where(active, p.round_repeat, 0).astype(np.int64)
        return fit_whole_groups(want, view.cost, view.budget_left)

    def default_downsampler(self):
        from simbench.worlds.rl.downsamplers.reinforce_ada_keep import ReinforceAdaKeep, ReinforceAdaKeepParams

        p = self.params
        return ReinforceAdaKeep(ReinforceAdaKeepParams(p.choice, p.final_keep_per_prompt, p.positive_threshold))

    def default_advantage(self):
        from simbench.worlds.rl.advantages.grpo import GRPO, GRPOParams

        return GRPO(GRPOParams(norm_adv_by_std=False, global_stats=True))
