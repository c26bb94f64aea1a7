"""The four roles of a strategy and what they see.

A step of training asks, in order:

* a **prompt selector** which prompts enter the step;
* a **sample allocator** how many responses each prompt gets, in one or more
  waves (asked again with what it has seen until it returns all zeros or the
  step's budget is spent);
* a **downsampler** which of the drawn samples train;
* an **advantage estimator** what weight each kept sample gets in the update.

Each role is a small class whose hyperparameters are a frozen dataclass
(``Params``) stored unchanged; learned state lives in attributes set by
``reset`` and ``observe``.  Randomness only comes through the ``rng`` handed to
``reset``.  Everything is picklable, so cells can run in worker processes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core.roles import NoParams, Role, RunInfo  # noqa: F401 (part of this module's interface)


@dataclass
class History:
    """Per-train-prompt record of everything drawn in earlier steps (engine-maintained).

    Attributes
    ----------
    n, pos : (n_prompts,) int64 total samples drawn and correct, over all steps.
    last_n, last_pos : (n_prompts,) int64 drawn and correct at the prompt's latest step.
    last_step : (n_prompts,) int64 latest step the prompt got samples (-1: never).
    tokens : (n_prompts,) float64 total tokens drawn.
    """

    n: np.ndarray
    pos: np.ndarray
    last_n: np.ndarray
    last_pos: np.ndarray
    last_step: np.ndarray
    tokens: np.ndarray

    @classmethod
    def empty(cls, n_prompts: int) -> "History":
        z = lambda: np.zeros(n_prompts, np.int64)  # noqa: E731
        return cls(z(), z(), z(), z(), np.full(n_prompts, -1, np.int64), np.zeros(n_prompts))


@dataclass
class StepView:
    """What a role sees during one step.  Arrays are read-only views.

    A *slot* is one entry of the step's prompt list (a prompt can fill two
    slots if the selector draws it twice).  Samples are in arrival order.

    Attributes
    ----------
    step, wave : the step (from 1) and the wave within it (from 0).
    prompts : (S,) int64 train-pool index of each slot.
    added_wave : (S,) int64 wave in which each slot entered the step.
    group : (S,) int32 group of each slot.
    drawn, pos : (S,) int64 samples drawn and correct so far this step.
    cost : (S,) float64 estimated cost of one more sample, in budget units
        (1.0 for a sample budget; the prompt's mean observed length, else the
        run's mean, for a token budget).
    budget_left : budget remaining in this step (inf if unlimited).
    sample_slot, sample_reward, sample_length, sample_wave : (T,) the step's samples.
    history : what earlier steps drew (``History``).
    info : the run's ``RunInfo``.
    truth_p, truth_G : (S,) latent pass rate and gradient-norm scale; only set
        when a role of the strategy has ``uses_oracle = True``, otherwise None.
    sample_grad_norm : (T,) per-sample score norm, only set when a role has
        ``needs_grad_norms = True`` (GVM's stage 1), otherwise None.
    time_cost : (S,) float64 expected seconds one more sample of each slot adds
        to the step (``simbench.cost.marginal``); only set when the scenario has
        a [cost] table and a role has ``needs_time_cost = True``, otherwise None.
    """

    step: int
    wave: int
    prompts: np.ndarray
    added_wave: np.ndarray
    group: np.ndarray
    drawn: np.ndarray
    pos: np.ndarray
    cost: np.ndarray
    budget_left: float
    sample_slot: np.ndarray
    sample_reward: np.ndarray
    sample_length: np.ndarray
    sample_wave: np.ndarray
    history: History
    info: RunInfo
    truth_p: np.ndarray | None = None
    truth_G: np.ndarray | None = None
    sample_grad_norm: np.ndarray | None = None
    time_cost: np.ndarray | None = None

    @property
    def n_slots(self) -> int:
        return len(self.prompts)


class PromptSelector(Role):
    """Chooses which train prompts enter a step."""

    role = "selector"

    def select(self, k: int, view: StepView) -> np.ndarray:
        """Return ``k`` train-pool indices (int64) for new slots of this step."""
        raise NotImplementedError


class SampleAllocator(Role):
    """Decides how many responses each slot gets, wave by wave."""

    role = "allocator"
    #: The most waves the allocator draws in one step, if it knows (1: one wave, as uniform GRPO); the engine
    #: stops after that many instead of asking once more for the all-zeros answer.  None: ask until all zeros.
    waves: int | None = None

    def prompts_wanted(self, view: StepView) -> int:
        """How many new prompts to add before this wave (default: one batch at wave 0)."""
        return view.info.batch_prompts if view.wave == 0 else 0

    def prompts_per_wave(self, batch_prompts: int) -> int:
        """The most new prompts one wave asks for, given the engine's batch (checked against the pool at load)."""
        return batch_prompts

    def allocate(self, view: StepView) -> np.ndarray:
        """Return (S,) non-negative int64 samples to draw now; all zeros ends the step.

        Must keep ``sum(n * view.cost) <= view.budget_left``.
        """
        raise NotImplementedError

    def default_downsampler(self) -> "Downsampler | None":
        """The downsampler this allocator's reference uses (None: keep everything)."""
        return None

    def default_advantage(self) -> "AdvantageEstimator | None":
        """The advantage estimator this allocator's reference uses (None: the scenario's)."""
        return None


class Downsampler(Role):
    """Chooses which drawn samples train."""

    role = "downsampler"

    def keep(self, view: StepView) -> np.ndarray:
        """Return a (T,) bool mask over the step's samples."""
        raise NotImplementedError


class AdvantageEstimator(Role):
    """Turns kept samples into per-sample weights for the policy-gradient update."""

    role = "advantage"

    def advantages(self, view: StepView, keep: np.ndarray) -> np.ndarray:
        """Return (T,) float64 advantages (0 where not kept)."""
        raise NotImplementedError
