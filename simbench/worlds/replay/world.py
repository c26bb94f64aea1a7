"""Worlds whose outcomes come from a real rollout log: a replay of allocators, and a calibration check of the simulator."""
from __future__ import annotations

import hashlib

import pandas as pd

from simbench.worlds.base import UnitWorld, World
from simbench.worlds.replay import replay_run, validation
from simbench.worlds.replay.replay import LogIndex
from simbench.worlds.rl.results import CORE_COLUMNS


class ReplayRun:
    """A replay as the runner and the store see it: the RL scenario it runs in and the log that serves its outcomes.

    Parameters
    ----------
    scenario : the RL ``Scenario`` of ``replay_scenario`` (strategies, seeds, batch, budget).
    index : the log's samples, grouped.
    log : what was read (``ReadReport.summary()``), recorded in the manifest.
    digest : SHA-256 of the log's canonical table, part of the store's identity of the replay.
    """

    world = "replay"

    def __init__(self, scenario, index: LogIndex, log: str, digest: str):
        self.scenario, self.index, self.log, self.digest = scenario, index, log, digest
        self.name, self.strategies, self.seeds = scenario.name, scenario.strategies, scenario.seeds

    def canonical_hash(self) -> str:
        return hashlib.sha256((self.scenario.canonical_hash() + self.digest).encode()).hexdigest()

    def files(self) -> dict:
        """The log was read once, into ``index``: the store's identity of it is ``digest``, not a file."""
        return {}

    def check_files(self) -> None:
        """Nothing to check: units read the log from ``index``, never from its files."""


def log_digest(table: pd.DataFrame) -> str:
    """SHA-256 of a canonical log table (its columns and every value)."""
    hashes = pd.util.hash_pandas_object(table, index=False).to_numpy()
    return hashlib.sha256(",".join(table.columns).encode() + hashes.tobytes()).hexdigest()


class ReplayWorld(UnitWorld):
    """Allocators served a log's real samples (``simbench replay``): units run and stored like any world's."""

    name = "replay"
    report_options = replay_run.OPTIONS
    headline = "mixed_share"
    leading_columns = tuple(CORE_COLUMNS)

    def run_unit(self, run: ReplayRun, strategy_index, seed):
        return replay_run.replay_unit(run.scenario, run.index, strategy_index, seed)

    def describe(self, run: ReplayRun):
        return {"log": run.log, "notes": []}

    def build_report(self, root, folder, manifest, **options):
        return replay_run.build_report(root, folder, manifest, **options)

    def compare_values(self, root, manifest, metric):
        return replay_run.compare_values(root, manifest, metric)


class ValidationWorld(World):
    """The simulator calibrated on a log and checked against its held-out curves (``simbench validate``)."""

    name = "validation"
    report_options = validation.OPTIONS

    def build_report(self, root, folder, manifest, **options):
        return validation.build_report(root, folder, manifest, **options)

    def compare_values(self, root, manifest, metric):
        return validation.compare_values(root, manifest, metric)
