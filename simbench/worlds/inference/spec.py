"""Scenario of the inference world: queries, answers, verifier, budget, metrics and strategies (picker x allocator)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from simbench.core.config import ConfigError, require, require_memory
from simbench.core.laws import LengthSpec, PassRateSpec, read_pass_rate_table
from simbench.core.scenario import Seeded, check_name
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
    and an optional cap on samples per query (0: none)."""

    unit: Literal["samples", "tokens"] = "samples"
    per_query: tuple[float, ...] = (1.0, 4.0, 16.0)
    max_per_query: int = 0

    def check(self) -> None:
        require(len(self.per_query) >= 1, "per_query", self.per_query, "a non-empty array of budgets per query")
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
    base_dir: str = field(default=".", compare=False, metadata={"internal": True})
    file_pins: dict[str, str] = field(default_factory=dict, compare=False, metadata={"internal": True})

    def __post_init__(self):
        if not self.report.baseline and self.strategies:
            labels = [s.label for s in self.strategies]
            object.__setattr__(self, "report", dataclasses.replace(self.report, baseline="uniform" if "uniform" in labels else labels[0]))

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
        # the sample record of one run: answer, length, acceptance and score (17 bytes) per sample drawn; a token
        # budget buys about budget / mean length samples (counted as if responses were a quarter of the mean, to be safe)
        top = max(self.budget.per_query) * self.queries.n_queries
        samples = top if self.budget.unit == "samples" else top / max(1.0, self.queries.lengths.mean / 4)
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
