"""Objectives over group performances u_g: population-weighted mean, group average, worst group, fairness penalty."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simbench.worlds.equitable.numerics import fsum_dot
from simbench.worlds.equitable.spec import ObjectiveSpec

if TYPE_CHECKING:  # cvxpy is imported when first needed: listing the roles must not load the solver
    import cvxpy as cp


def value(u: np.ndarray, shares: np.ndarray, spec: ObjectiveSpec) -> float:
    """The objective of a vector of group performances."""
    u = np.asarray(u, float)
    if spec.kind == "population_mean":
        return fsum_dot(shares, u)
    if spec.kind == "group_average":
        return math.fsum(u.tolist()) / len(u)
    if spec.kind == "worst_group":
        return float(u.min())
    return fsum_dot(shares, u) - spec.penalty * float(u.max() - u.min())


def expression(u: cp.Expression, shares: np.ndarray, spec: ObjectiveSpec) -> cp.Expression:
    """The same objective as a concave cvxpy expression of a concave vector u."""
    import cvxpy as cp
    if spec.kind == "population_mean":
        return shares @ u
    if spec.kind == "group_average":
        return cp.sum(u) / u.shape[0]
    if spec.kind == "worst_group":
        return cp.min(u)
    return shares @ u - spec.penalty * (cp.max(u) - cp.min(u))
