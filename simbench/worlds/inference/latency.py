"""The time one round of generation takes: the one place latency is computed, so that it can be priced in seconds.

A query's samples of one wave run in parallel, so the round lasts as long as its longest sample; adaptive methods
run rounds one after the other, so a query's latency is the sum of its rounds.  Until the cost model's generation-time
module prices a round in seconds, a round's time is the tokens of its longest sample (decode steps).
"""
from __future__ import annotations

import numpy as np

UNIT = "tokens"  # the unit of round_time: decode steps of the longest sample


def round_time(longest: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Time of one round per query, from the length of its longest sample and its number of samples in the round."""
    return np.where(samples > 0, longest, 0).astype(float)
