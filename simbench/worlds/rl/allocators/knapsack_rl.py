"""Knapsack-RL (arXiv 2509.25849), as liziniu/KnapsackRL's code behaves.

Per step, for the batch's prompts (liziniu/KnapsackRL, ``exploration_utils.py``):

* p_hat: the mean of the prompt's latest batch of outcomes; if that batch
  had fewer than ``reward_buffer_length`` (16) outcomes, the mean of its most
  recent 16 outcomes across visits.  A prompt is *valid* once it has
  ``min_buffer_length`` (8) cumulative outcomes; others get the uniform ``n``.
* Valid prompts with 0 < p_hat < 1 are items: each gets ``min_n`` (2), then an
  exact-fill DP hands out k in [1, max_n - min_n] extra rollouts maximising
  sum v(min_n + k, p_hat), v(N, p) = (1 - p^N - (1-p)^N) p (1-p)^2, where
  k = 0 scores 0 (the code's quirk; ``zero_extra = "paper"`` scores v(min_n)).
  If the DP cannot fill its budget exactly, the largest reachable budget is
  used and the rest split evenly over the items (which can exceed ``max_n``).
* p_hat = 0 / 1 prompts get ``negative_n`` / ``positive_n`` (2).  Fallback:
  E = sum_items int(min(max_n, ln(1-alpha)/ln(max(p, 1-p)))); if E is below the
  remaining budget, the surplus goes evenly to prompts whose recorded success
  rate is 0 (in the code that includes not-yet-valid prompts) or, if none, to
  every non-item, and the DP runs with budget E.  No items at all: the surplus
  goes to the zero-rate prompts, or everyone gets ``n``.
* Budget: ``n`` x prompts, in samples (unit weights).

Deviations, each because the reference cannot run here: the reference raises
ZeroDivisionError when the fallback has no candidate prompt (every prompt an
item); the preset then skips the fallback.  Under a smaller engine budget the
plan uses min(n x prompts, budget) samples, and a plan that still exceeds the
engine's budget (token budgets) is capped like ``uniform``.  Items are taken in
prompt-id order (the reference: batch order), so results do not depend on slot
order.  Beyond ``dp_max_work`` cells the DP is replaced by the heap greedy,
which reaches the same optimum here (the extra-rollout values are concave
after the first), recorded in the ``knapsack_dp_fallback`` column.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.core._numba import jit
from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.allocators._budget import fit_to_budget
from simbench.worlds.rl.knapsack.dp import backtrack, mck_dp_kernel
from simbench.worlds.rl.knapsack.greedy import greedy_allocate
from simbench.worlds.rl.knapsack.posterior import canonical_order
from simbench.worlds.rl.roles import RunInfo, SampleAllocator, StepView


@dataclass(frozen=True)
class KnapsackRLParams:
    """Knapsack-RL's knobs, named as in the reference (run script defaults)."""

    n: int = 8
    min_n: int = 2
    max_n: int = 128
    negative_n: int = 2
    positive_n: int = 2
    alpha: float = 0.9
    allow_fallback: bool = True
    cost_estimation: Literal["probability", "expectation"] = "probability"
    min_buffer_length: int = 8
    reward_buffer_length: int = 16
    epoch_estimation: bool = True
    robust_epoch_estimation: bool = True
    zero_extra: Literal["code", "paper"] = "code"
    dp_max_work: float = 2e9

    def check(self) -> None:
        require(self.n >= 1, "n", self.n, "an integer >= 1")
        require(self.min_n >= 1, "min_n", self.min_n, "an integer >= 1")
        require(self.min_n < self.max_n <= 32767 + self.min_n, "max_n", self.max_n, f"an integer > min_n = {self.min_n}")
        require(self.negative_n >= 0, "negative_n", self.negative_n, "an integer >= 0")
        require(self.positive_n >= 0, "positive_n", self.positive_n, "an integer >= 0")
        require(0 < self.alpha < 1, "alpha", self.alpha, "a number in (0, 1)")
        require(self.min_buffer_length >= 0, "min_buffer_length", self.min_buffer_length, "an integer >= 0")
        require(self.reward_buffer_length >= 1, "reward_buffer_length", self.reward_buffer_length, "an integer >= 1")
        require(self.dp_max_work > 0, "dp_max_work", self.dp_max_work, "a positive number")


