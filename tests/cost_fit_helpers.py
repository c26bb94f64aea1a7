"""A synthetic verl run for the cost fit's round trip: known parameters, simulated times with noise, its metrics log."""
from __future__ import annotations

import json

import numpy as np

from simbench.core.config import build
from simbench.cost.fit import StepSamples, generation_seconds
from simbench.cost.ledger import train_seconds_per_token
from simbench.cost.spec import CostSpec

# the parameters the fit must recover (7B on 8 A100s: the compute bound binds at large batches, memory at small ones)
TRUE = {"rollout.t_fix_ms": 10.0, "hw.bw_eff": 0.55, "hw.mfu_decode": 0.25, "rollout.max_num_seqs": 256,
        "overhead.wave_s": 2.5, "train.mfu": 0.3, "overhead.sync_s": 6.0, "reward.t_verify_ms": 20.0}


def true_spec() -> CostSpec:
    t = TRUE
    return build(CostSpec, {"preset": "qwen2.5-7b-8xa100", "rollout": {"t_fix_ms": t["rollout.t_fix_ms"], "max_num_seqs": t["rollout.max_num_seqs"]},
                            "hw": {"bw_eff": t["hw.bw_eff"], "mfu_decode": t["hw.mfu_decode"]},
                            "overhead": {"wave_s": t["overhead.wave_s"], "sync_s": t["overhead.sync_s"]},
                            "train": {"mfu": t["train.mfu"]}, "reward": {"t_verify_ms": t["reward.t_verify_ms"]}}, "cost")


def synthetic_run(repeats: int = 6, seed: int = 5) -> list[StepSamples]:
    """A factorial design, repeated: 8, 96 or 384 sequences per engine x mean length 150, 600 or 2,500 (max 4,096), 1 or 2 waves.

    Small batches of long sequences pin the memory roofline (``bw_eff``) and ``t_fix``, large batches of short
    ones the compute bound (``mfu_decode``), batches above ``max_num_seqs`` the cap, and the waves ``wave_s``.
    """
    rng = np.random.default_rng(seed)
    out = []
    for r in range(repeats):
        for i, (prompts, mean) in enumerate((p, m) for p in (8, 96, 384) for m in (150.0, 600.0, 2500.0)):
            n = 8
            L = np.clip(np.rint(mean * rng.lognormal(-0.18, 0.6, prompts * n)), 1, 4096).astype(np.int64)
            P = np.repeat(np.clip(np.rint(rng.lognormal(np.log(300), 0.3, prompts)), 16, 1024).astype(np.int64), n)
            out.append(StepSamples(P, L, np.repeat(np.arange(prompts), n), 1 + (i + r) % 2))
    return out


def write_metrics(path, spec: CostSpec, run: list[StepSamples], noise: float = 0.02, seed: int = 9, nested: bool = True) -> None:
    """verl's file-logger lines of ``run`` under ``spec``, every timing times (1 + noise x standard normal)."""
    rng = np.random.default_rng(seed)
    gen = generation_seconds(spec, run)
    per_token = train_seconds_per_token(spec)
    logprob_share = 2.0 / (2.0 + 8.0)  # log-probs 2N of the 10N FLOPs per token (update 6N + checkpointing 2N)
    with open(path, "w") as fh:
        fh.write(json.dumps({"step": 0, "data": {"val-core/acc": 0.3}}) + "\n")  # validation before training: not a step
        for i, s in enumerate(run, start=1):
            jitter = lambda: 1.0 + noise * rng.standard_normal()  # noqa: E731
            tokens = int(s.P.sum() + s.L.sum())
            train = tokens * per_token
            t = {"gen": gen[i - 1] * jitter(), "old_log_prob": train * logprob_share * jitter(),
                 "update_actor": train * (1 - logprob_share) * jitter(),
                 "reward": len(s.L) * spec.reward.t_verify_ms / 1e3 / spec.reward.workers * jitter(), "adv": 0.05}
            t["step"] = sum(t.values()) + spec.overhead.sync_s * jitter()
            data = {**{f"timing_s/{k}": v for k, v in t.items()},
                    "timing_per_token_ms/gen": t["gen"] * 1e3 / s.L.sum(), "perf/total_num_tokens": tokens,
                    "perf/time_per_step": t["step"], "perf/throughput": tokens / (t["step"] * spec.hw.gpus),
                    "response_length/mean": float(s.L.mean()), "response_length/max": float(s.L.max()),
                    "response_length/min": float(s.L.min()), "response_length/clip_ratio": float(np.mean(s.L == 4096)),
                    "prompt_length/mean": float(s.P.mean()), "prompt_length/max": float(s.P.max()),
                    "train/num_gen_batches": s.waves, "critic/score/mean": 0.4}
            fh.write(json.dumps({"step": i, "data": data, "elapsed_seconds": 1.0 * i} if nested else {"step": i, **data}) + "\n")
