"""simbench: simulate and benchmark rollout-budget allocation for LLM RL post-training."""
from __future__ import annotations

__version__ = "0.1.0"

from simbench.population import Population, PopulationSpec, LengthSpec, make_population
from simbench.learner import LearnerSpec, LogisticPolicy
from simbench.scenario import Scenario, load_scenario, ScenarioError
from simbench.engine import run_cell
from simbench.roles import SampleAllocator, PromptSelector, Downsampler, AdvantageEstimator, StepView, RunInfo
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
