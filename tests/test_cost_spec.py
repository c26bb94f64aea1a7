"""The [cost] table: presets, KV arithmetic, and one-line errors for bad keys."""
from __future__ import annotations

import math

import pytest

from simbench.core.config import ConfigError, build, to_dict
from simbench.cost.spec import CostSpec, k_cap, kv_bytes_per_token


def cost(table: dict) -> CostSpec:
    return build(CostSpec, table, "cost")


def test_kv_bytes_per_token_of_the_presets():
    # 2 (K, V) x 28 layers x KV heads x 128 x 2 bytes: 2 KV heads for Qwen2.5-1.5B, 4 for Qwen2.5-7B
    assert kv_bytes_per_token(cost({"preset": "qwen2.5-1.5b-8xh100"})) == 28_672
    assert kv_bytes_per_token(cost({"preset": "qwen2.5-7b-8xa100"})) == 57_344
    assert kv_bytes_per_token(cost({"preset": "qwen2.5-7b-8xa100", "rollout": {"tp": 2}})) == 57_344 / 2


def test_kv_capacity_of_the_1_5b_preset():
    # (0.8 x 80 GB - 3.08 GB of weights - 4 GB of activations) / 28 KiB: about 2.0 M tokens, 650 sequences of 3,072
    cap = k_cap(cost({"preset": "qwen2.5-1.5b-8xh100"}))
    assert cap == math.floor((0.8 * 80e9 - 1.54e9 * 2 - 4e9) / 28_672)
    assert 640 < cap / 3072 < 660


def test_preset_values_and_overrides():
    spec = cost({"preset": "qwen2.5-7b-8xa100", "hw": {"bw_eff": 0.5}, "train": {"mfu": 0.3}})
    assert spec.model.params == 7.62e9 and spec.hw.hbm_tbps == 2.039 and spec.hw.peak_tflops == 312.0
    assert spec.hw.bw_eff == 0.5 and spec.train.mfu == 0.3 and spec.hw.gpus == 8
    assert spec.price_per_gpu_hour is None
    assert cost(to_dict(spec)) == spec  # round trip through TOML values


@pytest.mark.parametrize("table, where, value, allowed", [
    ({"preset": "gpt-5"}, "cost.preset", "gpt-5", "one of ''"),
    ({"model": {"layer": 3}}, "cost.model.layer", 3, "unknown key; allowed keys: bytes_per_elem, head_dim"),
    ({"hw": {"gpus": 0}}, "cost.hw.gpus", 0, "an integer >= 1"),
    ({"hw": {"bw_eff": 1.5}}, "cost.hw.bw_eff", 1.5, "a fraction in (0, 1]"),
    ({"rollout": {"dispatch": "random"}}, "cost.rollout.dispatch", "random", "'chunk', 'per_rollout'"),
    ({"rollout": {"gen_model": "exact"}}, "cost.rollout.gen_model", "exact", "'event', 'simple'"),
    ({"rollout": {"tp": 3}}, "cost.rollout.tp", 3, "a divisor of hw.gpus = 8"),
    ({"rollout": {"prefix_cache": 1}}, "cost.rollout.prefix_cache", 1, "true or false"),
    ({"rollout": {"gpu_mem_util": 0.05}}, "cost.rollout.gpu_mem_util", 0.05, "leaving room for the KV cache"),
    ({"prompt_len": {"mean": 0.5}}, "cost.prompt_len.mean", 0.5, "a number >= 1"),
    ({"train": {"ppo_epochs": 0}}, "cost.train.ppo_epochs", 0, "an integer >= 1"),
    ({"overhead": {"sync_s": -1.0}}, "cost.overhead.sync_s", -1.0, "non-negative"),
    ({"reward": {"workers": 0}}, "cost.reward.workers", 0, "an integer >= 1"),
    ({"price_per_gpu_hour": -2.0}, "cost.price_per_gpu_hour", -2.0, "non-negative"),
    ({"price_per_gpu_hour": "cheap"}, "cost.price_per_gpu_hour", "cheap", "a number"),
    ({"preset": "qwen2.5-7b-8xa100", "hw": {"mem_gb": 16.0}}, "cost.rollout.gpu_mem_util", 0.8, "does not hold the weights"),
])
def test_bad_keys_name_key_value_and_what_is_allowed(table, where, value, allowed):
    with pytest.raises(ConfigError) as info:
        cost(table)
    err = info.value
    assert err.where == where and err.value == value, str(err)
    assert allowed in err.allowed, str(err)
