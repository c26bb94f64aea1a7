"""A toy world for tests: each strategy flips a coin of its own bias; a row per flip with the running count of heads.

It is one module plus one entry in ``simbench.worlds.WORLDS``, as the README says a new world is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from simbench.core.config import require
from simbench.core.report import Table, final_values
from simbench.core.scenario import Seeded, check_name
from simbench.core.stats import REAL, mean_ci
from simbench.core.store import load
from simbench.worlds.base import ScenarioWorld


@dataclass(frozen=True)
class CoinStrategy:
    p: float = 0.5
    name: str = ""

    def check(self) -> None:
        require(0 <= self.p <= 1, "p", self.p, "a probability in [0, 1]")

    @property
    def label(self) -> str:
        return self.name or f"p={self.p:g}"


@dataclass(frozen=True)
class CoinScenario(Seeded):
    name: str
    strategies: tuple[CoinStrategy, ...]
    description: str = ""
    seed: int = 0
    seeds: int = 3
    flips: int = 20
    base_dir: str = field(default=".", compare=False, metadata={"internal": True})
    world: ClassVar[str] = "coins"

    def check(self) -> None:
        check_name(self.name)
        require(self.flips >= 1, "flips", self.flips, "an integer >= 1")


class CoinWorld(ScenarioWorld):
    """Coins of given biases, flipped ``flips`` times per seed."""

    name = "coins"
    headline = "heads"
    leading_columns = ("allocator", "seed", "flip")

    def parse(self, data, source, base_dir):
        from simbench.core.config import ConfigError, build

        try:
            return build(CoinScenario, data)
        except ConfigError as err:
            raise err.in_file(source) from None

    def run_unit(self, scenario, strategy_index, seed):
        strat = scenario.strategies[strategy_index]
        heads = np.cumsum(np.random.default_rng(scenario.cell_seed(seed)).random(scenario.flips) < strat.p)
        return [{"seed": seed, "heads": int(h), "flip": i + 1, "allocator": strat.label} for i, h in enumerate(heads)]

    def describe(self, scenario):
        return {"flips": scenario.flips}

    def build_report(self, root, folder, manifest, **options):
        df = load(root)
        finals = df.loc[df.groupby(["allocator", "seed"], sort=False)["flip"].idxmax()]
        summary = pd.DataFrame([{"allocator": a, "seeds": len(g), "heads": mean_ci(g["heads"])[0]}
                                for a, g in finals.groupby("allocator", sort=False)])
        return [f"{manifest['flips']} flips per seed.", Table("Heads after the last flip", summary)], summary

    def compare_values(self, root, manifest, metric):
        return final_values(root, manifest, metric or "heads", "flip", REAL)
