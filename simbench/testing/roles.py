"""Contracts of the RL world's other roles: prompt selectors, downsamplers and advantage estimators.

Each is a class to subclass with one ``make_*`` method; pytest then runs every invariant of the family:
outputs of the right shape, dtype and range; inputs not mutated; same seed, same output; permutation
equivariance (relabelling slots) where it holds; pickling; parameters round-tripping through TOML; and a
short run in the real engine.
"""
from __future__ import annotations

import copy
import pickle

import numpy as np

from simbench.testing._common import RoleContract, run_engine, same_arrays, spec_of
from simbench.testing._property import SEED, property_test
from simbench.testing.contract import make_view, permute_view
from simbench.worlds.rl.roles import AdvantageEstimator, Downsampler, PromptSelector, Role, RunInfo, StepView

VIEW_ARRAYS = ("prompts", "added_wave", "group", "drawn", "pos", "cost", "sample_slot", "sample_reward",
               "sample_length", "sample_wave")
HISTORY_ARRAYS = ("n", "pos", "last_n", "last_pos", "last_step", "tokens")
# a short strategy around the role under test: a fixed allocation, so the role alone decides the rest
AROUND = {"allocator": {"kind": "uniform", "n": 4}}


def assert_unchanged(view: StepView, before: StepView) -> None:
    """Every array of ``view`` (and its history) equals the copy taken before the role saw it."""
    for name in VIEW_ARRAYS:
        same_arrays(getattr(view, name), getattr(before, name), name)
    for name in HISTORY_ARRAYS:
        same_arrays(getattr(view.history, name), getattr(before.history, name), f"history.{name}")


class _StepRoleContract(RoleContract):
    """Helpers of the roles that act on a finished wave: views with samples, roles reset with a seed."""

    def fresh(self, view: StepView, seed: int = 0) -> Role:
        role = self.make_role()
        role.reset(view.info, np.random.default_rng(seed))
        return role

    def view(self, seed: int, n_slots: int, **kw) -> StepView:
        probe = self.make_role()
        kw = {"wave": 1, "with_truth": probe.uses_oracle, "with_grad_norms": probe.needs_grad_norms, **kw}
        return make_view(np.random.default_rng(seed), n_slots, **kw)


