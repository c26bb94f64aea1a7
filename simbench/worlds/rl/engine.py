"""The engine: run one cell (a strategy and a seed) of a scenario, step by step.

Per step: the selector adds prompts, the allocator asks for samples wave by
wave, a numba kernel draws outcomes and lengths, the downsampler chooses what
trains, the advantage estimator weighs it, the learner updates, and a row of
metrics is recorded.  Orchestration only: loops over prompts live in kernels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simbench.core.config import ConfigError, UserError, require_memory
from simbench.cost import marginal
from simbench.cost.ledger import CostLedger, draw_prompt_lengths
from simbench.worlds.rl import kernels
from simbench.worlds.rl.learner import LogisticPolicy, pass_at_k
from simbench.worlds.rl.population import make_population, prompt_length_seed
from simbench.worlds.rl.roles import History, RunInfo, StepView
from simbench.worlds.rl.scenario import Scenario, build_roles


class AllocatorError(UserError):
    """A role broke its contract (wrong shape, negative counts, over budget, too many waves)."""


@dataclass
class Streams:
    """Independent random streams of one cell, from one SeedSequence.

    population, selector: common to every strategy (paired comparisons);
    outcomes, learner, roles: the cell's own draws.
    """

    population: np.random.SeedSequence
    selector: np.random.Generator
    outcomes: np.random.Generator
    learner: np.random.Generator
    roles: np.random.Generator

    @classmethod
    def from_seed(cls, ss: np.random.SeedSequence) -> "Streams":
        pop, sel, out, learn, roles = ss.spawn(5)
        g = np.random.default_rng
        return cls(pop, g(sel), g(out), g(learn), g(roles))


class OverBudget(Exception):
    """The step would take the run's GPU-hours over ``budget.total``: the run stops before it."""


class StepState:
    """The growing record of one step: slots, their counts, and the samples drawn."""

    def __init__(self):
        self.prompts = np.empty(0, np.int64)
        self.added = np.empty(0, np.int64)
        self.drawn = np.empty(0, np.int64)
        self.pos = np.empty(0, np.int64)
        self.slot = np.empty(0, np.int64)
        self.reward = np.empty(0, np.int8)
        self.length = np.empty(0, np.int32)
        self.wave = np.empty(0, np.int64)
        self.grad_norm = np.empty(0, np.float64)
        self.spent = 0.0

    def add_prompts(self, prompts: np.ndarray, wave: int) -> None:
        k = len(prompts)
        self.prompts = np.concatenate([self.prompts, prompts.astype(np.int64)])
        self.added = np.concatenate([self.added, np.full(k, wave, np.int64)])
        self.drawn = np.concatenate([self.drawn, np.zeros(k, np.int64)])
        self.pos = np.concatenate([self.pos, np.zeros(k, np.int64)])

    def add_samples(self, slot, reward, length, drawn, wave: int) -> None:
        self.slot = _append(self.slot, slot)
        self.reward = _append(self.reward, reward)
        self.length = _append(self.length, length)
        self.wave = _append(self.wave, np.full(len(slot), wave, np.int64))
        self.drawn += drawn
        self.pos += kernels.slot_totals(slot, reward, len(self.prompts)).astype(np.int64)


