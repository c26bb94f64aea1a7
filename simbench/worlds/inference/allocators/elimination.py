"""Elimination across queries: bandit pure exploration (Zuo & Zhu, ICLR 2026, arXiv 2506.12721).

Every round gives ``k`` new samples to every query still active; a query leaves the active set once solved: a sample
accepted by the verifier (``gamma``: a score >= gamma), or, with ``aggregation = "sc"`` (no verifier), once the top
answer's share of its samples reaches ``agreement`` over at least ``min_votes`` samples.  Solving every query with
per-query success probability Delta_x takes ``Theta~(sum_x 1 / Delta_x)`` samples, against
``Omega~(|S| max_x 1 / Delta_x)`` for uniform sampling (``Delta_i = i / n``: ~n against ~n^2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.inference.roles import InferenceAllocator, View, fit


@dataclass(frozen=True)
class EliminationParams:
    """``k``: samples per active query per round (the paper: finer is better); ``aggregation``: ``verifier`` or ``sc``;
    ``gamma``: score threshold of a solved query (none: the verifier's acceptance); ``agreement``, ``min_votes``: the
    ``sc`` rule [simbench defaults]."""

    k: int = 1
    aggregation: Literal["verifier", "sc"] = "verifier"
    gamma: float | None = None
    agreement: float = 0.8
    min_votes: int = 3

    def check(self) -> None:
        require(self.k >= 1, "k", self.k, "an integer >= 1")
        require(0 < self.agreement <= 1, "agreement", self.agreement, "a share in (0, 1]")
        require(self.min_votes >= 1, "min_votes", self.min_votes, "an integer >= 1")


@register
class Elimination(InferenceAllocator):
    """Elimination: k samples per round to every unsolved query, until the budget is spent or all are solved."""

    name = "elimination"
    Params = EliminationParams
    default_picker = "resample_until_pass"

    def allocate(self, view: View) -> np.ndarray:
        P = self.params
        if P.aggregation == "sc":
            v1, _, _ = view.votes()
            solved = (view.n >= P.min_votes) & (v1 >= P.agreement * np.maximum(view.n, 1))
        else:
            solved = view.solved(P.gamma)
        return fit(np.where(solved, 0, P.k), view)
