"""DAPO dynamic sampling (arXiv 2503.14476; verl recipe/dapo)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.core.config import UserError, require
from simbench.registry import register
from simbench.worlds.rl.allocators._budget import fit_whole_groups
from simbench.worlds.rl.filters import informative
from simbench.worlds.rl.roles import SampleAllocator, StepView


class DAPOExhausted(UserError):
    """DAPO reached ``max_num_gen_batches`` without filling the train batch."""


@dataclass(frozen=True)
class DAPOParams:
    """DAPO's dynamic-sampling knobs (recipe defaults: n=16, gen 3x train, 10 batches).

    ``gen_batch`` / ``train_batch``: prompts per generation batch and per train
    batch (0: 3x and 1x the engine's ``batch_prompts``).  ``on_exhausted``:
    ``error`` (the recipe) or ``train`` on what was kept.  ``epsilon``: a group
    counts as zero-variance when its population std is <= epsilon.
    """

    n: int = 16
    gen_batch: int = 0
    train_batch: int = 0
    max_num_gen_batches: int = 10
    on_exhausted: Literal["error", "train"] = "error"
    epsilon: float = 1e-6

    def check(self) -> None:
        require(self.n >= 1, "n", self.n, "an integer >= 1")
        require(self.gen_batch >= 0, "gen_batch", self.gen_batch, "an integer >= 0 (0: 3x batch_prompts)")
        require(self.train_batch >= 0, "train_batch", self.train_batch, "an integer >= 0 (0: batch_prompts)")
        require(self.epsilon >= 0, "epsilon", self.epsilon, "a non-negative number")


@register
class DAPO(SampleAllocator):
    """DAPO dynamic sampling: draw generation batches until enough groups have reward variance."""

    name = "dapo"
    Params = DAPOParams

    def sizes(self) -> tuple[int, int]:
        b = self.info.batch_prompts
        return self.prompts_per_wave(b), self.params.train_batch or b

    def prompts_per_wave(self, batch_prompts: int) -> int:
        return self.params.gen_batch or 3 * batch_prompts

    def prompts_wanted(self, view: StepView) -> int:
        gen, train = self.sizes()
        if view.wave == 0:
            return gen
        kept = int(informative(view.drawn, view.pos, self.params.epsilon).sum())
        if kept >= train or view.budget_left <= 0:
            return 0
        limit = self.params.max_num_gen_batches
        if limit > 0 and view.wave >= limit:
            if self.params.on_exhausted == "error":
                raise DAPOExhausted(
                    f"DAPO step {view.step}: {view.wave} generation batches (max_num_gen_batches={limit}) "
                    f"kept {kept} of {train} prompts; raise max_num_gen_batches or set on_exhausted = \"train\""
                )
            return 0
        return gen

    def allocate(self, view: StepView) -> np.ndarray:
        want = np.where(view.added_wave == view.wave, self.params.n, 0).astype(np.int64)
        return fit_whole_groups(want, view.cost, view.budget_left)

    def default_downsampler(self):
        from simbench.worlds.rl.downsamplers.dapo_filter import DAPOFilter, DAPOFilterParams

        return DAPOFilter(DAPOFilterParams(train_batch=self.params.train_batch, epsilon=self.params.epsilon))
