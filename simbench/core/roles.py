"""What every role of every world shares: parameters as a frozen dataclass, ``reset``, ``observe``, a description.

``RunInfo`` is what a role learns once, at the start of a run.  The registry
(``simbench.registry``) builds any role from its ``kind`` and parameters.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class NoParams:
    """Parameters of a role that has none."""


@dataclass
class RunInfo:
    """What every role learns once, at the start of a run.

    Attributes
    ----------
    n_prompts : number of prompts in the train pool.
    group : (n_prompts,) int32 group index of each train prompt.
    group_names : names of the groups.
    batch_prompts : the engine's train batch size (prompts per step).
    budget_unit : ``"samples"`` or ``"tokens"``.
    step_budget : budget per step in ``budget_unit`` (inf when unlimited).
    max_len : the longest possible response, in tokens.
    """

    n_prompts: int
    group: np.ndarray
    group_names: tuple[str, ...]
    batch_prompts: int
    budget_unit: str
    step_budget: float
    max_len: int


class Role:
    """Common machinery of the four roles: params, reset, observe, description."""

    role: ClassVar[str] = ""
    name: ClassVar[str] = ""
    Params: ClassVar[type] = NoParams
    uses_oracle: ClassVar[bool] = False
    needs_grad_norms: ClassVar[bool] = False

    def __init__(self, params: Any = None, **kwargs: Any):
        if params is None:
            params = self.Params(**kwargs)
        elif kwargs:
            params = dataclasses.replace(params, **kwargs)
        if not isinstance(params, self.Params):
            raise TypeError(f"{type(self).__name__} expects {self.Params.__name__}, got {type(params).__name__}")
        check = getattr(params, "check", None)
        if check is not None:
            check()
        self.params = params

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        """Start a run: forget learned state, keep ``rng`` for any randomness."""
        self.info = info
        self.rng = rng

    def observe(self, view: Any, keep: np.ndarray, advantage: np.ndarray) -> None:
        """Learn from a finished step (``keep`` and ``advantage`` are per sample)."""

    def step_metrics(self) -> dict:
        """Extra columns for this step's results row (e.g. GVM's variance ratio)."""
        return {}

    @classmethod
    def describe(cls) -> str:
        """The first line of the class docstring."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"
