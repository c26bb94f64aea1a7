"""The allocator contract: invariants every sample allocator must keep.

Integer, non-negative, right shape; never over budget (samples or tokens);
inputs not mutated; same seed, same output; permutation-equivariant (unless a
class says why not); picklable; parameters round-trip through TOML; edge cases
(p in {0, 1}, budget 0, one prompt, 100,000 prompts); and a short run in the
real engine, which checks every wave.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import pickle

import numpy as np

from simbench.testing._common import RoleContract, run_engine, spec_of
from simbench.testing._property import SAMPLE_BUDGET, SEED, property_test
from simbench.worlds.rl.roles import History, RunInfo, SampleAllocator, StepView


def make_view(
    rng: np.random.Generator,
    n_slots: int,
    *,
    n_prompts: int | None = None,
    wave: int = 0,
    budget: float = math.inf,
    unit: str = "samples",
    p_mode: str = "random",
    history_steps: int = 2,
    batch_prompts: int | None = None,
    n_groups: int = 2,
    with_truth: bool = False,
    with_grad_norms: bool = False,
) -> StepView:
    """A consistent, random StepView for testing a role outside the engine.

    ``p_mode``: ``random`` (pass rates from Beta(0.5, 0.5)), ``zero`` or ``one``
    (every outcome wrong / right).  Slots are distinct prompts; with ``wave > 0``
    every slot already has a few samples from wave 0.
    """
    n_prompts = max(n_prompts or n_slots, n_slots)
    p_true = {"random": rng.beta(0.5, 0.5, n_prompts), "zero": np.zeros(n_prompts), "one": np.ones(n_prompts)}[p_mode]
    group = rng.integers(0, n_groups, n_prompts).astype(np.int32)
    info = RunInfo(n_prompts, group, tuple(f"g{i}" for i in range(n_groups)), batch_prompts or n_slots, unit, budget, 3072)
    hist = History.empty(n_prompts)
    for step in range(1, history_steps + 1):
        seen = rng.random(n_prompts) < 0.5
        k = np.where(seen, 8, 0)
        s = rng.binomial(k, p_true)
        hist.n += k
        hist.pos += s
        hist.tokens += k * 500.0
        hist.last_n = np.where(seen, k, hist.last_n)
        hist.last_pos = np.where(seen, s, hist.last_pos)
        hist.last_step = np.where(seen, step, hist.last_step)
    prompts = rng.choice(n_prompts, n_slots, replace=False).astype(np.int64)
    if wave > 0:
        drawn = rng.integers(1, 9, n_slots).astype(np.int64)
    else:
        drawn = np.zeros(n_slots, np.int64)
    slot = np.repeat(np.arange(n_slots), drawn)
    reward = (rng.random(len(slot)) < p_true[prompts][slot]).astype(np.int8)
    pos = np.bincount(slot, weights=reward, minlength=n_slots).astype(np.int64)
    length = rng.integers(100, 2000, len(slot)).astype(np.int32)
    if unit == "samples":
        cost = np.ones(n_slots)
    else:
        cost = np.where(hist.n[prompts] > 0, hist.tokens[prompts] / np.maximum(hist.n[prompts], 1), 600.0)
    p_now = p_true[prompts]
    return StepView(
        step=history_steps + 1, wave=wave, prompts=prompts, added_wave=np.zeros(n_slots, np.int64),
        group=group[prompts], drawn=drawn, pos=pos, cost=cost, budget_left=budget,
        sample_slot=slot.astype(np.int64), sample_reward=reward, sample_length=length,
        sample_wave=np.zeros(len(slot), np.int64), history=hist, info=info,
        truth_p=p_now if with_truth else None,
        truth_G=np.sqrt(p_now * (1 - p_now) + 1.0) if with_truth else None,
        sample_grad_norm=rng.gamma(4.0, 0.5, len(slot)) if with_grad_norms else None,
    )


def permute_view(view: StepView, perm: np.ndarray) -> StepView:
    """The same view with slots reordered by ``perm`` (slot ``i`` of the result is ``perm[i]``); sample order kept."""
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    v = copy.copy(view)
    for name in ("prompts", "added_wave", "group", "drawn", "pos", "cost", "truth_p", "truth_G"):
        arr = getattr(view, name)
        if arr is not None:
            setattr(v, name, arr[perm])
    v.sample_slot = inv[view.sample_slot]
    return v


class AllocatorContract(RoleContract):
    """Subclass and define ``make_allocator``; pytest then runs every invariant.

    Class attributes a subclass may override, each with a reason in a comment:
    ``permutation_equivariant`` (False for allocators that break ties or draw
    randomness in slot order), ``wave`` (the wave to test at, for allocators
    that only act after a first wave), ``equivariant_under_budget`` (False for
    allocators that cut a batch short in slot order when the budget binds: the
    permutation test then runs with an unlimited budget).
    """

    permutation_equivariant = True
    equivariant_under_budget = True
    wave = 0
    engine_scenario: dict | None = None

    def make_allocator(self) -> SampleAllocator:
        raise NotImplementedError

    def make_role(self) -> SampleAllocator:
        return self.make_allocator()

    # -- helpers -----------------------------------------------------------
    def fresh(self, view: StepView, seed: int = 0) -> SampleAllocator:
        alloc = self.make_allocator()
        alloc.reset(view.info, np.random.default_rng(seed))
        return alloc

    def needs(self, alloc: SampleAllocator) -> dict:
        return {"with_truth": alloc.uses_oracle, "with_grad_norms": alloc.needs_grad_norms}

    def view(self, seed: int, n_slots: int, **kw) -> StepView:
        probe = self.make_allocator()
        kw = {"wave": self.wave, **self.needs(probe), **kw}
        return make_view(np.random.default_rng(seed), n_slots, **kw)

    def call(self, view: StepView, seed: int = 0) -> np.ndarray:
        return np.asarray(self.fresh(view, seed).allocate(view))

    def check_valid(self, n: np.ndarray, view: StepView) -> None:
        assert n.shape == (view.n_slots,), f"shape {n.shape} != ({view.n_slots},)"
        assert np.issubdtype(n.dtype, np.integer), f"dtype {n.dtype} is not integer"
        assert (n >= 0).all(), "negative allocation"
        spent = float(np.dot(n, view.cost))
        assert spent <= view.budget_left * (1 + 1e-12) + 1e-9, f"over budget: {spent} > {view.budget_left}"

    # -- the invariants ------------------------------------------------------
    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 64), budget=SAMPLE_BUDGET)
    def test_valid_and_within_sample_budget(self, seed, n_slots, budget):
        view = self.view(seed, n_slots, budget=float(budget))
        self.check_valid(self.call(view, seed), view)

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 64), budget=lambda st: st.floats(0, 5e5))
    def test_within_token_budget(self, seed, n_slots, budget):
        view = self.view(seed, n_slots, budget=budget, unit="tokens")
        self.check_valid(self.call(view, seed), view)

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_inputs_not_mutated(self, seed, n_slots):
        view = self.view(seed, n_slots, budget=4096.0)
        before = copy.deepcopy(view)
        self.call(view, seed)
        for name in ("prompts", "drawn", "pos", "cost", "sample_slot", "sample_reward", "sample_length"):
            np.testing.assert_array_equal(getattr(view, name), getattr(before, name), err_msg=name)
        for name in ("n", "pos", "last_n", "last_pos", "last_step", "tokens"):
            np.testing.assert_array_equal(getattr(view.history, name), getattr(before.history, name), err_msg=f"history.{name}")

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_same_seed_same_output(self, seed, n_slots):
        view = self.view(seed, n_slots, budget=2048.0)
        np.testing.assert_array_equal(self.call(view, seed), self.call(view, seed))

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48), budget=SAMPLE_BUDGET)
    def test_permutation_equivariant(self, seed, n_slots, budget):
        if not self.permutation_equivariant:
            return
        if not self.equivariant_under_budget:
            budget = math.inf
        view = self.view(seed, n_slots, budget=float(budget))
        perm = np.random.default_rng(seed + 1).permutation(n_slots)
        n = self.call(view, seed)
        n_perm = self.call(permute_view(view, perm), seed)
        np.testing.assert_array_equal(n_perm, n[perm])

    def test_picklable(self):
        view = self.view(7, 16, budget=512.0)
        alloc = self.fresh(view, 3)
        clone = pickle.loads(pickle.dumps(alloc))
        np.testing.assert_array_equal(np.asarray(clone.allocate(view)), np.asarray(alloc.allocate(view)))

    def test_pass_rates_zero_and_one(self):
        for mode in ("zero", "one"):
            view = self.view(11, 32, p_mode=mode, budget=1024.0)
            self.check_valid(self.call(view), view)

    def test_zero_budget_gives_nothing(self):
        for unit in ("samples", "tokens"):
            view = self.view(5, 16, budget=0.0, unit=unit)
            n = self.call(view)
            self.check_valid(n, view)
            assert n.sum() == 0

    def test_one_prompt(self):
        view = self.view(3, 1, budget=64.0)
        self.check_valid(self.call(view), view)

    def test_hundred_thousand_prompts(self):
        view = self.view(1, 100_000, budget=800_000.0, history_steps=1)
        self.check_valid(self.call(view), view)

    def test_no_samples_after_its_declared_waves(self):
        """An allocator that declares ``waves`` asks for nothing after them (the engine no longer asks it)."""
        waves = self.make_allocator().waves
        if waves is None:
            return
        for seed in range(3):
            view = self.view(seed, 24, wave=waves, budget=4096.0)
            # slots from the first wave with samples, and slots new in this one
            fresh = dataclasses.replace(view, added_wave=np.full(24, waves, np.int64))
            assert self.call(view, seed).sum() == 0 and self.call(fresh, seed).sum() == 0

    def test_runs_in_the_engine(self):
        """A short run of the real engine, which checks shape, integers and budget at every wave."""
        run_engine({"allocator": spec_of(self.make_allocator())}, extra=self.engine_scenario)
