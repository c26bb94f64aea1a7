"""The per-step time ledger: where a synchronous RL step's seconds go, from what the engine recorded.

    step_s = sum over waves (wave overhead + generation) + reward + trainer (kept tokens only) + weight sync

The placement is colocated (verl's hybrid engine): every GPU is held for the whole
step, so GPU-hours are ``gpus * step_s / 3600``.  Dollars need a price; without
one ``usd`` is nan (reports print "n/a"): simbench never makes a price up.
"""
from __future__ import annotations

import math

import numpy as np

from simbench.cost.generation import peak_rate, wave_time
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


def step_times(spec: CostSpec, P: np.ndarray, slot: np.ndarray, length: np.ndarray, wave: np.ndarray, keep: np.ndarray) -> dict:
    """The step's columns of ``STEP_COLUMNS`` from its samples.

    Parameters
    ----------
    P : (S,) int64 prompt tokens of each slot.
    slot, length, wave, keep : (T,) each sample's slot, response tokens, wave and whether it trains.
    """
    gen = strag = useful = capacity = 0.0
    pre = 0
    n_waves = 0
    for w in np.unique(wave):
        idx = np.flatnonzero(wave == w)
        prompt = np.unique(slot[idx], return_inverse=True)[1]
        Pw, Lw = P[slot[idx]], length[idx].astype(np.int64)
        T, s, p = wave_time(spec, Pw, Lw, prompt)
        gen += T
        strag += s
        pre += p
        useful += float(Lw.sum())
        capacity += T * peak_rate(spec, Pw, Lw)
        n_waves += 1
    kept_tokens = float(P[slot[keep]].sum() + length[keep].sum(dtype=np.int64))
    row = {
        "gen_s": gen,
        "reward_s": len(slot) * spec.reward.t_verify_ms / 1e3 / spec.reward.workers,
        "train_s": kept_tokens * train_seconds_per_token(spec),
        "overhead_s": n_waves * spec.overhead.wave_s + spec.overhead.sync_s,
    }
    row["step_s"] = row["gen_s"] + row["reward_s"] + row["train_s"] + row["overhead_s"]
    row["straggler_share"] = strag / gen if gen > 0 else math.nan
    row["gen_util"] = useful / capacity if capacity > 0 else math.nan
    row["preemptions"] = pre
    return row


class CostLedger:
    """One run's ledger: per-step times and the cumulative hours, GPU-hours and dollars."""

    def __init__(self, spec: CostSpec, prompt_len: np.ndarray):
        self.spec = spec
        self.prompt_len = np.asarray(prompt_len, np.int64)
        self.hours = 0.0

    def gpu_hours(self, step_s: float = 0.0) -> float:
        """GPU-hours so far, plus ``step_s`` more seconds."""
        return self.spec.hw.gpus * (self.hours + step_s / 3600.0)

    def step(self, prompts: np.ndarray, slot: np.ndarray, length: np.ndarray, wave: np.ndarray, keep: np.ndarray) -> dict:
        """The columns of a step whose slots hold train prompts ``prompts`` (not yet added to the totals)."""
        return step_times(self.spec, self.prompt_len[prompts], slot, length, wave, np.asarray(keep, bool))

    def add(self, row: dict) -> dict:
        """Add a step's ``row`` (from ``step``, or None for step 0) to the totals; return all ``COLUMNS``."""
        if row is None:
            row = {k: 0.0 for k in STEP_COLUMNS}
            row.update(straggler_share=math.nan, gen_util=math.nan, preemptions=0)
        self.hours += row["step_s"] / 3600.0
        price = self.spec.price_per_gpu_hour
        gpu_hours = self.gpu_hours()
        return {**row, "cum_hours": self.hours, "gpu_hours": gpu_hours, "usd": gpu_hours * price if price is not None else math.nan}
