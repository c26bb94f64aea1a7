"""Scenarios of the RL world: TOML tables in, frozen dataclasses out, with errors a user can act on.

A scenario names the population, the learner, the engine, the budget, the
default trainer, the strategies to compare and the seeds.  Every key is
checked: unknown keys, wrong types and out-of-range values are errors that
name the file, the key path, the value and what is allowed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import simbench.registry as registry
from simbench.core.config import ConfigError, build, require, unbounded
from simbench.core.scenario import Seeded, check_name, pin_files, require_results, resolve_baseline
from simbench.cost.spec import CostSpec
from simbench.worlds.rl.learner import LearnerSpec
from simbench.worlds.rl.population import PopulationSpec

ScenarioError = ConfigError

RoleSpec = dict[str, Any] | str


@dataclass(frozen=True)
class BudgetSpec:
    """Rollout budget, in samples or tokens, per step and in total (inf: unlimited).

    ``gpu_hours`` (needs a ``[cost]`` table): a total only; the run stops before the
    step that would take its GPU-hours over it, and steps are unlimited in samples.
    """

    unit: Literal["samples", "tokens", "gpu_hours"] = "samples"
    per_step: float = unbounded(math.inf)
    total: float = unbounded(math.inf)

    def check(self) -> None:
        require(self.per_step > 0, "per_step", self.per_step, "a positive number (inf for unlimited)")
        require(self.total > 0, "total", self.total, "a positive number (inf for unlimited)")
        if self.unit == "gpu_hours":
            require(math.isinf(self.per_step), "per_step", self.per_step, "inf (a gpu_hours budget is a total; per step it is unlimited)")

    @property
    def step_unit(self) -> str:
        """The unit the roles see per step: a GPU-hour budget leaves them an unlimited number of samples."""
        return "samples" if self.unit == "gpu_hours" else self.unit

    def check_fits_one_sample(self, mean_len: float) -> None:
        """Each limit must pay for one sample: 1 in samples, ``mean_len`` (how an unseen sample is priced) in tokens."""
        if self.unit == "gpu_hours":
            return  # priced after the step: the run stops before a step that would not fit
        one, what = (1.0, "1 sample") if self.unit == "samples" else (mean_len, f"{mean_len:g} tokens, population.lengths.mean")
        for key in ("per_step", "total"):
            value = getattr(self, key)
            require(value >= one, f"budget.{key}", value, f"at least one sample's cost, {what} (inf for unlimited)")


@dataclass(frozen=True)
class EngineSpec:
    """Steps of training, prompts per train batch, a guard on waves per step, and the evaluation interval.

    ``eval_every``: steps between evaluations of the pool-wide pass rates (train pool, test set,
    pass@k), which cost a pass over every prompt (unset: every step); step 0 and the last step are
    always evaluated, and rows in between carry the latest evaluation (column ``eval_step``).  It
    is no part of the world's hash: any interval runs on the same random streams.
    """

    steps: int = 100
    batch_prompts: int = 64
    max_waves: int = 64
    eval_every: int | None = None

    @property
    def eval_interval(self) -> int:
        return self.eval_every or 1

    def check(self) -> None:
        require(self.steps >= 1, "steps", self.steps, "an integer >= 1")
        require(self.batch_prompts >= 1, "batch_prompts", self.batch_prompts, "an integer >= 1")
        require(self.max_waves >= 1, "max_waves", self.max_waves, "an integer >= 1")
        require(self.eval_every is None or self.eval_every >= 1, "eval_every", self.eval_every,
                "an integer >= 1 (steps between evaluations of the pool-wide pass rates)")


@dataclass(frozen=True)
class TrainerSpec:
    """The advantage estimator used by strategies that do not name their own."""

    advantage: RoleSpec = "grpo"


@dataclass(frozen=True)
class StrategySpec:
    """One strategy to compare: a selector, an allocator, a downsampler and an advantage.

    ``downsampler`` and ``advantage`` default to the allocator's reference
    choice (e.g. DAPO's zero-variance filter), else keep-all and the trainer's.
    """

    allocator: RoleSpec
    name: str = ""
    selector: RoleSpec = "epoch_shuffle"
    downsampler: RoleSpec | None = None
    advantage: RoleSpec | None = None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return self.allocator if isinstance(self.allocator, str) else str(self.allocator.get("kind", "?"))


@dataclass(frozen=True)
class ReportSpec:
    """How results are summarised.

    ``baseline``: the strategy speedups are measured against (default: ``uniform``
    if the scenario has it, else its first strategy).
    ``target_test_pass``: test pass rate for tokens-to-target (default: a gain
    over each seed's initial test pass rate of 90% of the smallest gain any
    baseline seed makes; see ``simbench.worlds.rl.results.default_target``).
    """

    baseline: str = ""
    target_test_pass: float | None = None

    def check(self) -> None:
        if self.target_test_pass is not None:
            require(0 < self.target_test_pass < 1, "target_test_pass", self.target_test_pass, "a number in (0, 1)")


@dataclass(frozen=True)
class Scenario(Seeded):
    """A whole comparison: world, learner, engine, budget, strategies and seeds."""

    world: ClassVar[str] = "rl"  # not a field: it is no part of the scenario's hash
    # neither the evaluation interval nor the cost model (which prices the run and draws none of
    # its outcomes) changes a cell's random streams
    NOT_WORLD: ClassVar[tuple[str, ...]] = (*Seeded.NOT_WORLD, "engine.eval_every", "cost")

    name: str
    strategies: tuple[StrategySpec, ...]
    description: str = ""
    seed: int = 0
    seeds: int = 4
    population: PopulationSpec = field(default_factory=PopulationSpec)
    learner: LearnerSpec = field(default_factory=LearnerSpec)
    engine: EngineSpec = field(default_factory=EngineSpec)
    budget: BudgetSpec = field(default_factory=BudgetSpec)
    trainer: TrainerSpec = field(default_factory=TrainerSpec)
    report: ReportSpec = field(default_factory=ReportSpec)
    cost: CostSpec | None = None
    base_dir: str = field(default=".", compare=False, metadata={"internal": True})
    # SHA-256 of each referenced file when the scenario was loaded, by resolved path
    file_pins: dict[str, str] = field(default_factory=dict, compare=False, metadata={"internal": True})

    def __post_init__(self):
        resolve_baseline(self)

    def check(self) -> None:
        check_name(self.name)
        require(self.seeds >= 1, "seeds", self.seeds, "an integer >= 1")
        require_results(self.engine.steps, self.seeds, len(self.strategies))
        require(self.seed >= 0, "seed", self.seed, "a non-negative integer")
        require(len(self.strategies) >= 1, "strategies", self.strategies, "at least one [[strategies]] table")
        labels = [s.label for s in self.strategies]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        require(not dup, "strategies", dup, "distinct strategy names (set 'name' to tell them apart)")
        for i, strat in enumerate(self.strategies):
            roles = build_roles(strat, self.trainer, f"strategies[{i}]")
            if self.cost is None and any(getattr(r, "needs_time_cost", False) for r in roles):
                raise ConfigError(f"strategies[{i}]", strat.label, "a strategy that prices samples in seconds only in a "
                                  "scenario with a [cost] table")
        registry.make("advantage", self.trainer.advantage, "trainer.advantage")
        require(self.report.baseline in labels, "report.baseline", self.report.baseline,
                f"the name of one of the strategies: {', '.join(map(repr, labels))}")
        self.budget.check_fits_one_sample(self.population.lengths.mean)
        if self.cost is not None:
            self.cost.check_lengths(self.population.lengths.max, "population.lengths.max")
        require(self.cost is not None or self.budget.unit != "gpu_hours", "budget.unit", self.budget.unit,
                "'samples' or 'tokens' unless the scenario has a [cost] table (GPU-hours come from its cost model)")

    def referenced_files(self) -> dict[str, Path]:
        """The pass-rate tables, by key path (``population.pass_rate.path``, ``population.groups[i]...``)."""
        return {f"{where}.path": _resolve(law.path, self.base_dir) for where, law in table_laws(self)}



def build_roles(strategy: StrategySpec, trainer: TrainerSpec, where: str = "strategy"):
    """Instantiate a strategy's four roles (selector, allocator, downsampler, advantage)."""
    allocator = registry.make("allocator", strategy.allocator, f"{where}.allocator")
    selector = registry.make("selector", strategy.selector, f"{where}.selector")
    if strategy.downsampler is not None:
        downsampler = registry.make("downsampler", strategy.downsampler, f"{where}.downsampler")
    else:
        downsampler = allocator.default_downsampler() or registry.make("downsampler", "keep_all")
    if strategy.advantage is not None:
        advantage = registry.make("advantage", strategy.advantage, f"{where}.advantage")
    else:
        advantage = allocator.default_advantage() or registry.make("advantage", trainer.advantage, "trainer.advantage")
    return selector, allocator, downsampler, advantage


def parse_rl_scenario(data: dict, source: str = "<memory>", base_dir: str = ".") -> Scenario:
    """Build and check an RL ``Scenario`` from a parsed TOML table (without ``world``); errors are attributed to ``source``."""
    try:
        scenario = build(Scenario, data)
    except ConfigError as err:
        raise err.in_file(source) from None
    object.__setattr__(scenario, "base_dir", base_dir)
    check_tables(scenario, source)
    check_pool(scenario, source)
    pin_files(scenario)
    return scenario


def check_pool(scenario: Scenario, source: str) -> None:
    """A batch, and any wave, draws distinct prompts from the train pool: neither may be larger than the pool.

    (Not part of ``Scenario.check``: a replay's steps may take a prompt twice, from two log steps.)
    """
    pool = scenario.population.train_prompts
    if scenario.engine.batch_prompts > pool:
        raise ConfigError("engine.batch_prompts", scenario.engine.batch_prompts,
                          f"at most population.train_prompts = {pool} (a batch holds distinct prompts)", source)
    for i, strat in enumerate(scenario.strategies):
        allocator = registry.make("allocator", strat.allocator, f"strategies[{i}].allocator")
        wave = allocator.prompts_per_wave(scenario.engine.batch_prompts)
        if wave > pool:
            raise ConfigError(f"strategies[{i}].allocator", strat.allocator,
                              f"waves of at most population.train_prompts = {pool} new prompts (it asks for {wave} at once; "
                              "e.g. DAPO's gen_batch, default 3 x engine.batch_prompts)", source)


def table_laws(scenario: Scenario) -> list[tuple[str, Any]]:
    """(key path, law) of every pass-rate law of kind ``table``."""
    pop = scenario.population
    laws = [("population.pass_rate", pop.pass_rate)]
    laws += [(f"population.groups[{i}].pass_rate", g.pass_rate) for i, g in enumerate(pop.groups)]
    return [(where, law) for where, law in laws if law is not None and law.kind == "table"]


def _resolve(path: str, base_dir: str) -> Path:
    file = Path(path)
    return (file if file.is_absolute() else Path(base_dir) / file).resolve()


def check_tables(scenario: Scenario, source: str) -> None:
    """Read every pass-rate table now, so a bad file fails at load time naming the scenario, key and CSV line."""
    from simbench.worlds.rl.population import read_pass_rate_table

    for where, law in table_laws(scenario):
        try:
            read_pass_rate_table(law.path, Path(scenario.base_dir))
        except ConfigError as err:
            raise ConfigError(f"{where}.path", err.value, err.allowed, source) from None


