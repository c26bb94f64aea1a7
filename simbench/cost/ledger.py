"""The per-step time ledger: where a synchronous RL step's seconds go, from what the engine recorded.

    step_s = sum over waves (wave overhead + generation) + reward + trainer (kept tokens only) + weight sync

The placement is colocated (verl's hybrid engine): every GPU is held for the whole
step, so GPU-hours are ``gpus * step_s / 3600``.  Dollars need a price; without
one ``usd`` is nan (reports print "n/a"): simbench never makes a price up.
"""
from __future__ import annotations

import math

import numpy as np

from simbench.cost.generation import engine_args, step_kernel
from simbench.cost.spec import CostSpec

STEP_COLUMNS = ("gen_s", "reward_s", "train_s", "overhead_s", "step_s", "straggler_share", "gen_util", "preemptions")
CUMULATIVE_COLUMNS = ("cum_hours", "gpu_hours", "usd")
COLUMNS = STEP_COLUMNS + CUMULATIVE_COLUMNS


def draw_prompt_lengths(spec: CostSpec, size: int, seed: np.random.SeedSequence) -> np.ndarray:
    """(size,) int64 prompt tokens: LogNormal with mean ``prompt_len.mean`` and log-sd ``sigma``, rounded, clipped to [1, max]."""
    pl = spec.prompt_len
    mu = math.log(pl.mean) - pl.sigma ** 2 / 2  # so that the mean before rounding is prompt_len.mean
    x = np.exp(mu + pl.sigma * np.random.default_rng(seed).standard_normal(size))
    return np.clip(np.rint(x), 1, pl.max).astype(np.int64)


def train_seconds_per_token(spec: CostSpec) -> float:
    """Trainer seconds per kept token: old-policy log-probs, the optional reference pass and the update.

    Forward 2N FLOPs a token, backward 4N, one more forward with gradient checkpointing; the
    padding-free packing of verl (``use_remove_padding``) wastes nothing.
    """
    t = spec.train
    flops = 2.0 * (1 + t.use_ref) + t.ppo_epochs * (6.0 + 2.0 * t.grad_ckpt)
    return flops * spec.model.params / (spec.hw.gpus * t.mfu * spec.hw.peak_tflops * 1e12)


def step_constants(spec: CostSpec) -> tuple:
    """What ``step_times`` reads of ``spec``, once per run: (engine_args, verify ms, reward workers, trainer seconds per
    kept token, overhead seconds per wave, per step)."""
    return (engine_args(spec), spec.reward.t_verify_ms, spec.reward.workers, train_seconds_per_token(spec),
            spec.overhead.wave_s, spec.overhead.sync_s)


def step_times(spec: CostSpec, P: np.ndarray, slot: np.ndarray, length: np.ndarray, wave: np.ndarray, keep: np.ndarray,
               constants: tuple | None = None) -> dict:
    """The step's columns of ``STEP_COLUMNS`` from its samples.

    Parameters
    ----------
    P : (S,) int64 prompt tokens of each slot.
    slot, length, wave, keep : (T,) each sample's slot, response tokens, wave (non-decreasing) and whether it trains.
    constants : ``step_constants(spec)``, if already computed.
    """
    engine, verify_ms, workers, per_token, wave_s, sync_s = step_constants(spec) if constants is None else constants
    gen, strag, pre, useful, capacity, waves, kept = step_kernel(P, slot, length, wave, np.asarray(keep, np.bool_), *engine)
    reward = len(slot) * verify_ms / 1e3 / workers
    train = kept * per_token
    overhead = waves * wave_s + sync_s
    return {"gen_s": gen, "reward_s": reward, "train_s": train, "overhead_s": overhead, "step_s": gen + reward + train + overhead,
            "straggler_share": strag / gen if gen > 0 else math.nan, "gen_util": useful / capacity if capacity > 0 else math.nan,
            "preemptions": int(pre)}


class CostLedger:
    """One run's ledger: per-step times and the cumulative hours, GPU-hours and dollars."""

    def __init__(self, spec: CostSpec, prompt_len: np.ndarray):
        self.spec = spec
        self.prompt_len = np.asarray(prompt_len, np.int64)
        self.constants = step_constants(spec)
        self.hours = 0.0

    def gpu_hours(self, step_s: float = 0.0) -> float:
        """GPU-hours so far, plus ``step_s`` more seconds."""
        return self.spec.hw.gpus * (self.hours + step_s / 3600.0)

    def step(self, prompts: np.ndarray, slot: np.ndarray, length: np.ndarray, wave: np.ndarray, keep: np.ndarray) -> dict:
        """The columns of a step whose slots hold train prompts ``prompts`` (not yet added to the totals)."""
        return step_times(self.spec, self.prompt_len[prompts], slot, length, wave, keep, self.constants)

    def add(self, row: dict) -> dict:
        """Add a step's ``row`` (from ``step``, or None for step 0) to the totals; return all ``COLUMNS``."""
        if row is None:
            row = {k: 0.0 for k in STEP_COLUMNS}
            row.update(straggler_share=math.nan, gen_util=math.nan, preemptions=0)
        self.hours += row["step_s"] / 3600.0
        price = self.spec.price_per_gpu_hour
        gpu_hours = self.gpu_hours()
        return {**row, "cum_hours": self.hours, "gpu_hours": gpu_hours, "usd": gpu_hours * price if price is not None else math.nan}
