"""The interface every world implements, so that run, sweep, report, compare and the store treat all worlds alike.

A world is where a strategy's outcomes come from: the simulated RL post-training
loop (``rl``), the equitable data-collection world (``equitable``), a real
rollout log (``replay``) or a log's calibration check (``validation``).
"""
from __future__ import annotations

import abc
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # annotations only: listing the worlds must not load pandas
    import pandas as pd


class World(abc.ABC):
    """Base class of a world: how its results are reported and compared.

    Attributes
    ----------
    name : the world's key, recorded as ``world`` in every manifest it writes.
    report_options : the options of ``simbench report`` its reports take (e.g. ``baseline``, ``thin``).
    """

    name: ClassVar[str] = ""
    report_options: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def build_report(self, root: Path, folder: Path, manifest: dict, **options: Any) -> tuple[list, pd.DataFrame | None]:
        """Summarise the results in ``root`` and return the report's sections.

        Parameters
        ----------
        root : the output directory (its store, results and manifest).
        folder : ``root/report``, where figures are saved.
        manifest : the manifest ``root`` holds.
        **options : values of ``report_options`` (None: the manifest's or the default).

        Returns
        -------
        (blocks, summary) : text paragraphs, ``Figure`` and ``Table`` blocks; the summary table, or None.
        """

    @abc.abstractmethod
    def compare_values(self, root: Path, manifest: dict, metric: str | None) -> tuple[pd.DataFrame, str, tuple[float, float]]:
        """One value per key and seed for ``simbench compare``.

        Returns
        -------
        (values, label, support) : a table of key columns, ``seed`` and ``value``; what the value is; its range.
        """


class UnitWorld(World):
    """A world whose results are units (strategy x seed) that the runner runs and the store keeps.

    Attributes
    ----------
    headline : the summary column whose best value ``run`` and ``sweep`` print.
    leading_columns : the columns that come first in ``results.parquet``, in this order (those a unit's rows have).
    """

    headline: ClassVar[str] = ""
    leading_columns: ClassVar[tuple[str, ...]] = ()

    def units(self, scenario, seeds: int | None = None) -> list[tuple[int, int]]:
        """(strategy index, seed index) of every unit of one cell, strategy-major."""
        n = scenario.seeds if seeds is None else seeds
        return [(s, k) for s in range(len(scenario.strategies)) for k in range(n)]

    @abc.abstractmethod
    def run_unit(self, scenario, strategy_index: int, seed: int) -> list[dict]:
        """The result rows of one strategy on one seed."""

    @abc.abstractmethod
    def describe(self, scenario) -> dict:
        """What the manifest records beyond the world's name, so that ``report`` and ``compare`` read the store right."""


class ScenarioWorld(UnitWorld):
    """A world run from scenario files: ``simbench run`` and ``sweep`` parse its scenarios, then run and store its units."""

    @abc.abstractmethod
    def parse(self, data: dict, source: str, base_dir: str):
        """Build and check the world's scenario from a parsed TOML table (without its ``world`` key).

        Errors are ``ConfigError`` attributed to ``source``; files are read against ``base_dir``.
        """
