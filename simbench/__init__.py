"""simbench: simulate and benchmark rollout-budget allocation for LLM RL post-training.

The public names below are imported on first use (PEP 562), so that ``import simbench``
(e.g. by ``simbench --version``) does not load numba, pandas or the worlds.
"""
from __future__ import annotations

import importlib

from simbench.core.version import __version__

# public name -> the module that defines it
_PUBLIC = {
    "register": "simbench.registry",
    "make": "simbench.registry",
    "load_scenario": "simbench.worlds",
    "run_cell": "simbench.worlds.rl.engine",
    "LearnerSpec": "simbench.worlds.rl.learner",
    "LogisticPolicy": "simbench.worlds.rl.learner",
    "Population": "simbench.worlds.rl.population",
    "PopulationSpec": "simbench.worlds.rl.population",
    "LengthSpec": "simbench.worlds.rl.population",
    "make_population": "simbench.worlds.rl.population",
    "SampleAllocator": "simbench.worlds.rl.roles",
    "PromptSelector": "simbench.worlds.rl.roles",
    "Downsampler": "simbench.worlds.rl.roles",
    "AdvantageEstimator": "simbench.worlds.rl.roles",
    "StepView": "simbench.worlds.rl.roles",
    "RunInfo": "simbench.worlds.rl.roles",
    "Scenario": "simbench.worlds.rl.scenario",
    "ScenarioError": "simbench.worlds.rl.scenario",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'simbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
