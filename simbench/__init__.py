"""simbench: simulate and benchmark rollout-budget allocation for LLM RL post-training."""
from __future__ import annotations

from simbench.core.version import __version__
from simbench.registry import make, register
from simbench.worlds import load_scenario
from simbench.worlds.rl.engine import run_cell
from simbench.worlds.rl.learner import LearnerSpec, LogisticPolicy
from simbench.worlds.rl.population import LengthSpec, Population, PopulationSpec, make_population
from simbench.worlds.rl.roles import AdvantageEstimator, Downsampler, PromptSelector, RunInfo, SampleAllocator, StepView
from simbench.worlds.rl.scenario import Scenario, ScenarioError

__all__ = [
    "__version__",
    "Population",
    "PopulationSpec",
    "LengthSpec",
    "make_population",
    "LearnerSpec",
    "LogisticPolicy",
    "Scenario",
    "load_scenario",
    "ScenarioError",
    "run_cell",
    "SampleAllocator",
    "PromptSelector",
    "Downsampler",
    "AdvantageEstimator",
    "StepView",
    "RunInfo",
    "register",
    "make",
]
