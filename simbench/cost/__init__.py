"""The cost model: wall-clock seconds, GPU-hours and dollars of a training run's steps.

``spec``: the ``[cost]`` table; ``generation``: batched-decoding time of one wave;
``ledger``: the per-step time split and cumulative totals.  It knows nothing of any
world: a world hands it each step's samples (slots, lengths, waves, what was kept).
"""
