"""GVM: gradient-variance-minimising allocation (arXiv 2505.02391; RLHFlow/GVM).

Stage 1 (wave 0) draws N' responses per prompt to estimate its acceptance rate
p_i and gradient norm G_i (mean score norm over its *correct* stage-1 samples,
0 if none).  Stage 2 (wave 1) allocates the budget N = budget_per_prompt x M
with weights w_i = G_i / sqrt(p_i + alpha / p_i^(beta - 1)) (0 if G_i or p_i is
0), the reference's two filters, and sum-preserving largest-remainder rounding.
Stage-1 samples count in the budget and are discarded (``drop_first_wave``),
as in the reference's GRPO path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.allocators._budget import fit_whole_groups
from simbench.worlds.rl.roles import SampleAllocator, StepView


@dataclass(frozen=True)
class GVMParams:
    """Reference defaults: N' = 8, alpha = 1e-3, beta = 2, filters off, N = 8 per prompt.

    ``form``: ``penalised`` (the reference's formula) or ``neyman`` (n_i ∝ G_i / sqrt(p_i)).
    ``raft_reuse_stage1``: the reference's RAFT path: n_i - N' new samples, the stage-1
    samples reused, at most ``raft_cap`` per prompt (use with ``advantage = "raft"``).
    """

    stage1: int = 8
    alpha: float = 1e-3
    beta: float = 2.0
    budget_per_prompt: float = 8.0
    filter_threshold: float = 0.0
    filter_insufficient: float = 0.0
    form: Literal["penalised", "neyman"] = "penalised"
    raft_reuse_stage1: bool = False
    raft_cap: int = 24

    def check(self) -> None:
        require(self.stage1 >= 1, "stage1", self.stage1, "an integer >= 1")
        require(self.alpha >= 0, "alpha", self.alpha, "a non-negative number")
        require(self.budget_per_prompt >= 0, "budget_per_prompt", self.budget_per_prompt, "a non-negative number")
        require(self.filter_threshold >= 0, "filter_threshold", self.filter_threshold, "a non-negative number (0: off)")
        require(self.filter_insufficient >= 0, "filter_insufficient", self.filter_insufficient, "a non-negative number (0: off)")
        require(self.raft_cap >= 1, "raft_cap", self.raft_cap, "an integer >= 1")


def gvm_ratios(p: np.ndarray, G: np.ndarray, N: float, params: GVMParams) -> tuple[np.ndarray, bool]:
    """Allocation ratios (summing to 1) and whether every weight was 0 (then uniform, a defined fallback)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if params.form == "neyman":
            w = G / np.sqrt(p)
        else:
            w = G / np.sqrt(p + params.alpha / p ** (params.beta - 1.0))
    w = np.where((G > 0) & (p > 0) & np.isfinite(w), w, 0.0)
    total = w.sum()
    ratio = w / total if total > 0 else np.zeros_like(w)
    if params.filter_threshold > 0:
        ratio = np.where(p > params.filter_threshold, 0.0, ratio)
    if params.filter_insufficient > 0:
        # the reference tests p * ratio * N with the ratios before renormalising the first filter
        ratio = np.where(p * ratio * N < params.filter_insufficient, 0.0, ratio)
    total = ratio.sum()
    if total <= 0:
        return np.full(len(p), 1.0 / max(len(p), 1)), True
    return ratio / total, False


def largest_remainder(x: np.ndarray, total: int) -> np.ndarray:
    """Round ``x`` (summing to ``total``) to integers with the same sum: round half to even, then fix by residuals."""
    k = np.round(x).astype(np.int64)
    e = int(total - k.sum())
    resid = x - k
    if e > 0:
        k[np.argsort(-resid, kind="stable")[:e]] += 1
    elif e < 0:
        order = np.argsort(resid, kind="stable")
        order = order[k[order] > 0][:-e]  # never below zero
        k[order] -= 1
    return k


def allocate_budget(ratio: np.ndarray, N: int) -> np.ndarray:
    """Integer allocation of ``N`` samples by ``ratio``, sum preserved."""
    return largest_remainder(ratio * N, N) if N > 0 else np.zeros(len(ratio), np.int64)


def variance_ratio(p: np.ndarray, G: np.ndarray, n: np.ndarray, N: int) -> float:
    """Var_uniform / Var_allocated of the gradient estimate, Var(n) = sum_i a_i^2 / n_i, a_i = G_i / sqrt(p_i).

    Over prompts with a_i > 0 and n_i > 0; uniform gives each of the M prompts N / M.
    """
    ok = (G > 0) & (p > 0) & (n > 0)
    if not ok.any() or N <= 0:
        return float("nan")
    a2 = G[ok] ** 2 / p[ok]
    return float((a2.sum() / (N / len(p))) / (a2 / n[ok]).sum())


@register
class GVM(SampleAllocator):
    """GVM: stage-1 estimates of p_i and G_i, then n_i ∝ G_i / sqrt(p_i + alpha / p_i^(beta-1)), rounded."""

    name = "gvm"
    Params = GVMParams
    needs_grad_norms = True

    def reset(self, info, rng) -> None:
        super().reset(info, rng)
        self.metrics = {}

    def estimates(self, view: StepView) -> tuple[np.ndarray, np.ndarray]:
        """p_i and G_i from the stage-1 samples."""
        first = view.sample_wave == 0
        correct = first & (view.sample_reward == 1)
        n1 = np.bincount(view.sample_slot[first], minlength=view.n_slots)
        k1 = np.bincount(view.sample_slot[correct], minlength=view.n_slots)
        gsum = np.bincount(view.sample_slot[correct], weights=view.sample_grad_norm[correct], minlength=view.n_slots)
        p = np.where(n1 > 0, k1 / np.maximum(n1, 1), 0.0)
        G = np.where(k1 > 0, gsum / np.maximum(k1, 1), 0.0)
        return p, G

    def budget(self, view: StepView) -> int:
        """N = budget_per_prompt x M, as RLHFlow/GVM sets it (stage 1's samples are not subtracted)."""
        return int(round(self.params.budget_per_prompt * view.n_slots))

    def stage2(self, view: StepView, p: np.ndarray, G: np.ndarray) -> np.ndarray:
        N = self.budget(view)
        ratio, fallback = gvm_ratios(p, G, N, self.params)
        n = allocate_budget(ratio, N)
        if np.isfinite(view.budget_left):
            # shrink N until the plan fits the budget left (tokens cost differ per prompt)
            while N > 0 and float(np.dot(n, view.cost)) > view.budget_left:
                N = int(N * min(0.99, view.budget_left / max(float(np.dot(n, view.cost)), 1e-12)))
                n = allocate_budget(ratio, N)
        self.metrics = {"gvm_variance_ratio": variance_ratio(p, G, n, N), "gvm_uniform_fallback": int(fallback)}
        return n

    def allocate(self, view: StepView) -> np.ndarray:
        zeros = np.zeros(view.n_slots, np.int64)
        if view.wave == 0:
            want = np.full(view.n_slots, self.params.stage1, np.int64)
            return fit_whole_groups(want, view.cost, view.budget_left)
        if view.wave > 1:
            return zeros
        p, G = self.estimates(view)
        started = view.drawn > 0
        n = np.zeros(view.n_slots, np.int64)
        if started.any():
            sub = _StageTwoView(view, started)
            n[started] = self.stage2(sub, p[started], G[started])
        if self.params.raft_reuse_stage1:
            n = np.clip(np.minimum(n - self.params.stage1, self.params.raft_cap - self.params.stage1), 0, None)
        return n

    def step_metrics(self) -> dict:
        return dict(self.metrics)

    def default_downsampler(self):
        if self.params.raft_reuse_stage1:
            return None
        from simbench.worlds.rl.downsamplers.drop_first_wave import DropFirstWave

        return DropFirstWave()


class _StageTwoView:
    """The parts of a view stage 2 needs, restricted to the slots that ran stage 1."""

    def __init__(self, view: StepView, mask: np.ndarray):
        self.n_slots = int(mask.sum())
        self.cost = view.cost[mask]
        self.budget_left = view.budget_left