class SelectorContract(RoleContract):
    """Subclass and define ``make_selector``.

    The selector is asked for ``k`` prompts at the start of a few steps and observes a finished step in
    between (views share one ``RunInfo``).  Selectors draw prompts at random from the pool, so there is
    no permutation invariant to check: relabelling prompts changes which ones a seed draws.
    """

    def make_selector(self) -> PromptSelector:
        raise NotImplementedError

    def make_role(self) -> PromptSelector:
        return self.make_selector()

    def info(self, seed: int, n_prompts: int, k: int, n_groups: int = 3) -> RunInfo:
        group = np.random.default_rng([seed, 1]).integers(0, n_groups, n_prompts).astype(np.int32)
        return RunInfo(n_prompts, group, tuple(f"g{i}" for i in range(n_groups)), k, "samples", float("inf"), 3072)

    def view(self, rng: np.random.Generator, info: RunInfo, n_slots: int, wave: int) -> StepView:
        probe = self.make_selector()
        v = make_view(rng, n_slots, n_prompts=info.n_prompts, wave=wave, batch_prompts=info.batch_prompts,
                      n_groups=len(info.group_names), with_truth=probe.uses_oracle, with_grad_norms=probe.needs_grad_norms)
        v.info = info
        v.group = info.group[v.prompts]
        return v

    def run_steps(self, seed: int, n_prompts: int, k: int, steps: int = 3, selector=None, start: int = 0):
        """The selections of ``steps`` steps (and the views they saw), each followed by an observed step."""
        info = self.info(seed, n_prompts, k)
        if selector is None:
            selector = self.make_selector()
            selector.reset(info, np.random.default_rng(seed))
        rng = np.random.default_rng([seed, 2, start])
        out, seen = [], []
        for _ in range(steps):
            empty = self.view(rng, info, 0, 0)
            out.append(np.asarray(selector.select(k, empty)))
            done = self.view(rng, info, min(k, n_prompts), 1)
            T = len(done.sample_slot)
            selector.observe(done, np.ones(T, bool), rng.normal(0, 1, T))
            seen += [empty, done]
        return out, seen, selector

    @staticmethod
    def check_valid(chosen: np.ndarray, k: int, n_prompts: int) -> None:
        assert chosen.shape == (k,), f"shape {chosen.shape} != ({k},)"
        assert np.issubdtype(chosen.dtype, np.integer), f"dtype {chosen.dtype} is not integer"
        assert ((chosen >= 0) & (chosen < n_prompts)).all(), f"indices outside the pool of {n_prompts}: {chosen}"

    @property_test(seed=SEED, n_prompts=lambda st: st.integers(1, 300), share=lambda st: st.floats(0, 1))
    def test_returns_k_prompts_of_the_pool(self, seed, n_prompts, share):
        k = max(1, round(share * n_prompts))
        chosen, _, _ = self.run_steps(seed, n_prompts, k)
        for c in chosen:
            self.check_valid(c, k, n_prompts)

    def test_the_whole_pool_and_one_prompt(self):
        for n_prompts, k in ((50, 50), (1, 1), (40, 1)):
            for c in self.run_steps(5, n_prompts, k, steps=4)[0]:
                self.check_valid(c, k, n_prompts)

    @property_test(seed=SEED, n_prompts=lambda st: st.integers(1, 200))
    def test_inputs_not_mutated(self, seed, n_prompts):
        k = max(1, n_prompts // 4)
        info = self.info(seed, n_prompts, k)
        selector = self.make_selector()
        selector.reset(info, np.random.default_rng(seed))
        rng = np.random.default_rng(seed)
        empty = self.view(rng, info, 0, 0)
        done = self.view(rng, info, k, 1)
        before_empty, before_done = copy.deepcopy(empty), copy.deepcopy(done)
        T = len(done.sample_slot)
        keep, adv = np.ones(T, bool), rng.normal(0, 1, T)
        keep0, adv0 = keep.copy(), adv.copy()
        selector.select(k, empty)
        selector.observe(done, keep, adv)
        selector.select(k, empty)
        assert_unchanged(empty, before_empty)
        assert_unchanged(done, before_done)
        same_arrays(keep, keep0, "keep")
        same_arrays(adv, adv0, "advantage")

    @property_test(seed=SEED, n_prompts=lambda st: st.integers(1, 200))
    def test_same_seed_same_output(self, seed, n_prompts):
        k = max(1, n_prompts // 3)
        for a, b in zip(self.run_steps(seed, n_prompts, k)[0], self.run_steps(seed, n_prompts, k)[0]):
            same_arrays(a, b, "selection")

    def test_picklable_mid_run(self):
        _, _, selector = self.run_steps(9, 80, 16, steps=2)
        clone = pickle.loads(pickle.dumps(selector))
        for a, b in zip(self.run_steps(9, 80, 16, selector=selector, start=1)[0],
                        self.run_steps(9, 80, 16, selector=clone, start=1)[0]):
            same_arrays(a, b, "selection after unpickling")

    def test_runs_in_the_engine(self):
        for rows in run_engine({**AROUND, "selector": spec_of(self.make_selector())}):
            assert all(r["prompts"] == 16 for r in rows[1:]), "every step gets the batch's 16 prompts"


class DownsamplerContract(_StepRoleContract):
    """Subclass and define ``make_downsampler``.

    ``permutation_equivariant``: relabelling the slots (samples in the same order) keeps the same mask;
    False, with a reason, for downsamplers that take groups in slot order.
    """

    permutation_equivariant = True

    def make_downsampler(self) -> Downsampler:
        raise NotImplementedError

    def make_role(self) -> Downsampler:
        return self.make_downsampler()

    def call(self, view: StepView, seed: int = 0) -> np.ndarray:
        return np.asarray(self.fresh(view, seed).keep(view))

    @staticmethod
    def check_valid(keep: np.ndarray, view: StepView) -> None:
        T = len(view.sample_slot)
        assert keep.shape == (T,), f"a mask of shape {keep.shape} for {T} drawn samples"
        assert keep.dtype == np.bool_, f"dtype {keep.dtype} is not bool"

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 64), p_mode=lambda st: st.sampled_from(["random", "zero", "one"]))
    def test_a_mask_over_the_drawn_samples(self, seed, n_slots, p_mode):
        view = self.view(seed, n_slots, p_mode=p_mode)
        self.check_valid(self.call(view, seed), view)

    def test_no_samples_no_mask(self):
        view = self.view(1, 8, wave=0)
        keep = self.call(view)
        self.check_valid(keep, view)
        assert keep.size == 0

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_inputs_not_mutated(self, seed, n_slots):
        view = self.view(seed, n_slots)
        before = copy.deepcopy(view)
        self.call(view, seed)
        assert_unchanged(view, before)

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_same_seed_same_output(self, seed, n_slots):
        view = self.view(seed, n_slots)
        same_arrays(self.call(view, seed), self.call(view, seed), "keep")

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_permutation_equivariant(self, seed, n_slots):
        if not self.permutation_equivariant:
            return
        view = self.view(seed, n_slots)
        perm = np.random.default_rng(seed + 1).permutation(n_slots)
        same_arrays(self.call(permute_view(view, perm), seed), self.call(view, seed), "keep after relabelling slots")

    def test_picklable(self):
        view = self.view(7, 16)
        role = self.fresh(view, 3)
        clone = pickle.loads(pickle.dumps(role))
        same_arrays(clone.keep(view), role.keep(view), "keep after unpickling")

    def test_runs_in_the_engine(self):
        run_engine({**AROUND, "downsampler": spec_of(self.make_downsampler())})


