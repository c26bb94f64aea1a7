"""Scenario of the inference world: queries, answers, verifier, budget, metrics and strategies (picker x allocator)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from simbench.core.config import ConfigError, require, require_memory
from simbench.core.laws import LengthSpec, PassRateSpec, read_pass_rate_table
from simbench.core.scenario import Seeded, check_name, resolve_baseline
from simbench.cost.generation import peak_rate
from simbench.cost.spec import CostSpec
from simbench.worlds.inference.eflops import available as eflops_available
from simbench.worlds.inference.eflops import wave_eflops
from simbench.worlds.inference.tables import read_answer_table

RoleSpec = dict[str, Any] | str


@dataclass(frozen=True)
class QueriesSpec:
    """The queries: how many, the law of their latent pass rates and the response-length law."""

    n_queries: int = 500
    pass_rate: PassRateSpec = field(default_factory=PassRateSpec)
    lengths: LengthSpec = field(default_factory=LengthSpec)

    def check(self) -> None:
        require(self.n_queries >= 1, "n_queries", self.n_queries, "an integer >= 1")


@dataclass(frozen=True)
class AnswersSpec:
    """Wrong answers: ``dirichlet`` (``wrong_answers`` per query with weights ~ Dirichlet(``wrong_concentration``)),
    ``unique`` (every wrong sample is a distinct answer, as for code and proofs) or ``table`` (``path``: a CSV whose
    columns ``w1 .. wM`` give each query's wrong-answer weights, one row per query in file order, cycling)."""

    model: Literal["dirichlet", "unique", "table"] = "dirichlet"
    wrong_answers: int = 8
    wrong_concentration: float = 0.3
    path: str = ""

    def check(self) -> None:
        require(1 <= self.wrong_answers <= 1000, "wrong_answers", self.wrong_answers, "an integer in [1, 1000]")
        require(self.wrong_concentration > 0, "wrong_concentration", self.wrong_concentration, "a positive number")
        require((self.model == "table") == bool(self.path), "path", self.path,
                "the path of a CSV of wrong-answer weights (columns w1, w2, ...) with model = 'table', and only then")


@dataclass(frozen=True)
class VerifierSpec:
    """How samples are judged and scored.

    ``oracle``: accepts exactly the correct samples; ``binary``: accepts a correct sample with probability ``tpr``
    and a wrong one with ``fpr0 * (1 - p_q) ** fpr_slope``; ``rm``: a reward-model score
    ``mu * correct + b[q, answer] + eps`` with a per-answer bias ``b ~ N(0, sigma_b^2)`` shared by every sample giving
    that answer and noise ``eps ~ N(0, sigma_eps^2)``; it accepts samples scoring at least ``threshold``.
    """

    kind: Literal["oracle", "binary", "rm"] = "oracle"
    tpr: float = 1.0
    fpr0: float = 0.1
    fpr_slope: float = 1.0
    mu: float = 1.0
    sigma_b: float = 0.5
    sigma_eps: float = 0.3
    threshold: float = 0.5

    def check(self) -> None:
        require(0 <= self.tpr <= 1, "tpr", self.tpr, "a probability in [0, 1]")
        require(0 <= self.fpr0 <= 1, "fpr0", self.fpr0, "a probability in [0, 1]")
        require(self.fpr_slope >= 0, "fpr_slope", self.fpr_slope, "a non-negative number")
        require(self.sigma_b >= 0, "sigma_b", self.sigma_b, "a non-negative number")
        require(self.sigma_eps >= 0, "sigma_eps", self.sigma_eps, "a non-negative number")


@dataclass(frozen=True)
class BudgetSpec:
    """Budgets to run every strategy at, per query on average (``per_query``, in ``unit``; total = per_query x n_queries),
    and an optional cap on samples per query (0: none).  ``gpu_seconds`` needs a ``[cost]`` table, ``eflops`` one
    whose model gives ``query_heads``."""

    unit: Literal["samples", "tokens", "gpu_seconds", "eflops"] = "samples"
    per_query: tuple[float, ...] = (1.0, 4.0, 16.0)
    max_per_query: int = 0

    def check(self) -> None:
        require(len(self.per_query) >= 1, "per_query", self.per_query, "a non-empty array of budgets per query")
        if self.unit in ("gpu_seconds", "eflops"):  # whether a wave fits is known once priced (the engine says if none does)
            require(all(b > 0 for b in self.per_query), "per_query", self.per_query, f"positive numbers ({self.unit} per query)")
        else:
            require(all(b >= 1 for b in self.per_query), "per_query", self.per_query,
                    f"numbers >= 1 ({self.unit} per query; a budget must pay for a sample)")
        require(list(self.per_query) == sorted(set(self.per_query)), "per_query", self.per_query, "increasing distinct numbers")
        require(self.max_per_query >= 0, "max_per_query", self.max_per_query, "an integer >= 0 (0: no cap)")


@dataclass(frozen=True)
class EngineSpec:
    """A guard on the number of waves (rounds) of one run."""

    max_waves: int = 100_000

    def check(self) -> None:
        require(self.max_waves >= 1, "max_waves", self.max_waves, "an integer >= 1")


@dataclass(frozen=True)
class MetricsSpec:
    """``k``: the sample counts of the coverage@k (pass@k) columns."""

    k: tuple[int, ...] = (1, 10, 100)

    def check(self) -> None:
        require(all(k >= 1 for k in self.k), "k", self.k, "integers >= 1")


@dataclass(frozen=True)
class StrategySpec:
    """One strategy to compare: an allocator (how many samples, when to stop) and a picker (which answer); the picker
    defaults to the allocator's reference one."""

    allocator: RoleSpec
    picker: RoleSpec | None = None
    name: str = ""

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return self.allocator if isinstance(self.allocator, str) else str(self.allocator.get("kind", "?"))


@dataclass(frozen=True)
class ReportSpec:
    """``baseline``: the strategy others are compared with, paired by seed (default ``uniform`` if present, else the first)."""

    baseline: str = ""


@dataclass(frozen=True)
class InferenceScenario(Seeded):
    """A comparison of test-time compute strategies on the same queries and sample tapes."""

    world: ClassVar[str] = "inference"
    # the cost model prices the samples and draws none of them (prompt lengths come from a stream of their own)
    NOT_WORLD: ClassVar[tuple[str, ...]] = (*Seeded.NOT_WORLD, "cost")

    name: str
    strategies: tuple[StrategySpec, ...]
    description: str = ""
    seed: int = 0
    seeds: int = 4
    queries: QueriesSpec = field(default_factory=QueriesSpec)
    answers: AnswersSpec = field(default_factory=AnswersSpec)
    verifier: VerifierSpec = field(default_factory=VerifierSpec)
    budget: BudgetSpec = field(default_factory=BudgetSpec)
    engine: EngineSpec = field(default_factory=EngineSpec)
    metrics: MetricsSpec = field(default_factory=MetricsSpec)
    report: ReportSpec = field(default_factory=ReportSpec)
    cost: CostSpec | None = None
    base_dir: str = field(default=".", compare=False, metadata={"internal": True})
    file_pins: dict[str, str] = field(default_factory=dict, compare=False, metadata={"internal": True})

    def __post_init__(self):
        resolve_baseline(self)

    def check(self) -> None:
        from simbench.worlds.inference.roles import build_strategy

        check_name(self.name)
        require(self.seeds >= 1, "seeds", self.seeds, "an integer >= 1")
        require(self.seed >= 0, "seed", self.seed, "a non-negative integer")
        require(len(self.strategies) >= 1, "strategies", self.strategies, "at least one [[strategies]] table")
        labels = [s.label for s in self.strategies]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        require(not dup, "strategies", dup, "distinct strategy names (set 'name' to tell them apart)")
        for i, s in enumerate(self.strategies):
            build_strategy(s, f"strategies[{i}]")
        require(self.report.baseline in labels, "report.baseline", self.report.baseline,
                f"the name of one of the strategies: {', '.join(map(repr, labels))}")
        require(self.cost is not None or self.budget.unit != "gpu_seconds", "budget.unit", self.budget.unit,
                "'samples' or 'tokens' unless the scenario has a [cost] table (GPU-seconds come from its cost model)")
        require(self.budget.unit != "eflops" or eflops_available(self.cost), "budget.unit", self.budget.unit,
                "'samples', 'tokens' or 'gpu_seconds' unless the scenario has a [cost] table whose model gives its attention "
                "heads, cost.model.query_heads (eFLOPs count the attention's compute; Qwen2.5-1.5B has 12)")
        if self.cost is not None:
            self.cost.check_lengths(self.queries.lengths.max, "queries.lengths.max")
        # the sample record of one run: answer, length, acceptance and score (17 bytes) per sample drawn; a token or
        # GPU-second budget buys about budget / the mean sample's price (counted as a quarter of it, to be safe)
        top = max(self.budget.per_query) * self.queries.n_queries
        unit = self.budget.unit
        samples = top if unit == "samples" else top / (max(1.0, mean_price(self) / 4) if unit == "tokens" else mean_price(self) / 4)
        require_memory(17.0 * samples + 64.0 * self.queries.n_queries * (self.answers.wrong_answers + 8), "budget.per_query",
                       max(self.budget.per_query), f"the samples of one run ({samples:.3g} samples)")
        if self.budget.unit == "tokens":
            require(min(self.budget.per_query) >= self.queries.lengths.mean, "budget.per_query", self.budget.per_query,
                    f"token budgets per query of at least one mean response, queries.lengths.mean = {self.queries.lengths.mean:g}")

    def referenced_files(self) -> dict[str, Path]:
        """The pass-rate and answer tables, by key path."""
        paths = {"queries.pass_rate.path": self.queries.pass_rate.path if self.queries.pass_rate.kind == "table" else "",
                 "answers.path": self.answers.path}
        return {key: (Path(p) if Path(p).is_absolute() else Path(self.base_dir) / p).resolve() for key, p in paths.items() if p}


def mean_price(scenario: InferenceScenario) -> float:
    """The expected price of a sample before any is drawn (an allocator's ``View.price``): the length law's mean in
    tokens, or with a GPU-second budget the GPU-seconds of a mean response in fully batched decoding
    (``simbench.cost.generation.peak_rate``), or with an eFLOP budget a mean response's eFLOPs."""
    mean, cost = scenario.queries.lengths.mean, scenario.cost
    if scenario.budget.unit == "eflops":  # a mean response alone: eFLOPs do not depend on batching
        return wave_eflops(cost, np.array([round(cost.prompt_len.mean)]), np.array([0]), np.array([mean]))
    if scenario.budget.unit != "gpu_seconds":
        return float(mean)
    return cost.hw.gpus * mean / peak_rate(cost, np.array([cost.prompt_len.mean]), np.array([mean]))


def check_table(scenario: InferenceScenario, source: str) -> None:
    """Read the tables now, so that a bad file fails at load time naming the scenario, the key and the CSV line."""
    try:
        if scenario.queries.pass_rate.kind == "table":
            try:
                read_pass_rate_table(scenario.queries.pass_rate.path, Path(scenario.base_dir))
            except ConfigError as err:
                raise ConfigError("queries.pass_rate.path", err.value, err.allowed) from None
        if scenario.answers.model == "table":
            read_answer_table(scenario.answers.path, Path(scenario.base_dir))
    except ConfigError as err:
        raise err.in_file(source) from None