def _append(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """np.concatenate([old, new]), without copying ``new`` when ``old`` is empty (the usual single-wave step)."""
    if len(old) == 0:
        return np.asarray(new, np.result_type(old, new))
    return np.concatenate([old, new])


def _readonly(*arrays):
    out = []
    for a in arrays:
        a = a.view()
        a.flags.writeable = False
        out.append(a)
    return out


class Cell:
    """One strategy on one seed of a scenario: the world, the roles and the loop."""

    def __init__(self, scenario: Scenario, strategy_index: int, seed_index: int):
        self.scenario = scenario
        self.strategy = scenario.strategies[strategy_index]
        self.strategy_index = strategy_index
        self.seed_index = seed_index
        self.streams = Streams.from_seed(scenario.cell_seed(seed_index))
        from pathlib import Path

        train, test = make_population(scenario.population, self.streams.population, Path(scenario.base_dir))
        self.learner = LogisticPolicy(scenario.learner, train, test)
        cost = scenario.cost
        self.ledger = None if cost is None else CostLedger(cost, draw_prompt_lengths(cost, len(train), prompt_length_seed(self.streams.population)))
        self.selector, self.allocator, self.downsampler, self.advantage = build_roles(self.strategy, scenario.trainer)
        b = scenario.budget
        self.info = RunInfo(
            n_prompts=len(train),
            group=train.group,
            group_names=train.group_names,
            batch_prompts=scenario.engine.batch_prompts,
            budget_unit=b.step_unit,
            step_budget=b.per_step,
            max_len=scenario.population.lengths.max,
        )
        self.history = History.empty(len(train))
        rngs = self.streams.roles.spawn(4)
        for role, rng in zip((self.selector, self.allocator, self.downsampler, self.advantage), rngs):
            role.reset(self.info, rng)
        self.selector.reset(self.info, self.streams.selector)
        self.mean_len_seen = float(scenario.population.lengths.mean)

    @property
    def roles(self):
        return (self.selector, self.allocator, self.downsampler, self.advantage)

    @property
    def wants_grad_norms(self) -> bool:
        return any(r.needs_grad_norms for r in self.roles)

    @property
    def wants_time_cost(self) -> bool:
        return self.ledger is not None and any(getattr(r, "needs_time_cost", False) for r in self.roles)

    @property
    def wants_oracle(self) -> bool:
        return any(r.uses_oracle for r in self.roles)

    # -- the world: outcomes and gradient norms (replay overrides these) -----
    def draw(self, prompts: np.ndarray, n: np.ndarray, token_cap: float, step: int):
        """Draw ``n[s]`` responses for each slot; return (slot, reward, length, drawn)."""
        L = self.scenario.population.lengths
        p = self.learner.pass_rate(prompts)
        mean_len = self.learner.train.mean_len[prompts]
        return kernels.draw_wave(self.streams.outcomes, n, p, mean_len, L.wrong_factor, L.sigma, L.max, token_cap)

    def grad_norms(self, prompts, slot, reward, length) -> np.ndarray:
        """Per-sample score norms of freshly drawn samples (for roles with ``needs_grad_norms``)."""
        pop = self.learner.train
        p = self.learner.pass_rate(prompts)
        return kernels.grad_norms(self.streams.learner, slot, reward, length, prompts, p, pop.x, pop.noise,
                                  self.scenario.learner.ref_len, self.scenario.learner.extra_dims)

    # -- one step ---------------------------------------------------------
    def cost(self, prompts: np.ndarray) -> np.ndarray:
        if self.info.budget_unit == "samples":
            return np.ones(len(prompts))
        return self.mean_len(prompts)

    def mean_len(self, prompts: np.ndarray) -> np.ndarray:
        """Each prompt's mean observed response length (the run's mean for a prompt not yet drawn)."""
        h = self.history
        seen = h.n[prompts] > 0
        return np.where(seen, h.tokens[prompts] / np.maximum(h.n[prompts], 1), self.mean_len_seen)

    def time_cost(self, st: StepState) -> np.ndarray:
        L = self.scenario.population.lengths
        return marginal.time_cost(self.scenario.cost, self.ledger.prompt_len[st.prompts], self.mean_len(st.prompts), L.sigma, L.max, len(st.slot))

    def view(self, st: StepState, step: int, wave: int, budget_left: float) -> StepView:
        prompts, added, drawn, pos = _readonly(st.prompts, st.added, st.drawn, st.pos)
        slot, reward, length, swave = _readonly(st.slot, st.reward, st.length, st.wave)
        truth_p = truth_G = None
        if self.wants_oracle:
            truth_p = self.learner.pass_rate(st.prompts)
            truth_G = self.learner.grad_scale(st.prompts, truth_p)
        return StepView(
            step=step, wave=wave, prompts=prompts, added_wave=added, group=self.info.group[st.prompts],
            drawn=drawn, pos=pos, cost=self.cost(st.prompts), budget_left=budget_left,
            sample_slot=slot, sample_reward=reward, sample_length=length, sample_wave=swave,
            sample_grad_norm=_readonly(st.grad_norm)[0] if self.wants_grad_norms else None,
            history=self.history, info=self.info, truth_p=truth_p, truth_G=truth_G,
            time_cost=self.time_cost(st) if self.wants_time_cost else None,
        )

    def run_step(self, step: int, total_left: float) -> tuple[StepView, np.ndarray, np.ndarray, int]:
        sc = self.scenario
        st = StepState()
        budget = min(sc.budget.per_step, total_left)
        waves = 0
        for wave in range(sc.engine.max_waves + 1):
            left = budget - st.spent
            v = self.view(st, step, wave, left)
            k = int(self.allocator.prompts_wanted(v))
            if k > 0:
                st.add_prompts(self.selector.select(k, v), wave)
                v = self.view(st, step, wave, left)
            n = np.asarray(self.allocator.allocate(v))
            self.check_allocation(n, v)
            if n.sum() == 0:
                if step == 1 and wave == 0 and math.isfinite(budget):
                    raise self.budget_error(budget)
                break
            if wave == sc.engine.max_waves:
                raise AllocatorError(f"{self.allocator!r} still asks for samples after max_waves={sc.engine.max_waves} waves in step {step}")
            cap = left if sc.budget.unit == "tokens" else math.inf
            slot, reward, length, drawn = self.draw(st.prompts, n.astype(np.int64), cap, step)
            st.add_samples(slot, reward, length, drawn, wave)
            if self.wants_grad_norms:
                st.grad_norm = np.concatenate([st.grad_norm, self.grad_norms(st.prompts, slot, reward, length)])
            st.spent += float(length.sum()) if sc.budget.unit == "tokens" else float(len(slot))
            waves += 1
            if budget - st.spent <= 0 or drawn.sum() < n.sum():
                break
        v = self.view(st, step, waves, budget - st.spent)
        keep = np.asarray(self.downsampler.keep(v), bool)
        if keep.shape != st.slot.shape:
            raise AllocatorError(f"{self.downsampler!r} returned a mask of shape {keep.shape}, expected {st.slot.shape}")
        self.step_cost = self.price(st, keep, step)
        adv = np.asarray(self.advantage.advantages(v, keep), np.float64)
        n_kept = int(keep.sum())
        self.step_pass_rates = self.learner.pass_rate(st.prompts)  # what each slot faced this step (for reports)
        moved = self.learner.update(self.streams.learner, st.prompts, st.slot, st.reward, st.length, adv, n_kept)
        if not math.isfinite(moved):
            raise self.divergence_error(step)
        return v, keep, adv, waves

    def price(self, st: StepState, keep: np.ndarray, step: int) -> dict | None:
        """The step's time ledger (None without [cost]); ``OverBudget`` if it would pass a GPU-hour total."""
        if self.ledger is None:
            return None
        cost = self.ledger.step(st.prompts, st.slot, st.length, st.wave, keep)
        b = self.scenario.budget
        if b.unit == "gpu_hours" and self.ledger.gpu_hours(cost["step_s"]) > b.total:
            if step == 1:
                raise ConfigError("budget.total", b.total, f"at least strategy {self.strategy.label!r}'s first step, "
                                  f"{self.ledger.gpu_hours(cost['step_s']):.3g} GPU-hours (the run would train nothing)")
            raise OverBudget
        return cost

    def budget_error(self, budget: float) -> ConfigError:
        """The step budget leaves this strategy's allocator nothing to draw: the run would train nothing."""
        b = self.scenario.budget
        key = "total" if b.total < b.per_step else "per_step"
        return ConfigError(f"budget.{key}", getattr(b, key), f"a budget in which strategy {self.strategy.label!r} can draw: "
                           f"its allocator asked for no sample within {budget:g} {b.unit} in step 1 (allocators draw "
                           f"whole groups, e.g. uniform needs n samples)")

    def divergence_error(self, step: int) -> ConfigError:
        """The policy's parameters overflowed: every later pass rate would be nan."""
        L = self.scenario.learner
        rates = {"lr_shared": L.lr_shared, "lr_prompt": L.lr_prompt, "lr_format": L.lr_format}
        return ConfigError("learner", rates, "learning rates small enough to keep the policy finite with these "
                           "population.features (skill_scale, idio_scale, grad_noise): its parameters overflowed in "
                           f"step {step}")

    def check_allocation(self, n: np.ndarray, v: StepView) -> None:
        who = repr(self.allocator)
        if n.shape != (v.n_slots,):
            raise AllocatorError(f"{who} returned shape {n.shape}, expected ({v.n_slots},)")
        if not np.issubdtype(n.dtype, np.integer):
            raise AllocatorError(f"{who} returned dtype {n.dtype}, expected integers")
        if (n < 0).any():
            raise AllocatorError(f"{who} returned negative counts")
        total = float(n.sum(dtype=np.float64))
        # a sample takes about 64 bytes along the way (slot, reward, length, wave, norm, kernel scratch)
        require_memory(64.0 * total, f"strategies[{self.strategy_index}].allocator", self.strategy.allocator,
                       f"its {total:.3g} samples in one wave of step {v.step}")
        need = float(np.dot(n, v.cost))
        if need > v.budget_left * (1 + 1e-12) + 1e-9:
            raise AllocatorError(f"{who} asked for {need:g} {self.info.budget_unit} with {v.budget_left:g} left in step {v.step}")

    def record(self, v: StepView, keep: np.ndarray) -> None:
        """Fold the step's samples into the per-prompt history."""
        h = self.history
        tokens = kernels.slot_totals(v.sample_slot, v.sample_length, v.n_slots)
        kernels.fold_history(v.prompts, v.drawn, v.pos, tokens, v.step, h.n, h.pos, h.tokens, h.last_n, h.last_pos, h.last_step)
        if h.n.sum() > 0:
            self.mean_len_seen = float(h.tokens.sum() / h.n.sum())

    PASS_BINS = ("0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0")

    def spending(self, v: StepView | None) -> dict:
        """Samples spent this step per group and per band of the prompt's pass rate (where the budget went)."""
        names = self.info.group_names
        if v is None:
            drawn = np.zeros(0, np.int64)
            by_group = np.zeros(len(names))
            by_band = np.zeros(len(self.PASS_BINS))
        else:
            drawn = v.drawn
            by_group = np.bincount(v.group, weights=drawn, minlength=len(names))
            band = np.minimum((self.step_pass_rates * len(self.PASS_BINS)).astype(np.int64), len(self.PASS_BINS) - 1)
            by_band = np.bincount(band, weights=drawn, minlength=len(self.PASS_BINS))
        row = {f"samples_group_{g}": int(x) for g, x in zip(names, by_group)}
        row.update({f"samples_p_{b}": int(x) for b, x in zip(self.PASS_BINS, by_band)})
        return row

    def metrics(self, step: int, v: StepView | None, keep, adv, waves: int) -> dict:
        tr = self.learner.train_pass_rates()
        te = self.learner.test_pass_rates()
        row = {"step": step}
        if v is None:
            row.update(samples=0, tokens=0, prompts=0, trained_prompts=0, trained_samples=0, waves=0,
                       groups_all_pass=0, groups_all_fail=0, groups_mixed=0, effective_ratio=math.nan)
            row.update(self.spending(None))
        else:
            got = v.drawn > 0
            kept_slots = kernels.group_counts(v.sample_slot, v.sample_reward, keep, v.n_slots)[0] > 0
            n_kept = int(keep.sum())
            row.update(
                samples=int(len(v.sample_slot)), tokens=int(v.sample_length.sum(dtype=np.int64)),
                prompts=int(got.sum()), trained_prompts=int(kept_slots.sum()), trained_samples=n_kept, waves=waves,
                groups_all_pass=int((got & (v.pos == v.drawn)).sum()),
                groups_all_fail=int((got & (v.pos == 0)).sum()),
                groups_mixed=int((got & (v.pos > 0) & (v.pos < v.drawn)).sum()),
                effective_ratio=float(np.count_nonzero((np.abs(adv) > 1e-12) & keep) / n_kept) if n_kept else math.nan,
            )
            row.update(self.spending(v))
        row["train_pass"] = float(tr.mean())
        row["test_pass"] = float(te.mean())
        for k in self.scenario.learner.pass_at_k:
            row[f"test_pass_at_{k}"] = pass_at_k(te, k)
        if v is not None:
            for role in self.roles:
                row.update(role.step_metrics())
        if self.ledger is not None:
            row.update(self.ledger.add(self.step_cost if v is not None else None))
        return row

    def run(self, progress=None) -> list[dict]:
        """Run every step; return one metrics row per step (step 0: before training)."""
        sc = self.scenario
        rows = [self.metrics(0, None, None, None, 0)]
        cum_samples = cum_tokens = 0
        for step in range(1, sc.engine.steps + 1):
            spent = cum_tokens if sc.budget.unit == "tokens" else cum_samples
            total_left = sc.budget.total - spent if sc.budget.unit != "gpu_hours" else math.inf
            if total_left <= 0:
                break
            try:
                v, keep, adv, waves = self.run_step(step, total_left)
            except OverBudget:
                break
            self.record(v, keep)
            for role in self.roles:
                role.observe(v, keep, adv)
            row = self.metrics(step, v, keep, adv, waves)
            cum_samples += row["samples"]
            cum_tokens += row["tokens"]
            rows.append(row)
            if progress is not None:
                progress(1)
        cum_s = cum_t = 0
        for row in rows:
            cum_s += row["samples"]
            cum_t += row["tokens"]
            row["cum_samples"], row["cum_tokens"] = cum_s, cum_t
        return rows


def run_cell(scenario: Scenario, strategy_index: int, seed_index: int, progress=None) -> list[dict]:
    """Run one strategy on one seed; return its rows (with ``strategy`` and ``seed``)."""
    rows = Cell(scenario, strategy_index, seed_index).run(progress)
    label = scenario.strategies[strategy_index].label
    return [{"allocator": label, "seed": seed_index, **row} for row in rows]