class AdvantageContract(_StepRoleContract):
    """Subclass and define ``make_advantage``.

    ``zero_variance_gives_zero``: a group of two or more samples with one reward gets advantage 0 (a group
    baseline); False, with a reason, for estimators without one (e.g. RAFT's weight on correct samples).
    """

    zero_variance_gives_zero = True

    def make_advantage(self) -> AdvantageEstimator:
        raise NotImplementedError

    def make_role(self) -> AdvantageEstimator:
        return self.make_advantage()

    def keep(self, seed: int, view: StepView) -> np.ndarray:
        return np.random.default_rng([seed, 3]).random(len(view.sample_slot)) < 0.7

    def call(self, view: StepView, keep: np.ndarray, seed: int = 0) -> np.ndarray:
        return np.asarray(self.fresh(view, seed).advantages(view, keep))

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 64), p_mode=lambda st: st.sampled_from(["random", "zero", "one"]))
    def test_finite_floats_zero_where_not_kept(self, seed, n_slots, p_mode):
        view = self.view(seed, n_slots, p_mode=p_mode)
        keep = self.keep(seed, view)
        adv = self.call(view, keep, seed)
        assert adv.shape == keep.shape, f"shape {adv.shape} for {keep.shape[0]} samples"
        assert np.issubdtype(adv.dtype, np.floating), f"dtype {adv.dtype} is not float"
        assert np.isfinite(adv).all(), "non-finite advantage"
        assert (adv[~keep] == 0).all(), "a sample that does not train has a non-zero advantage"

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_zero_variance_groups_get_zero(self, seed, n_slots):
        if not self.zero_variance_gives_zero:
            return
        view = self.view(seed, n_slots)
        # half the slots made uniform: all rewards of a slot set to its first reward
        rng = np.random.default_rng([seed, 4])
        reward = view.sample_reward.copy()
        flat = rng.random(n_slots) < 0.5
        for s in np.flatnonzero(flat):
            mine = view.sample_slot == s
            reward[mine] = reward[mine][0] if mine.any() else 0
        view.sample_reward = reward
        view.pos = np.bincount(view.sample_slot, weights=reward, minlength=n_slots).astype(np.int64)
        adv = self.call(view, np.ones(len(reward), bool), seed)
        zero = flat[view.sample_slot] & (view.drawn[view.sample_slot] >= 2)
        assert (adv[zero] == 0).all(), f"zero-variance groups got advantages {adv[zero][adv[zero] != 0]}"

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_inputs_not_mutated(self, seed, n_slots):
        view = self.view(seed, n_slots)
        keep = self.keep(seed, view)
        before, keep0 = copy.deepcopy(view), keep.copy()
        self.call(view, keep, seed)
        assert_unchanged(view, before)
        same_arrays(keep, keep0, "keep")

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_same_seed_same_output(self, seed, n_slots):
        view = self.view(seed, n_slots)
        keep = self.keep(seed, view)
        same_arrays(self.call(view, keep, seed), self.call(view, keep, seed), "advantages")

    @property_test(seed=SEED, n_slots=lambda st: st.integers(1, 48))
    def test_permutation_equivariant(self, seed, n_slots):
        view = self.view(seed, n_slots)
        keep = self.keep(seed, view)
        perm = np.random.default_rng(seed + 1).permutation(n_slots)
        np.testing.assert_allclose(self.call(permute_view(view, perm), keep, seed), self.call(view, keep, seed),
                                   rtol=0, atol=0, err_msg="advantages after relabelling slots")

    def test_picklable(self):
        view = self.view(7, 16)
        keep = self.keep(7, view)
        role = self.fresh(view, 3)
        clone = pickle.loads(pickle.dumps(role))
        same_arrays(clone.advantages(view, keep), role.advantages(view, keep), "advantages after unpickling")

    def test_runs_in_the_engine(self):
        run_engine({**AROUND, "advantage": spec_of(self.make_advantage())})