@jit
def update_reward_buffers(prompt, d, s, sample_prompt, sample_reward, ring, head, size, count, p_hat,
                          epoch_estimation, robust):
    """Fold one step into the per-prompt state (prompts with d > 0 outcomes this step).

    ``ring`` keeps each prompt's most recent L outcomes; p_hat is the step's
    mean when it has >= L outcomes (or without robust estimation), else the
    mean of the ring, as the reference's ``update_sample_state``.
    """
    L = ring.shape[1]
    for t in range(sample_prompt.shape[0]):
        i = sample_prompt[t]
        ring[i, head[i]] = sample_reward[t]
        head[i] = (head[i] + 1) % L
        if size[i] < L:
            size[i] += 1
    for j in range(prompt.shape[0]):
        i = prompt[j]
        count[i] += d[j]
        if epoch_estimation and (d[j] >= L or not robust):
            p_hat[i] = s[j] / d[j]
        else:
            tot = 0
            for k in range(size[i]):
                tot += ring[i, k]
            p_hat[i] = tot / size[i]


def split_evenly(alloc: np.ndarray, idx: np.ndarray, amount: int) -> None:
    """Add ``amount`` over ``idx``: the same to each, one more to the first ``amount % len(idx)``."""
    base, rem = divmod(int(amount), len(idx))
    alloc[idx] += base
    alloc[idx[:rem]] += 1


