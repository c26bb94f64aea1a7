"""The yardstick: uniform GRPO on the README's model, written plainly in vectorised numpy, as a user would.

Same model as simbench's engine with ``allocator = uniform``: epoch-shuffled batches,
p_i = sigmoid(b_i + x_i . phi + u_i), 0/1 rewards, log-normal lengths (1.3x longer when
wrong), GRPO advantages, one SGD step with per-group Gaussian score noise, and a metrics
row per step (train and test pass rates, pass@k, group shares).  Different random
streams, so its numbers match the engine's in distribution, not bit for bit.
``benchmarks/bench_engine.py`` times the engine against it.
"""
from __future__ import annotations

import numpy as np


def run(x, b, mean_len, noise, x_test, b_test, steps, batch, n, seed=0, lr_shared=0.01, lr_prompt=4.0,
        ref_len=600.0, sigma=0.4, wrong_factor=1.3, max_len=3072, ks=(1, 8, 32)):
    rng = np.random.default_rng(seed)
    N, d = x.shape
    phi, u = np.zeros(d), np.zeros(N)
    order, pos = rng.permutation(N), 0
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    rows = []
    for step in range(1, steps + 1):
        if pos + batch > N:
            order, pos = rng.permutation(N), 0
        idx = order[pos:pos + batch]
        pos += batch
        p = sig(b[idx] + x[idx] @ phi + u[idx])
        r = (rng.random((batch, n)) < p[:, None]).astype(float)
        m = mean_len[idx, None] * np.where(r == 1, 1.0, wrong_factor)
        length = np.clip(np.round(m * np.exp(sigma * rng.standard_normal((batch, n)) - sigma**2 / 2)), 1, max_len)
        mean, std = r.mean(1, keepdims=True), r.std(1, ddof=1, keepdims=True)
        adv = (r - mean) / (std + 1e-6)
        signal = (adv * (r - p[:, None])).sum(1)
        sd = noise[idx] * np.sqrt((adv**2 * length).sum(1) / ref_len)
        K = batch * n
        phi += lr_shared / K * (signal @ x[idx] + sd @ rng.standard_normal((batch, d)))
        u[idx] += lr_prompt / K * (signal + sd * rng.standard_normal(batch))
        wins = r.sum(1)
        p_test = sig(b_test + x_test @ phi)
        row = {"step": step, "samples": K, "tokens": int(length.sum()),
               "groups_all_pass": int((wins == n).sum()), "groups_all_fail": int((wins == 0).sum()),
               "effective_ratio": float((np.abs(adv) > 1e-12).mean()),
               "train_pass": float(sig(b + x @ phi + u).mean()), "test_pass": float(p_test.mean())}
        row.update({f"test_pass_at_{k}": float((1 - (1 - p_test) ** k).mean()) for k in ks})
        rows.append(row)
    return rows


def from_population(train, test, steps, batch, n, seed=0, **learner):
    """Run on simbench's pools (``simbench.worlds.rl.population.Population``), so both see the same prompts."""
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    with np.errstate(divide="ignore"):
        b, b_test = logit(train.p0), logit(test.p0)
    return run(train.x, b, train.mean_len, train.noise, test.x, b_test, steps, batch, n, seed, **learner)
