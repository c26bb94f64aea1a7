"""The equitable world as a ``ScenarioWorld``: collectors spend a budget on samples of K groups."""
from __future__ import annotations

from simbench.core.config import ConfigError, build
from simbench.worlds.base import ScenarioWorld
from simbench.worlds.equitable import report
from simbench.worlds.equitable.engine import run_collection
from simbench.worlds.equitable.spec import EquitableScenario


class EquitableWorld(ScenarioWorld):
    """Data collection across groups with their own costs (Cai et al., FAccT 2022, arXiv 2202.01327)."""

    name = "equitable"
    report_options = report.OPTIONS
    headline = "objective"
    leading_columns = ("allocator", "seed")

    def parse(self, data, source, base_dir):
        try:
            scenario = build(EquitableScenario, data)
        except ConfigError as err:
            raise err.in_file(source) from None
        object.__setattr__(scenario, "base_dir", base_dir)
        return scenario

    def run_unit(self, scenario, strategy_index, seed):
        return run_collection(scenario, strategy_index, seed)

    def describe(self, scenario):
        return {"metric": scenario.learner.metric, "objective": scenario.objective.kind}

    def build_report(self, root, folder, manifest, **options):
        return report.build_report(root, folder, manifest, **options)

    def compare_values(self, root, manifest, metric):
        return report.compare_values(root, manifest, metric)