@register
class KnapsackRL(SampleAllocator):
    """Knapsack-RL preset: exact-fill DP over extra rollouts on Knapsack-RL's value, with its fallbacks."""

    name = "knapsack_rl"
    Params = KnapsackRLParams
    waves = 1  # its allocate returns all zeros after wave 0

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        L = self.params.reward_buffer_length
        N = info.n_prompts
        self.ring = np.zeros((N, L), np.int8)
        self.head = np.zeros(N, np.int64)
        self.size = np.zeros(N, np.int64)
        self.count = np.zeros(N, np.int64)
        self.p_hat = np.zeros(N, np.float64)
        self.metrics = {}

    def observe(self, view: StepView, keep: np.ndarray, advantage: np.ndarray) -> None:
        N = self.info.n_prompts
        d = np.bincount(view.prompts, weights=view.drawn, minlength=N).astype(np.int64)
        s = np.bincount(view.prompts, weights=view.pos, minlength=N).astype(np.int64)
        touched = np.flatnonzero(d > 0)
        sample_prompt = np.asarray(view.prompts)[view.sample_slot]
        P = self.params
        update_reward_buffers(touched, d[touched], s[touched], sample_prompt, np.asarray(view.sample_reward, np.int8),
                              self.ring, self.head, self.size, self.count, self.p_hat,
                              P.epoch_estimation, P.robust_epoch_estimation)

    def estimates(self, view: StepView) -> tuple[np.ndarray, np.ndarray]:
        """(cumulative count, p_hat) per slot.

        For a prompt whose outcomes this allocator did not observe (a view
        built outside the engine), it reads the engine's history instead: the
        latest step's outcomes, topped up to L with earlier ones at their mean.
        """
        pr = view.prompts
        h = view.history
        count, p_hat = self.count[pr].copy(), self.p_hat[pr].copy()
        stale = count != h.n[pr]
        if stale.any():
            L = self.params.reward_buffer_length
            n, pos = h.n[pr][stale].astype(float), h.pos[pr][stale].astype(float)
            d, s = h.last_n[pr][stale].astype(float), h.last_pos[pr][stale].astype(float)
            older_mean = np.divide(pos - s, n - d, out=np.zeros_like(n), where=n > d)
            batch_only = (d >= L) | (self.params.epoch_estimation and not self.params.robust_epoch_estimation)
            m = np.where(batch_only, 0.0, np.minimum(np.maximum(L - d, 0), n - d))
            with np.errstate(invalid="ignore", divide="ignore"):
                est = (s + m * older_mean) / (d + m)
            count[stale], p_hat[stale] = h.n[pr][stale], np.nan_to_num(est)
        return count, p_hat

    def allocate(self, view: StepView) -> np.ndarray:
        S = view.n_slots
        if view.wave > 0 or S == 0:
            return np.zeros(S, np.int64)
        order = canonical_order(view.prompts)
        count, p_hat = self.estimates(view)
        total = self.params.n * S
        if self.info.budget_unit == "samples" and math.isfinite(view.budget_left):
            total = min(total, int(math.floor(view.budget_left + 1e-9)))
        plan_sorted, fallback, used_greedy = self.plan(count[order], p_hat[order], total)
        plan = np.empty(S, np.int64)
        plan[order] = plan_sorted
        n = fit_to_budget(plan, np.asarray(view.cost, np.float64), float(view.budget_left))
        self.metrics = {"knapsack_fallback": int(fallback), "knapsack_dp_fallback": int(used_greedy),
                        "knapsack_max_n": int(n.max(initial=0))}
        return n

    def plan(self, count: np.ndarray, p: np.ndarray, total: int) -> tuple[np.ndarray, bool, bool]:
        """The reference's allocation for prompts in this order; (counts, fallback used, greedy used)."""
        P = self.params
        valid = count >= P.min_buffer_length
        item = valid & (p > 0) & (p < 1)
        rate32 = np.where(valid, p, 0.0).astype(np.float32)  # the reference stores rates in float32
        alloc = np.where(~valid, P.n, np.where(item, P.min_n, np.where(p <= 0, P.negative_n, P.positive_n))).astype(np.int64)
        left = total - int(alloc.sum())
        items = np.flatnonzero(item)
        fallback = used_greedy = False
        if left > 0 and len(items) == 0:
            zero = np.flatnonzero(rate32 == 0)
            if len(zero):
                split_evenly(alloc, zero, left)
            else:
                alloc[:] = P.n
            return alloc, fallback, used_greedy
        if len(items):
            q = p[items]
            if P.cost_estimation == "probability":
                cost = (math.log(1 - P.alpha) / np.log(np.maximum(q, 1 - q))).astype(np.float32)
            else:
                cost = (1.0 / (q * (1 - q)) - 1.0).astype(np.float32)
            estimated = int(np.minimum(np.float32(P.max_n), cost).astype(np.int64).sum())
            if P.allow_fallback and estimated < left:
                cand = np.flatnonzero(rate32 == 0)
                if len(cand) == 0:
                    cand = np.flatnonzero(~item)
                if len(cand):  # the reference divides by zero here; we skip the fallback
                    fallback = True
                    split_evenly(alloc, cand, left - estimated)
                    left = estimated
        if left > 0 and len(items):
            extra, used_greedy = self.extra_rollouts(rate32[items], left)
            alloc[items] += extra
        return alloc, fallback, used_greedy

    def extra_rollouts(self, rate32: np.ndarray, budget: int) -> tuple[np.ndarray, bool]:
        """The exact-fill DP over k extra rollouts per item, then the even split of what it could not place."""
        P = self.params
        M = len(rate32)
        K = P.max_n - P.min_n
        N = P.min_n + np.arange(K + 1)
        pr = rate32.astype(np.float64)[:, None]
        V = (1 - pr**N - (1 - pr) ** N) * pr * (1 - pr) ** 2
        if P.zero_extra == "code":
            V[:, 0] = 0.0
        w = np.ones(M, np.int64)
        if float(M) * (budget + 1) * K > P.dp_max_work:
            extra = greedy_allocate(V, w.astype(np.float64), float(budget), 1, K)
            used = int(extra.sum())
            greedy = True
        else:
            best, choice = mck_dp_kernel(V, w, int(budget), 1, K, True, True)
            reach = np.flatnonzero(np.isfinite(best))
            used = int(reach[-1])
            extra = backtrack(choice, w, used) if used > 0 else np.zeros(M, np.int64)
            greedy = False
        if budget - used > 0:
            split_evenly(extra, np.arange(M), budget - used)
        return extra, greedy

    def step_metrics(self) -> dict:
        return dict(self.metrics)
