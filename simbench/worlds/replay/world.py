"""Worlds whose outcomes come from a real rollout log: a replay of allocators, and a calibration check of the simulator."""
from __future__ import annotations

from simbench.worlds.base import World
from simbench.worlds.replay import replay_run, validation


class ReplayWorld(World):
    """Allocators served a log's real samples (``simbench replay``)."""

    name = "replay"
    report_options = replay_run.OPTIONS

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
