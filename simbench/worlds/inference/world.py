"""The inference world as a ``ScenarioWorld``: strategies (allocator x picker) spend a budget of samples or tokens on queries."""
from __future__ import annotations

from simbench.core.config import ConfigError, build
from simbench.core.scenario import pin_files
from simbench.worlds.base import ScenarioWorld
from simbench.worlds.inference import report
from simbench.worlds.inference.engine import run
from simbench.worlds.inference.metrics import metrics
from simbench.worlds.inference.roles import build_strategy
from simbench.worlds.inference.spec import InferenceScenario, check_table
from simbench.worlds.inference.tape import make_queries


def run_unit(scenario: InferenceScenario, strategy_index: int, seed_index: int) -> list[dict]:
    """Rows of one strategy on one seed: one per budget level, every level on the same queries and tapes."""
    strat = scenario.strategies[strategy_index]
    queries = make_queries(scenario, scenario.cell_seed(seed_index))
    rows = []
    for level in scenario.budget.per_query:
        allocator, picker = build_strategy(strat, f"strategies[{strategy_index}]")
        out = run(queries, scenario, allocator, picker, level * len(queries))
        rows.append({"allocator": strat.label, "seed": seed_index, "budget": float(level), "budget_unit": scenario.budget.unit,
                     **metrics(out, queries, scenario.metrics.k)})
    return rows


class InferenceWorld(ScenarioWorld):
    """Test-time compute allocation: repeated sampling, voting, verifiers and adaptive stopping over queries."""

    name = "inference"
    report_options = report.OPTIONS
    headline = "accuracy"
    leading_columns = ("allocator", "seed", "budget")

    def parse(self, data, source, base_dir):
        try:
            scenario = build(InferenceScenario, data)
        except ConfigError as err:
            raise err.in_file(source) from None
        object.__setattr__(scenario, "base_dir", base_dir)
        check_table(scenario, source)
        pin_files(scenario)
        return scenario

    def run_unit(self, scenario, strategy_index, seed):
        return run_unit(scenario, strategy_index, seed)

    def describe(self, scenario):
        return {"baseline": scenario.report.baseline, "unit": scenario.budget.unit}

    def build_report(self, root, folder, manifest, **options):
        return report.build_report(root, folder, manifest, **options)

    def compare_values(self, root, manifest, metric):
        return report.compare_values(root, manifest, metric)
