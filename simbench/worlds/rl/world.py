"""The RL world: a simulated post-training loop where strategies of four roles spend a rollout budget."""
from __future__ import annotations

from simbench.worlds.base import ScenarioWorld
from simbench.worlds.rl import report
from simbench.worlds.rl.engine import run_cell
from simbench.worlds.rl.results import CORE_COLUMNS
from simbench.worlds.rl.scenario import parse_rl_scenario


class RLWorld(ScenarioWorld):
    """Prompts of hidden pass rates, a learner, and strategies (selector, allocator, downsampler, advantage)."""

    name = "rl"
    report_options = report.OPTIONS
    headline = "final_test_pass"
    leading_columns = tuple(CORE_COLUMNS)

    def parse(self, data, source, base_dir):
        return parse_rl_scenario(data, source, base_dir)

    def run_unit(self, scenario, strategy_index, seed):
        return run_cell(scenario, strategy_index, seed)

    def describe(self, scenario):
        return {"baseline": scenario.report.baseline, "target_test_pass": scenario.report.target_test_pass}

    def build_report(self, root, folder, manifest, **options):
        return report.build_report(root, folder, manifest, **options)

    def compare_values(self, root, manifest, metric):
        return report.compare_values(root, manifest, metric)
