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

from simbench.core._numba import generator_handle
from simbench.core.config import ConfigError, UserError, memory_bytes, require_memory
from simbench.core.roles import Role
from simbench.cost import marginal
from simbench.cost.ledger import CostLedger, draw_prompt_lengths
from simbench.worlds.rl import kernels
from simbench.worlds.rl.learner import LogisticPolicy, mean, pass_at_ks
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
    """The growing record of one step: slots, their counts, and the samples drawn.

    Every array is read-only and replaced, never written in place, when a wave
    adds to it: roles get these arrays in their ``StepView`` without copies.
    ``p`` (each slot's current pass rate) and ``cost`` are computed once per
    added slot: the policy does not move within a step.
    """

    def __init__(self):
        self.prompts = self.added = self.drawn = self.pos = self.tokens = self.slot = self.wave = _EMPTY[np.int64]
        self.p = self.cost = self.grad_norm = _EMPTY[np.float64]
        self.group = _EMPTY[np.int32]
        self.reward = _EMPTY[np.int8]
        self.length = _EMPTY[np.int32]
        self.truth_G = None
        self.spent = 0.0

    def add_prompts(self, prompts: np.ndarray, wave: int, cost: np.ndarray) -> None:
        k = len(prompts)
        if len(self.prompts) == 0:  # the step's first slots (the usual single wave): nothing to append to
            self.prompts = _read_only(prompts.astype(np.int64, copy=False))
            self.cost = _read_only(cost.astype(np.float64, copy=False))
            self.added, self.drawn = _filled(k, wave), _filled(k, 0)
            self.pos = self.tokens = self.drawn
            return
        self.prompts = _append(self.prompts, prompts.astype(np.int64, copy=False))
        self.added = _append(self.added, _filled(k, wave))
        self.drawn = _append(self.drawn, _filled(k, 0))
        self.pos = _append(self.pos, _filled(k, 0))
        self.tokens = _append(self.tokens, _filled(k, 0))
        self.cost = _append(self.cost, cost)

    def add_samples(self, wave: int, slot, reward, length, drawn, pos=None, tokens=None) -> None:
        """Add a wave's samples; ``pos`` and ``tokens`` (correct samples and tokens per slot in this wave)
        are summed here if not given."""
        if pos is None:
            pos = kernels.slot_sums(slot, reward, len(self.prompts))
        if tokens is None:
            tokens = kernels.slot_sums(slot, length, len(self.prompts))
        if len(self.slot):
            drawn, pos, tokens = self.drawn + drawn, self.pos + pos, self.tokens + tokens
        # else the step's first samples: the sums are still all zeros, and x + 0 is x
        self.drawn, self.pos, self.tokens = _sealed(drawn), _sealed(pos), _sealed(tokens)
        # the world's draw made these for the step: read-only in place, no views
        self.slot = _append(self.slot, _sealed(slot))
        self.reward = _append(self.reward, _sealed(reward))
        self.length = _append(self.length, _sealed(length))
        self.wave = _append(self.wave, _filled(len(slot), wave))


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a`` (the caller keeps its own array writable)."""
    a = a.view()
    a.flags.writeable = False
    return a


def _sealed(a: np.ndarray) -> np.ndarray:
    """``a`` itself made read-only: for arrays made for the step (by a kernel, a sum, a gather), which no one
    else holds, where a view would cost as much again."""
    a.flags.writeable = False
    return a


_EMPTY = {t: _frozen(np.empty(0, t)) for t in (np.int64, np.float64, np.int32, np.int8)}


_FILLED: dict = {}


def _filled(n: int, value, dtype=np.int64) -> np.ndarray:
    """A read-only ``np.full(n, value, dtype)``, shared: steps ask for the same few again and again."""
    key = (n, value, dtype)
    a = _FILLED.get(key)
    if a is None:
        if len(_FILLED) >= 256:  # bounded: a miss only rebuilds
            _FILLED.clear()
        a = _FILLED[key] = _frozen(np.full(n, value, dtype))
    return a


def _append(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """A read-only np.concatenate([old, new]) of ``old``'s dtype, without copying ``new`` when ``old`` is empty
    (the usual single-wave step; ``new`` itself when it is already read-only, e.g. a shared ``_filled``)."""
    if len(old) == 0:
        return _read_only(new.astype(old.dtype, copy=False))
    return _sealed(np.concatenate([old, new], dtype=old.dtype))


def _read_only(a: np.ndarray) -> np.ndarray:
    """``a`` if it is read-only already (e.g. a shared ``_filled``), else a read-only view of it."""
    return _frozen(a) if a.flags.writeable else a


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
        self.seen_n, self.seen_tokens = 0, 0.0  # totals of the history (exact: integers, and integer-valued floats)
        self.memory = memory_bytes()
        self.state = StepState()
        self.pool = None  # the latest pool-wide metrics (see ``pool_metrics``)
        self.pass_ks = np.array(scenario.learner.pass_at_k, np.int64)
        self.pass_keys = ("test_pass", *(f"test_pass_at_{k}" for k in scenario.learner.pass_at_k))
        self.eval_due = True
        self._spending_columns = ((), [])
        self._flags = ((), (), False)  # (roles, _role_flags(), whether a role needs time costs)

    @property
    def roles(self):
        return (self.selector, self.allocator, self.downsampler, self.advantage)

    @property
    def wants_grad_norms(self) -> bool:
        return self._role_flags()[1]

    @property
    def wants_time_cost(self) -> bool:
        if self.ledger is None:
            return False
        self._role_flags()  # refreshes the cached flags if a role was replaced
        return self._flags[2]

    @property
    def wants_oracle(self) -> bool:
        return self._role_flags()[0]

    def _role_flags(self) -> tuple:
        """(uses_oracle, needs_grad_norms, observers, reporters) of the current roles, recomputed only when a role
        is replaced: observers and reporters are the roles with their own ``observe`` and ``step_metrics`` (the
        base class's do nothing, and calling them was a measurable part of a small step)."""
        roles = self.roles
        if self._flags[0] != roles:
            def own(name):
                return tuple(r for r in roles if getattr(getattr(r, name), "__func__", None) is not getattr(Role, name))
            self._flags = (roles, (any(r.uses_oracle for r in roles), any(r.needs_grad_norms for r in roles),
                                   own("observe"), own("step_metrics")), any(getattr(r, "needs_time_cost", False) for r in roles))
        return self._flags[1]

    # -- the world: outcomes and gradient norms (replay overrides these) -----
    def slot_pass_rates(self, prompts: np.ndarray) -> np.ndarray:
        """Current pass rate of each slot: the step's cached ``p`` for its own slots (the policy is still)."""
        return self.state.p if prompts is self.state.prompts else self.learner.pass_rate(prompts)

    def draw(self, prompts: np.ndarray, n: np.ndarray, token_cap: float, step: int):
        """Draw ``n[s]`` responses for each slot; return (slot, reward, length, drawn[, pos, tokens]).

        ``pos`` and ``tokens``, the correct samples and the tokens per slot, are optional: the engine sums
        them when a world does not return them.
        """
        L = self.scenario.population.lengths
        mean_len = self.learner.train.mean_len[prompts]
        rng = generator_handle(self.streams.outcomes)
        if token_cap == math.inf:
            return kernels.draw_wave_fast(rng, n, self.slot_pass_rates(prompts), mean_len, L.wrong_factor, L.sigma, L.max)
        return kernels.draw_wave_sums(rng, n, self.slot_pass_rates(prompts), mean_len, L.wrong_factor, L.sigma, L.max, token_cap)

    def grad_norms(self, prompts, slot, reward, length) -> np.ndarray:
        """Per-sample score norms of freshly drawn samples (for roles with ``needs_grad_norms``)."""
        pop = self.learner.train
        return kernels.grad_norms(generator_handle(self.streams.learner), slot, reward, length, prompts, self.slot_pass_rates(prompts),
                                  pop.x, pop.noise, self.scenario.learner.ref_len, self.scenario.learner.extra_dims)

    # -- one step ---------------------------------------------------------
    def cost(self, prompts: np.ndarray) -> np.ndarray:
        if self.info.budget_unit == "samples":
            return _filled(len(prompts), 1.0, np.float64)
        return self.mean_len(prompts)

    def mean_len(self, prompts: np.ndarray) -> np.ndarray:
        """Each prompt's mean observed response length (the run's mean for a prompt not yet drawn)."""
        h = self.history
        seen = h.n[prompts] > 0
        return np.where(seen, h.tokens[prompts] / np.maximum(h.n[prompts], 1), self.mean_len_seen)

    def time_cost(self, st: StepState) -> np.ndarray:
        L = self.scenario.population.lengths
        return marginal.time_cost(self.scenario.cost, self.ledger.prompt_len[st.prompts], self.mean_len(st.prompts), L.sigma, L.max, len(st.slot))

    def add_prompts(self, st: StepState, prompts: np.ndarray, wave: int, oracle: bool) -> None:
        """New slots, with what the step keeps per slot: pass rate, cost, group (and the oracle's truth)."""
        st.add_prompts(prompts, wave, self.cost(prompts))
        st.p = _sealed(self.learner.pass_rate(st.prompts))
        st.group = _sealed(self.info.group[st.prompts])
        if oracle:
            st.truth_G = _sealed(self.learner.grad_scale(st.prompts, st.p))

    def view(self, st: StepState, step: int, wave: int, budget_left: float, oracle: bool, norms: bool) -> StepView:
        # positional, in StepView's field order (tests/test_engine.py checks it): keywords cost 0.8 us more per view
        return StepView(
            step, wave, st.prompts, st.added, st.group, st.drawn, st.pos, st.cost, budget_left,
            st.slot, st.reward, st.length, st.wave, self.history, self.info,
            st.p if oracle else None, st.truth_G if oracle else None, st.grad_norm if norms else None,
            self.time_cost(st) if self.wants_time_cost else None,
        )

    def run_step(self, step: int, total_left: float) -> tuple[StepView, np.ndarray, np.ndarray, int]:
        sc = self.scenario
        st = self.state = StepState()
        oracle, norms = self._role_flags()[:2]
        tokens = sc.budget.unit == "tokens"
        budget = min(sc.budget.per_step, total_left)
        waves = 0
        for wave in range(sc.engine.max_waves + 1):
            left = budget - st.spent
            v = self.view(st, step, wave, left, oracle, norms)
            k = int(self.allocator.prompts_wanted(v))
            if k > 0:
                self.add_prompts(st, self.selector.select(k, v), wave, oracle)
                v = self.view(st, step, wave, left, oracle, norms)
            n = np.asarray(self.allocator.allocate(v))
            total = self.check_allocation(n, v)
            if total == 0:
                if step == 1 and wave == 0 and math.isfinite(budget):
                    raise self.budget_error(budget)
                break
            if wave == sc.engine.max_waves:
                raise AllocatorError(f"{self.allocator!r} still asks for samples after max_waves={sc.engine.max_waves} waves in step {step}")
            out = self.draw(st.prompts, n.astype(np.int64, copy=False), left if tokens else math.inf, step)
            st.add_samples(wave, *out)
            slot, reward, length = out[:3]
            if norms:
                st.grad_norm = _append(st.grad_norm, self.grad_norms(st.prompts, slot, reward, length))
            st.spent += float(length.sum()) if tokens else float(len(slot))
            waves += 1
            if budget - st.spent <= 0 or len(slot) < total or waves == self.allocator.waves:
                break
        if v.wave != waves or v.budget_left != budget - st.spent or v.drawn is not st.drawn or v.prompts is not st.prompts:
            v = self.view(st, step, waves, budget - st.spent, oracle, norms)
        keep = np.asarray(self.downsampler.keep(v), bool)
        if keep.shape != st.slot.shape:
            raise AllocatorError(f"{self.downsampler!r} returned a mask of shape {keep.shape}, expected {st.slot.shape}")
        self.step_cost = self.price(st, keep, step)
        adv = np.asarray(self.advantage.advantages(v, keep), np.float64)
        n_kept = int(np.count_nonzero(keep))
        moved = self.learner.update(self.streams.learner, st.prompts, st.slot, st.reward, st.length, adv, n_kept, p=st.p)
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

    def check_allocation(self, n: np.ndarray, v: StepView) -> float:
        """Refuse a request that breaks the allocator's contract; return its total number of samples."""
        if n.shape != (v.n_slots,):
            raise AllocatorError(f"{self.allocator!r} returned shape {n.shape}, expected ({v.n_slots},)")
        if n.dtype.kind not in "iu":
            raise AllocatorError(f"{self.allocator!r} returned dtype {n.dtype}, expected integers")
        lowest, total, need = kernels.request_totals(n, v.cost)
        if lowest < 0:
            raise AllocatorError(f"{self.allocator!r} returned negative counts")
        # a sample takes about 64 bytes along the way (slot, reward, length, wave, norm, kernel scratch)
        if 64.0 * total > self.memory:
            require_memory(64.0 * total, f"strategies[{self.strategy_index}].allocator", self.strategy.allocator,
                           f"its {total:.3g} samples in one wave of step {v.step}")
        if need > v.budget_left * (1 + 1e-12) + 1e-9:
            raise AllocatorError(f"{self.allocator!r} asked for {need:g} {self.info.budget_unit} with {v.budget_left:g} left in step {v.step}")
        return total

    def record(self, v: StepView, keep: np.ndarray) -> None:
        """Fold the step's samples into the per-prompt history."""
        h = self.history
        st = self.state
        # the step's per-slot tokens, summed as the samples came (a view of another step's samples: sum them)
        tokens = st.tokens if v.sample_slot is st.slot else kernels.slot_sums(v.sample_slot, v.sample_length, v.n_slots)
        total = kernels.fold_history(v.prompts, v.drawn, v.pos, tokens, v.step, h.n, h.pos, h.tokens, h.last_n, h.last_pos, h.last_step)
        self.seen_n += len(v.sample_slot)  # every drawn sample is in the step's sample arrays
        self.seen_tokens += float(total)
        if self.seen_n > 0:
            self.mean_len_seen = self.seen_tokens / self.seen_n

    PASS_BINS = ("0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0")

    def spending_columns(self) -> list[str]:
        """The row's columns of samples spent per group and per band of the prompt's pass rate (where the budget went)."""
        names = self.info.group_names
        if self._spending_columns[0] != names:  # a replay sets its own groups after __init__
            self._spending_columns = (names, [f"samples_group_{g}" for g in names] + [f"samples_p_{b}" for b in self.PASS_BINS])
        return self._spending_columns[1]

    def pool_metrics(self, step: int) -> dict:
        """Pass rates over the whole train pool and test set: computed when due (``eval_due``), else the latest ones.

        ``eval_step`` says which step's policy they measure.
        """
        if self.eval_due or self.pool is None:
            test = pass_at_ks(self.learner.test_pass_rates(), self.pass_ks).tolist()
            self.pool = {"train_pass": mean(self.learner.train_pass_rates()), **dict(zip(self.pass_keys, test)),
                         "eval_step": step}
        return self.pool

    def metrics(self, step: int, v: StepView | None, keep, adv, waves: int) -> dict:
        spend = self.spending_columns()
        if v is None:
            c = [0] * (9 + len(spend))
        else:
            c = kernels.step_row(v.drawn, v.pos, v.sample_slot, v.sample_length, keep, adv, v.group, self.state.p,
                                 len(self.info.group_names), len(self.PASS_BINS)).tolist()
        row = {"step": step, "samples": c[0], "tokens": c[1], "prompts": c[2], "trained_prompts": c[3],
               "trained_samples": c[4], "waves": waves, "groups_all_pass": c[5], "groups_all_fail": c[6],
               "groups_mixed": c[7], "effective_ratio": c[8] / c[4] if c[4] else math.nan}
        row.update(zip(spend, c[9:]))
        row.update(self.pool_metrics(step))
        if v is not None:
            for role in self._role_flags()[3]:
                row.update(role.step_metrics())
        if self.ledger is not None:
            row.update(self.ledger.add(self.step_cost if v is not None else None))
        return row

    def run(self, progress=None) -> list[dict]:
        """Run every step; return one metrics row per step (step 0: before training).

        The pool-wide columns are evaluated at step 0, every ``engine.eval_every`` steps
        and at the run's last step; rows between evaluations carry the latest ones.
        """
        sc = self.scenario
        every = sc.engine.eval_interval
        tokens, hours = sc.budget.unit == "tokens", sc.budget.unit == "gpu_hours"
        self.eval_due = True
        rows = [self.metrics(0, None, None, None, 0)]
        spent = 0.0
        for step in range(1, sc.engine.steps + 1):
            total_left = math.inf if hours else sc.budget.total - spent
            if total_left <= 0:
                break
            try:
                v, keep, adv, waves = self.run_step(step, total_left)
            except OverBudget:  # the run ends at the previous step: it must end on an evaluation
                if rows[-1]["eval_step"] != rows[-1]["step"]:
                    self.eval_due = True
                    rows[-1].update(self.pool_metrics(rows[-1]["step"]))
                break
            self.record(v, keep)
            for role in self._role_flags()[2]:
                role.observe(v, keep, adv)
            spent += float(v.sample_length.sum(dtype=np.int64)) if tokens else len(v.sample_slot)
            self.eval_due = step % every == 0 or step == sc.engine.steps or (not hours and spent >= sc.budget.total)
            rows.append(self.metrics(step, v, keep, adv, waves))
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
