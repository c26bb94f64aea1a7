"""Published claims as properties of the cost model (directional: the sign and rough size, not the exact figures).

B3 PODS (arXiv 2504.13818): training on m of n rollouts costs less trainer time per generated token.
B5 DAPO (arXiv 2503.14476, section 3.2): three times the generation batch costs less than three times the time
   while the longest response dominates, and about three times once the engines' capacity binds.
B6 Seer (arXiv 2511.14617): with long-CoT lengths the last 10% of sequences take a large share of the rollout.
B8 Knapsack-RL (arXiv 2509.25849): dealing rollouts one by one (rollout balancing) straggles less than chunks.
Also: the closed-form ``simple`` model against ``event`` on the quickstart population.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from simbench.core.config import build
from simbench.cost.generation import wave_time
from simbench.cost.ledger import draw_prompt_lengths
from simbench.cost.spec import CostSpec
from simbench.worlds import parse_scenario
from simbench.worlds.rl.engine import run_cell

REPO = Path(__file__).resolve().parent.parent
PRESETS = ("qwen2.5-1.5b-8xh100", "qwen2.5-7b-8xa100")


def quickstart(steps: int, strategies=None, cost=None) -> object:
    data = tomllib.loads((REPO / "scenarios" / "quickstart.toml").read_text())
    data["engine"]["steps"] = steps
    data["cost"] = cost or {}
    if strategies is not None:
        data["strategies"], data["report"] = strategies, {}
    return parse_scenario(data, "quickstart.toml")


def wave(spec: CostSpec, prompts: int, n: int, mean: float, sigma: float, max_len: int, seed: int = 1):
    """(P, L, prompt) of a wave of ``prompts`` x ``n`` responses: per-prompt means LogNormal(0.3) as simbench's population."""
    rng = np.random.default_rng(seed)
    prompt_mean = mean * np.exp(0.3 * rng.standard_normal(prompts) - 0.045)
    mu = np.log(np.repeat(prompt_mean, n)) - sigma**2 / 2
    L = np.clip(np.rint(np.exp(mu + sigma * rng.standard_normal(prompts * n))), 1, max_len).astype(np.int64)
    P = np.repeat(draw_prompt_lengths(spec, prompts, np.random.SeedSequence(seed)), n)
    return P, L, np.repeat(np.arange(prompts), n)


def test_b3_pods_trains_less_per_generated_token():
    sc = quickstart(10, [{"name": "grpo-n4", "allocator": {"kind": "uniform", "n": 4}},
                         {"name": "pods-16-4", "allocator": {"kind": "uniform", "n": 16}, "downsampler": {"kind": "pods", "m": 4}}])
    per_token = []
    for i in range(2):
        rows = run_cell(sc, i, 0)[1:]
        per_token.append(sum(r["train_s"] for r in rows) / sum(r["tokens"] for r in rows))
    print(f"B3 train_s per generated token, PODS(16->4) / GRPO(n=4): {per_token[1] / per_token[0]:.3f}")
    assert per_token[1] < per_token[0]


@pytest.mark.parametrize("preset", PRESETS)
def test_b5_dapo_extra_batches_are_cheap_only_while_capacity_is_ample(preset):
    B, n = 32, 16  # 3Bn = 1,536 sequences: 192 per engine

    def ratio(max_num_seqs: int, dispatch: str = "chunk") -> float:
        spec = build(CostSpec, {"preset": preset, "rollout": {"max_num_seqs": max_num_seqs, "dispatch": dispatch}}, "cost")
        P, L, prompt = wave(spec, 3 * B, n, 3000.0, 0.8, 20480)
        one = slice(0, B * n)
        return wave_time(spec, P, L, prompt)[0] / wave_time(spec, P[one], L[one], prompt[one])[0], L.sum() / L[one].sum()

    ample, _ = ratio(256)  # max_num_seqs x engines = 2,048 >= 3Bn: every sequence runs at once
    ratios = [ratio(s)[0] for s in (256, 64, 16, 4)]
    bound, tokens = ratio(4, "per_rollout")  # capacity binds and the engines are balanced: time follows tokens
    print(f"B5 {preset}: T(3B)/T(B) = {ample:.2f} with ample capacity, {[round(r, 2) for r in ratios]} as max_num_seqs falls 256->4, "
          f"{bound:.2f} balanced at 4 (tokens ratio {tokens:.2f})")
    assert ample < 1.5
    assert all(x < y for x, y in zip(ratios, ratios[1:]))
    assert bound == pytest.approx(tokens, rel=0.05) and 2.7 < tokens < 3.3


@pytest.mark.parametrize("preset", PRESETS)
def test_b6_long_cot_lengths_straggle(preset):
    spec = build(CostSpec, {"preset": preset}, "cost")
    share = {}
    for name, (mean, sigma, max_len) in {"long": (4000.0, 1.0, 65536), "short": (600.0, 0.4, 3072)}.items():
        T, straggle, _ = wave_time(spec, *wave(spec, 512, 16, mean, sigma, max_len))  # Seer's scale: 400-800 prompts x 8-16
        share[name] = straggle / T
    print(f"B6 {preset}: straggler share {share['long']:.2f} (sigma 1, max 64K) vs {share['short']:.2f} (sigma 0.4, max 3K)")
    assert share["long"] > 0.3
    assert share["short"] < share["long"]


def test_b8_rollout_balancing_straggles_less_than_chunks():
    # Knapsack-RL with 32 rollouts per prompt on average concentrates up to a hundred on the hardest prompts
    out = {}
    for dispatch in ("chunk", "per_rollout"):
        sc = quickstart(20, [{"allocator": {"kind": "knapsack_rl", "n": 32}}], {"rollout": {"dispatch": dispatch}})
        rows = run_cell(sc, 0, 0)[10:]  # the second epoch: allocations from observed pass rates
        out[dispatch] = (np.mean([r["straggler_share"] for r in rows]), sum(r["gen_s"] for r in rows))
    print(f"B8 straggler share chunk {out['chunk'][0]:.3f} vs per_rollout {out['per_rollout'][0]:.3f}; "
          f"generation {out['chunk'][1]:.0f} s vs {out['per_rollout'][1]:.0f} s")
    assert out["chunk"][0] > out["per_rollout"][0]
    assert out["chunk"][1] > out["per_rollout"][1]


def test_simple_model_within_15_percent_of_event_on_the_quickstart():
    gen = {}
    for model in ("event", "simple"):
        sc = quickstart(30, cost={"rollout": {"gen_model": model}})
        gen[model] = {s.label: np.array([r["gen_s"] for r in run_cell(sc, i, 0)[1:]]) for i, s in enumerate(sc.strategies)}
    worst = {k: float(np.max(np.abs(gen["simple"][k] / gen["event"][k] - 1))) for k in gen["event"]}
    total = {k: float(gen["simple"][k].sum() / gen["event"][k].sum() - 1) for k in gen["event"]}
    print("simple vs event, per-step worst |error| and total error by strategy:",
          {k: (round(worst[k], 3), round(total[k], 3)) for k in worst})
    assert max(worst.values()) <= 0.15
