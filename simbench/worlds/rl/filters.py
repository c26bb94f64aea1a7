"""Tests on a group's outcomes that more than one role applies (DAPO's allocator and its filter).

DAPO: arXiv 2503.14476; verl recipe/dapo.
"""
from __future__ import annotations

import numpy as np


def informative(count: np.ndarray, pos: np.ndarray, epsilon: float) -> np.ndarray:
    """DAPO's keep test per group: population std > epsilon, or exactly one response."""
    c = np.maximum(count, 1)
    mu = pos / c
    std = np.sqrt(np.maximum(mu * (1.0 - mu), 0.0))  # np.std of 0/1 rewards
    return (count >= 1) & ((std > epsilon) | (count == 1))
