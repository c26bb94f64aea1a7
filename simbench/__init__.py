"""simbench: simulate and benchmark rollout-budget allocation for LLM RL post-training."""
from __future__ import annotations

from simbench.core.version import __version__

from simbench.worlds.rl.population import Population, PopulationSpec, LengthSpec, make_population
from simbench.worlds.rl.learner import LearnerSpec, LogisticPolicy
from simbench.worlds.rl.scenario import Scenario, ScenarioError
from simbench.worlds import load_scenario
from simbench.worlds.rl.engine import run_cell
from simbench.worlds.rl.roles import SampleAllocator, PromptSelector, Downsampler, AdvantageEstimator, StepView, RunInfo
from simbench.registry import register, make

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
