"""Golden results of the RL engine: small scenarios covering every role family, and how to (re)make them.

The fixture ``tests/data/engine_golden.parquet`` holds every results column of
every cell below, as the engine produced them before its per-step overhead was
cut; ``tests/test_engine_golden.py`` checks the engine still gives them bit for
bit.  Regenerate (only when a change of results is intended and documented)::

    PYTHONPATH=$PWD python tests/engine_golden.py
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURE = Path(__file__).resolve().parent / "data" / "engine_golden.parquet"
NUMERIC_PACKAGES = ("python", "numpy", "scipy", "numba", "cvxpy", "pandas")

_SMALL = {"train_prompts": 96, "test_prompts": 48}
_ENGINE = {"steps": 6, "batch_prompts": 12}

# Samples budget: every allocator, selector, downsampler and advantage estimator at least once.
ROLES = {
    "name": "golden_roles",
    "seeds": 2,
    "population": {**_SMALL, "pass_rate": {"kind": "beta", "a": 0.349, "b": 0.707}},
    "engine": _ENGINE,
    "strategies": [
        {"allocator": {"kind": "uniform", "n": 8}},
        {"allocator": {"kind": "dapo", "n": 4, "on_exhausted": "train"}},
        {"name": "ada-balanced", "allocator": {"kind": "reinforce_ada", "choice": "balanced"}},
        {"name": "ada-positive", "allocator": {"kind": "reinforce_ada", "choice": "positive_focused"}},
        {"allocator": {"kind": "gvm"}},
        {"allocator": {"kind": "gvm_oracle"}},
        {"name": "ks-dp", "allocator": {"kind": "knapsack", "solver": "dp"}},
        {"name": "ks-greedy", "allocator": {"kind": "knapsack", "solver": "greedy", "posterior": "thompson"}},
        {"name": "ks-cvxpy", "allocator": {"kind": "knapsack", "utility": "knapsack_rl", "solver": "cvxpy", "posterior": "mean"}},
        {"allocator": {"kind": "knapsack_rl", "n": 8}},
        {"allocator": {"kind": "knapsack_oracle"}},
        {"allocator": {"kind": "speed_rl"}},
        {"allocator": {"kind": "successive_elimination"}},
        {"name": "thompson", "selector": "thompson", "allocator": {"kind": "uniform", "n": 4}},
        {"name": "greso", "selector": "greso", "allocator": {"kind": "uniform", "n": 4}},
        {"name": "kimi", "selector": "kimi", "allocator": {"kind": "uniform", "n": 4}},
        {"name": "ucb", "selector": "ucb_learnability", "allocator": {"kind": "uniform", "n": 4}},
        {"name": "difficulty", "selector": "difficulty_filter", "allocator": {"kind": "uniform", "n": 4}},
        {"name": "dump", "selector": "dump", "allocator": {"kind": "uniform", "n": 4}},
        {"name": "pods", "allocator": {"kind": "uniform", "n": 8}, "downsampler": {"kind": "pods", "m": 4}},
        {"name": "drop-first", "allocator": {"kind": "speed_rl"}, "downsampler": "drop_first_wave"},
        {"name": "dr_grpo", "allocator": {"kind": "uniform", "n": 4}, "advantage": "dr_grpo"},
        {"name": "raft", "allocator": {"kind": "uniform", "n": 4}, "advantage": "raft"},
        {"name": "grpo-global", "allocator": {"kind": "uniform", "n": 4},
         "advantage": {"kind": "grpo", "global_stats": True, "norm_adv_by_std": False}},
    ],
}

# Token budget, groups, the format gate, the KL pull and extra gradient dimensions; a total budget ends runs early.
TOKENS = {
    "name": "golden_tokens",
    "seeds": 2,
    "population": {
        **_SMALL,
        "pass_rate": {"kind": "beta_mixture", "weights": [0.85, 0.15], "alphas": [0.5, 2.0], "betas": [9.5, 3.0]},
        "groups": [{"name": "a", "share": 0.7}, {"name": "b", "share": 0.3, "pass_rate": {"kind": "logit_normal", "mu": 0.5}}],
        "lengths": {"mean": 700.0, "difficulty_slope": 1.5, "max": 2048},
    },
    "learner": {"format_fail": 0.3, "lr_format": 0.5, "kl_coef": 0.01, "extra_dims": 8},
    "engine": {"steps": 12, "batch_prompts": 12},
    "budget": {"unit": "tokens", "per_step": 60000.0, "total": 330000.0},
    "strategies": [
        {"allocator": {"kind": "uniform", "n": 8}},
        {"allocator": {"kind": "dapo", "n": 8, "on_exhausted": "train"}},
        {"name": "ks-dp", "allocator": {"kind": "knapsack", "solver": "dp", "quantum": 256.0}},
        {"name": "ada", "allocator": {"kind": "reinforce_ada", "choice": "balanced"}},
        {"allocator": {"kind": "gvm"}},
        {"allocator": {"kind": "knapsack_rl", "n": 8}},
        {"allocator": {"kind": "successive_elimination"}},
    ],
}

SCENARIOS = (ROLES, TOKENS)


def results(scenarios=SCENARIOS, **engine) -> pd.DataFrame:
    """Every cell's rows, one frame (``engine`` overrides keys of each scenario's [engine] table)."""
    from simbench.worlds import parse_scenario
    from simbench.worlds.rl.engine import run_cell

    frames = []
    for data in scenarios:
        sc = parse_scenario({**data, "engine": {**data["engine"], **engine}})
        for s in range(len(sc.strategies)):
            for seed in range(sc.seeds):
                frames.append(pd.DataFrame(run_cell(sc, s, seed)).assign(scenario=sc.name))
    return pd.concat(frames, ignore_index=True)


def arithmetic_fingerprint() -> str:
    """A hash of the numpy/BLAS results the engine's arithmetic rests on (matrix-vector products, exp, log1p, power, sums).

    Another CPU or BLAS build may round a dot product differently; the golden
    comparison is only meaningful where these come out the same bits.
    """
    rng = np.random.default_rng(7)
    x, phi, t = rng.standard_normal((997, 16)), rng.standard_normal(16), rng.standard_normal(997)
    parts = [x @ phi, x[::3] @ phi, np.exp(-t), np.log1p(-np.abs(t) / 4), np.abs(t) ** 8, np.abs(t) ** 32,
             np.array([t.sum(), t.mean()])]
    return hashlib.sha256(b"".join(p.tobytes() for p in parts)).hexdigest()[:16]


def environment() -> dict:
    from simbench.core.store import package_versions

    versions = package_versions()
    return {**{k: versions.get(k) for k in NUMERIC_PACKAGES}, "arithmetic": arithmetic_fingerprint()}


def write_fixture() -> None:
    df = results()
    FIXTURE.parent.mkdir(exist_ok=True)
    df.to_parquet(FIXTURE, index=False, compression="zstd")
    FIXTURE.with_suffix(".json").write_text(json.dumps(environment(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE} ({len(df)} rows x {df.shape[1]} columns)")


if __name__ == "__main__":
    sys.exit(write_fixture())
