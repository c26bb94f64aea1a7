"""The ``[cost]`` table of a scenario: model, hardware, rollout engine, trainer, overheads, price.

Defaults describe a Qwen2.5-Math-1.5B actor on 8 H100s in a colocated, synchronous
verl "hybrid engine" (the setup of Reinforce-Ada, arXiv 2510.04996, Table 3).
Hardware figures are vendor data and the engine figures are placeholders: override
them or fit them to a run's timing log.  ``preset`` fills every key of a named
setup first; keys given next to it override the preset's values.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Literal

from simbench.core.config import ConfigError, require

GB = 1e9  # vendor memory sizes and bandwidths are decimal


@dataclass(frozen=True)
class ModelSpec:
    """The actor: parameters and the attention shape that sets the KV cache (Qwen2.5-1.5B config).

    ``query_heads``: attention (query) heads, needed only for eFLOPs (Qwen2.5-1.5B: 12); unset by default, so that
    scenarios written before it hash as they did.
    """

    params: float = 1.54e9
    layers: int = 28
    kv_heads: int = 2
    head_dim: int = 128
    bytes_per_elem: int = 2
    query_heads: int | None = None

    def check(self) -> None:
        require(self.params >= 1, "params", self.params, "a positive number of parameters")
        for key in ("layers", "kv_heads", "head_dim", "bytes_per_elem"):
            require(getattr(self, key) >= 1, key, getattr(self, key), "an integer >= 1")
        if self.query_heads is not None:
            require(self.query_heads >= 1, "query_heads", self.query_heads, "an integer >= 1")


@dataclass(frozen=True)
class HardwareSpec:
    """GPUs (vendor data, H100 SXM 80GB) and the achieved fractions of bandwidth and compute in decoding."""

    gpus: int = 8
    mem_gb: float = 80.0
    hbm_tbps: float = 3.35
    peak_tflops: float = 989.0
    bw_eff: float = 0.6
    mfu_decode: float = 0.4

    def check(self) -> None:
        require(self.gpus >= 1, "gpus", self.gpus, "an integer >= 1")
        for key in ("mem_gb", "hbm_tbps", "peak_tflops"):
            require(getattr(self, key) > 0, key, getattr(self, key), "a positive number")
        for key in ("bw_eff", "mfu_decode"):
            require(0 < getattr(self, key) <= 1, key, getattr(self, key), "a fraction in (0, 1]")


@dataclass(frozen=True)
class RolloutSpec:
    """The rollout engine (vLLM-like): parallelism, memory, batching, dispatch and the generation model.

    ``act_gb``: memory per GPU held back for activations (not KV cache).
    ``preemption``: true, admit on the current context and preempt the newest sequence
    (recompute) when the KV cache is full, as vLLM does; false, admit only what fits at
    its final length, so that nothing is ever preempted.
    """

    tp: int = 1
    gpu_mem_util: float = 0.8
    act_gb: float = 4.0
    max_num_seqs: int = 256
    t_fix_ms: float = 5.0
    prefix_cache: bool = True
    dispatch: Literal["chunk", "per_rollout"] = "chunk"
    gen_model: Literal["event", "simple"] = "event"
    preemption: bool = True

    def check(self) -> None:
        require(self.tp >= 1, "tp", self.tp, "an integer >= 1")
        require(0 < self.gpu_mem_util <= 1, "gpu_mem_util", self.gpu_mem_util, "a fraction in (0, 1]")
        require(self.act_gb >= 0, "act_gb", self.act_gb, "a non-negative number of GB")
        require(self.max_num_seqs >= 1, "max_num_seqs", self.max_num_seqs, "an integer >= 1")
        require(self.t_fix_ms >= 0, "t_fix_ms", self.t_fix_ms, "a non-negative number of milliseconds")


@dataclass(frozen=True)
class PromptLenSpec:
    """Prompt tokens per train prompt: LogNormal with this mean and log-sd (0: constant), rounded, clipped to [1, max]."""

    mean: float = 200.0
    sigma: float = 0.3
    max: int = 1024

    def check(self) -> None:
        require(self.mean >= 1, "mean", self.mean, "a number >= 1 (tokens)")
        require(self.sigma >= 0, "sigma", self.sigma, "a non-negative number")
        require(1 <= self.max < 2**31, "max", self.max, "an integer in [1, 2147483647]")


@dataclass(frozen=True)
class TrainSpec:
    """The trainer: achieved MFU, PPO epochs, gradient checkpointing, reference-policy pass."""

    mfu: float = 0.35
    ppo_epochs: int = 1
    grad_ckpt: bool = True
    use_ref: bool = False

    def check(self) -> None:
        require(0 < self.mfu <= 1, "mfu", self.mfu, "a fraction in (0, 1]")
        require(self.ppo_epochs >= 1, "ppo_epochs", self.ppo_epochs, "an integer >= 1")


@dataclass(frozen=True)
class OverheadSpec:
    """Fixed seconds per step (weight sync to the rollout engine) and per generate call."""

    sync_s: float = 5.0
    wave_s: float = 2.0

    def check(self) -> None:
        require(self.sync_s >= 0, "sync_s", self.sync_s, "a non-negative number of seconds")
        require(self.wave_s >= 0, "wave_s", self.wave_s, "a non-negative number of seconds")


@dataclass(frozen=True)
class RewardSpec:
    """Reward verification on CPU workers: milliseconds per sample, number of workers."""

    t_verify_ms: float = 5.0
    workers: int = 64

    def check(self) -> None:
        require(self.t_verify_ms >= 0, "t_verify_ms", self.t_verify_ms, "a non-negative number of milliseconds")
        require(self.workers >= 1, "workers", self.workers, "an integer >= 1")


# Every preset as the keys it sets over the defaults (which are the 1.5B one).
PRESETS: dict[str, dict] = {
    "qwen2.5-1.5b-8xh100": {},
    # Reinforce-Ada's 7B setup (Qwen2.5-Math-7B on 8 A100s).  Model: Qwen2.5-7B config (28 layers, 4 KV heads,
    # head_dim 128; 7.62e9 parameters, 15.23 GB in bf16).  Hardware: NVIDIA A100 SXM 80GB vendor data
    # (2.039 TB/s HBM2e, 312 dense bf16 TFLOPS), not measured.
    "qwen2.5-7b-8xa100": {
        "model": {"params": 7.62e9, "layers": 28, "kv_heads": 4, "head_dim": 128, "bytes_per_elem": 2},
        "hw": {"gpus": 8, "mem_gb": 80.0, "hbm_tbps": 2.039, "peak_tflops": 312.0},
    },
}


@dataclass(frozen=True)
class CostSpec:
    """The whole cost model of a scenario (see the module docstring); ``price_per_gpu_hour`` has no default."""

    preset: Literal["", "qwen2.5-1.5b-8xh100", "qwen2.5-7b-8xa100"] = ""
    model: ModelSpec = field(default_factory=ModelSpec)
    hw: HardwareSpec = field(default_factory=HardwareSpec)
    rollout: RolloutSpec = field(default_factory=RolloutSpec)
    prompt_len: PromptLenSpec = field(default_factory=PromptLenSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    overhead: OverheadSpec = field(default_factory=OverheadSpec)
    reward: RewardSpec = field(default_factory=RewardSpec)
    price_per_gpu_hour: float | None = None

    @staticmethod
    def expand_table(data: dict) -> dict:
        """The table with its preset's values filled in under the keys it gives (called by ``config.build``)."""
        name = data.get("preset", "")
        if name == "" or not isinstance(name, str) or name not in PRESETS:
            return data  # no preset, or a bad one that the Literal check reports
        merged = copy.deepcopy(PRESETS[name])
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return merged

    def check(self) -> None:
        require(self.hw.gpus % self.rollout.tp == 0, "rollout.tp", self.rollout.tp,
                f"a divisor of hw.gpus = {self.hw.gpus} (engines = gpus / tp)")
        if self.price_per_gpu_hour is not None:
            require(self.price_per_gpu_hour >= 0, "price_per_gpu_hour", self.price_per_gpu_hour, "a non-negative number of USD")
        require(k_cap(self) >= 1, "rollout.gpu_mem_util", self.rollout.gpu_mem_util,
                f"a fraction leaving room for the KV cache: gpu_mem_util x mem_gb = {self.rollout.gpu_mem_util * self.hw.mem_gb:g} GB "
                f"does not hold the weights ({weight_bytes(self) / self.rollout.tp / GB:.3g} GB per GPU) and act_gb = {self.rollout.act_gb:g}")

    def check_lengths(self, max_response: int, key: str) -> None:
        """One sequence at the longest prompt and response must fit an engine's KV cache (else it could never run)."""
        need = self.prompt_len.max + max_response
        if need > k_cap(self):
            raise ConfigError(key, max_response, f"at most {int(k_cap(self)) - self.prompt_len.max} tokens: a sequence of "
                              f"cost.prompt_len.max + this many tokens must fit one engine's KV cache of {int(k_cap(self))} tokens")

    @property
    def engines(self) -> int:
        """Rollout engines (data-parallel replicas), R = gpus / tp."""
        return self.hw.gpus // self.rollout.tp


def weight_bytes(spec: CostSpec) -> float:
    """Bytes of the actor's weights (all GPUs together)."""
    return spec.model.params * spec.model.bytes_per_elem


def kv_bytes_per_token(spec: CostSpec) -> float:
    """KV-cache bytes one token takes on one GPU: 2 (K and V) x layers x KV heads x head_dim x bytes / tp."""
    m = spec.model
    return 2 * m.layers * m.kv_heads * m.head_dim * m.bytes_per_elem / spec.rollout.tp


def k_cap(spec: CostSpec) -> float:
    """KV-cache capacity of one engine in tokens: (gpu_mem_util x memory - weights / tp - activations) / KV bytes per token.

    Every quantity is per GPU, because each GPU of an engine holds 1/tp of the weights and of every token's KV.
    """
    r = spec.rollout
    free = r.gpu_mem_util * spec.hw.mem_gb * GB - weight_bytes(spec) / r.tp - r.act_gb * GB
    return math.floor(free / kv_bytes_per_token(spec))
