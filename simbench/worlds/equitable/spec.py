"""Scenario of the equitable world: groups, genetics, learner, budget, objective, collectors."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from simbench.core.config import require, require_memory
from simbench.core.scenario import Seeded, check_name


@dataclass(frozen=True)
class PopulationGroup:
    """A population group: share of the population, cost per sample, heritability, divergence F_ST."""

    name: str
    share: float
    cost: float = 1.0
    h2: float = 0.5
    fst: float = 0.1

    def check(self) -> None:
        require(self.share > 0, "share", self.share, "a positive number")
        require(self.cost > 0, "cost", self.cost, "a positive number")
        require(0 < self.h2 < 1, "h2", self.h2, "a number in (0, 1)")
        require(0 < self.fst < 1, "fst", self.fst, "a number in (0, 1)")


@dataclass(frozen=True)
class GeneticsSpec:
    """SNPs, causal SNPs, genetic correlation of effects across groups, outcome type."""

    snps: int = 2000
    causal: int = 200
    rho: float = 0.8
    outcome: Literal["continuous", "binary"] = "continuous"
    prevalence: float = 0.1
    test_size: int = 2000

    def check(self) -> None:
        require(self.snps >= 2, "snps", self.snps, "an integer >= 2")
        require(1 <= self.causal <= self.snps, "causal", self.causal, "an integer in [1, snps]")
        require(-1 < self.rho <= 1, "rho", self.rho, "a number in (-1, 1]")
        require(0 < self.prevalence < 1, "prevalence", self.prevalence, "a number in (0, 1)")
        require(self.test_size >= 50, "test_size", self.test_size, "an integer >= 50")


@dataclass(frozen=True)
class PRSSpec:
    """The PRS learner: ridge (lam) or marginal effects (GWAS); ``group_aware``: per-group ridge shrunk to the pooled fit."""

    kind: Literal["ridge", "marginal"] = "ridge"
    lam: float = 2000.0
    group_aware: bool = False
    validation_share: float = 0.2
    metric: Literal["r2", "corr", "auc"] = "r2"

    def check(self) -> None:
        require(self.lam > 0, "lam", self.lam, "a positive number")
        require(0 < self.validation_share < 0.5, "validation_share", self.validation_share, "a number in (0, 0.5)")


@dataclass(frozen=True)
class ObjectiveSpec:
    """What to maximise over group performances: population-weighted mean, group average, worst group, or
    the population-weighted mean minus ``penalty`` x (best - worst)."""

    kind: Literal["population_mean", "group_average", "worst_group", "fairness_penalty"] = "group_average"
    penalty: float = 1.0

    def check(self) -> None:
        require(self.penalty >= 0, "penalty", self.penalty, "a non-negative number")


@dataclass(frozen=True)
class CollectionBudget:
    """Total budget in cost units, and samples per collection batch."""

    total: float = 20000.0
    batch: int = 500

    def check(self) -> None:
        require(self.total > 0, "total", self.total, "a positive number")
        require(self.batch >= 1, "batch", self.batch, "an integer >= 1")


@dataclass(frozen=True)
class CollectorStrategy:
    """One collector to compare: ``collector = {kind = ..., params}`` and an optional label."""

    collector: dict[str, Any] | str
    name: str = ""

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return self.collector if isinstance(self.collector, str) else str(self.collector.get("kind", "?"))


@dataclass(frozen=True)
class EquitableScenario(Seeded):
    """A comparison of data-collection strategies across groups."""

    name: str
    groups: tuple[PopulationGroup, ...]
    strategies: tuple[CollectorStrategy, ...]
    world: Literal["equitable"] = "equitable"
    description: str = ""
    seed: int = 0
    seeds: int = 6
    genetics: GeneticsSpec = field(default_factory=GeneticsSpec)
    learner: PRSSpec = field(default_factory=PRSSpec)
    objective: ObjectiveSpec = field(default_factory=ObjectiveSpec)
    budget: CollectionBudget = field(default_factory=CollectionBudget)
    base_dir: str = field(default=".", compare=False, metadata={"internal": True})

    def check(self) -> None:
        from simbench import registry

        check_name(self.name)
        require(len(self.groups) >= 2, "groups", len(self.groups), "at least two groups")
        names = [g.name for g in self.groups]
        require(len(set(names)) == len(names), "groups", names, "distinct group names")
        require(self.seeds >= 1, "seeds", self.seeds, "an integer >= 1")
        labels = [s.label for s in self.strategies]
        require(len(set(labels)) == len(labels), "strategies", labels, "distinct strategy names")
        require(len(self.strategies) >= 1, "strategies", self.strategies, "at least one [[strategies]] table")
        for i, s in enumerate(self.strategies):
            registry.make("collector", s.collector, f"strategies[{i}].collector")
        # per group, the learner keeps two snps x snps matrices (G^T G and X^T X) and the test genotypes
        K, M, T = len(self.groups), self.genetics.snps, self.genetics.test_size
        gram, test = 16.0 * K * M * M, 8.0 * K * T * M
        key, value = ("genetics.snps", M) if gram >= test else ("genetics.test_size", T)
        require_memory(gram + test, key, value, f"the learner's statistics ({K} groups x {M} SNPs, {T} test samples each)")

    @property
    def shares(self) -> np.ndarray:
        s = np.array([g.share for g in self.groups])
        return s / s.sum()

    @property
    def costs(self) -> np.ndarray:
        return np.array([g.cost for g in self.groups])
