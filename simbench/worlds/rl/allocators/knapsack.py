"""Knapsack allocation: maximise sum_i u_i(n_i) s.t. sum_i c_i n_i <= B, n_i in {0} U [n_min, n_max].

Knapsack-RL's formulation (arXiv 2509.25849) generalised: a per-prompt utility (mixed-group probability,
Knapsack-RL's value, coverage, GVM's variance objective), a Beta posterior of
each prompt's pass rate from what earlier steps drew (never the latent truth;
``knapsack_oracle`` is the exception), and one of three solvers.  The whole
step's allocation is planned at wave 0; the cost of a sample is ``view.cost``,
so token budgets work.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simbench.core.config import require
from simbench.registry import register
from simbench.worlds.rl.knapsack.dp import dp_allocate, dp_work, quantise
from simbench.worlds.rl.knapsack.greedy import greedy_allocate
from simbench.worlds.rl.knapsack.posterior import beta_posterior, canonical_order
from simbench.worlds.rl.knapsack.relaxation import repair_down, round_and_repair, solve_relaxation, variance_bounded
from simbench.worlds.rl.knapsack.utilities import value_table, variance_weight
from simbench.worlds.rl.roles import RunInfo, SampleAllocator, StepView


@dataclass(frozen=True)
class KnapsackParams:
    """Knapsack allocation.

    utility : ``mixed`` | ``knapsack_rl`` | ``coverage`` | ``variance``.
    solver : ``greedy`` (heap, marginal gain per cost) | ``dp`` (exact, costs
        quantised) | ``cvxpy`` (convex relaxation, rounding, greedy repair).
    n_min, n_max : a prompt gets 0 or between n_min and n_max responses.
    cost : what a sample costs: ``budget``, the step budget's unit (``view.cost``: 1 or its
        mean tokens), or ``seconds``, its expected generation time (``view.time_cost``,
        throughput and straggling; needs a [cost] table and uniform_n >= 1).  The
        engine's budget still holds in its own unit.
    quantum : cost units per DP unit (0: 1 for a sample budget, 256 tokens for a token
        budget, a sixteenth of the median for seconds).
    prior_a, prior_b : Beta prior of every prompt's pass rate.
    posterior : ``expected`` (utility averaged over the posterior), ``mean``
        (utility at the posterior mean) or ``thompson`` (at a posterior draw).
        ``cvxpy`` relaxes the utility at the posterior mean; its rounding and
        repair use the chosen form.
    evidence : ``all`` earlier outcomes or only the ``last`` step's.
    uniform_n : the step's budget is what uniform ``uniform_n`` would cost,
        min(budget left, uniform_n * sum of costs); 0: the engine's whole budget.
    variance_alpha, variance_beta : GVM's penalty in w = G^2 / (p + alpha / p^(beta - 1)).
    dp_max_work : largest DP (items x capacity x choices) to attempt;
        beyond it ``on_dp_too_large`` = ``greedy`` (recorded in the step's
        ``knapsack_dp_fallback`` column) or ``error``.
    dp_top_up : after the DP on quantised (rounded-up) costs, spend what the
        rounding left with greedy on the true costs (no effect for sample budgets).
    """

    utility: Literal["mixed", "knapsack_rl", "coverage", "variance"] = "mixed"
    solver: Literal["greedy", "dp", "cvxpy"] = "greedy"
    n_min: int = 2
    n_max: int = 64
    quantum: float = 0.0
    prior_a: float = 1.0
    prior_b: float = 1.0
    posterior: Literal["expected", "mean", "thompson"] = "expected"
    evidence: Literal["all", "last"] = "all"
    uniform_n: int = 8
    variance_alpha: float = 1e-3
    variance_beta: float = 2.0
    dp_max_work: float = 4e9
    on_dp_too_large: Literal["greedy", "error"] = "greedy"
    dp_top_up: bool = True
    cost: Literal["budget", "seconds"] = "budget"

    def check(self) -> None:
        require(self.n_min >= 1, "n_min", self.n_min, "an integer >= 1")
        require(self.n_min <= self.n_max <= 32767, "n_max", self.n_max, f"an integer in [n_min = {self.n_min}, 32767]")
        require(self.quantum >= 0 and math.isfinite(self.quantum), "quantum", self.quantum, "a number >= 0 (0: automatic)")
        require(self.prior_a > 0 and math.isfinite(self.prior_a), "prior_a", self.prior_a, "a positive number")
        require(self.prior_b > 0 and math.isfinite(self.prior_b), "prior_b", self.prior_b, "a positive number")
        require(self.uniform_n >= 0, "uniform_n", self.uniform_n, "an integer >= 0 (0: the engine's budget)")
        require(self.uniform_n >= 1 or self.cost != "seconds", "uniform_n", self.uniform_n,
                "an integer >= 1 with cost = 'seconds' (the step's seconds are what uniform uniform_n would take)")
        require(self.variance_alpha >= 0, "variance_alpha", self.variance_alpha, "a number >= 0")
        require(self.variance_beta >= 1, "variance_beta", self.variance_beta, "a number >= 1")
        require(self.dp_max_work > 0, "dp_max_work", self.dp_max_work, "a positive number")


class DPTooLarge(RuntimeError):
    """The exact DP would exceed ``dp_max_work`` and ``on_dp_too_large = "error"``."""


@register
class Knapsack(SampleAllocator):
    """Knapsack over per-prompt utilities with a Beta posterior; greedy, exact DP or cvxpy relaxation."""

    name = "knapsack"
    Params = KnapsackParams
    waves = 1  # its allocate returns all zeros after wave 0

    def reset(self, info: RunInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        self.metrics = {}

    @property
    def needs_time_cost(self) -> bool:
        return self.params.cost == "seconds"

    # -- what the solver sees -------------------------------------------------
    def pass_rates(self, view: StepView, order: np.ndarray):
        """(p, a, b, G) per slot in canonical order; p is None for the posterior-expected form."""
        P = self.params
        a, b = beta_posterior(view, P.prior_a, P.prior_b, P.evidence)
        a, b = a[order], b[order]
        if P.posterior == "thompson":
            return self.rng.beta(a, b), None, None, None
        if P.posterior == "mean" or P.utility == "variance":
            return a / (a + b), None, None, None
        return None, a, b, None

    def step_budget(self, view: StepView) -> float:
        if self.params.cost == "seconds":
            return self.params.uniform_n * float(np.sum(view.time_cost))
        if self.params.uniform_n == 0:
            return float(view.budget_left)
        return min(float(view.budget_left), self.params.uniform_n * float(np.sum(view.cost)))

    def quantum(self, cost: np.ndarray) -> float:
        if self.params.quantum > 0:
            return self.params.quantum
        if self.params.cost == "seconds":
            return float(np.median(cost)) / 16
        return 1.0 if self.info.budget_unit == "samples" else 256.0

    # -- the plan -------------------------------------------------------------
    def allocate(self, view: StepView) -> np.ndarray:
        S = view.n_slots
        if view.wave > 0 or S == 0:
            return np.zeros(S, np.int64)
        P = self.params
        order = canonical_order(view.prompts)
        budget_cost = np.asarray(view.cost, np.float64)[order]
        cost = np.asarray(view.time_cost, np.float64)[order] if P.cost == "seconds" else budget_cost
        budget = self.step_budget(view)
        p, a, b, G = self.pass_rates(view, order)
        V = value_table(P.utility, P.n_max, p=p, a=a, b=b, G=G,
                        variance_alpha=P.variance_alpha, variance_beta=P.variance_beta)
        n_sorted, fallback = self.solve(V, p if p is not None else a / (a + b), G, cost, budget)
        n_sorted = repair_down(n_sorted, V, budget_cost, float(view.budget_left), P.n_min)  # the engine's budget; else float safety only
        n = np.empty(S, np.int64)
        n[order] = n_sorted
        self.metrics = {"knapsack_utility": float(V[np.arange(S), n_sorted].sum()), "knapsack_dp_fallback": int(fallback)}
        return n

    def solve(self, V, p, G, cost, budget) -> tuple[np.ndarray, bool]:
        """Counts in canonical order, and whether the DP fell back to greedy."""
        P = self.params
        M = V.shape[0]
        rank = np.arange(M, dtype=np.int64)
        if not budget > 0:
            return np.zeros(M, np.int64), False
        if not math.isfinite(budget):  # no budget at all: every item at its best count
            return dp_allocate(V, cost, math.inf, P.n_min, P.n_max), False
        if P.solver == "greedy":
            return greedy_allocate(V, cost, budget, P.n_min, P.n_max, rank=rank), False
        if P.solver == "dp":
            q = self.quantum(cost)
            _, cap = quantise(cost, budget, q)
            work = dp_work(M, cap, P.n_min, P.n_max)
            if work > P.dp_max_work:
                if P.on_dp_too_large == "error":
                    raise DPTooLarge(f"knapsack DP with {M} items x {cap + 1} capacity units x {P.n_max - P.n_min + 1} "
                                     f"choices = {work:.3g} cells exceeds dp_max_work = {P.dp_max_work:g}; "
                                     "raise dp_max_work or quantum, or use solver = \"greedy\"")
                return greedy_allocate(V, cost, budget, P.n_min, P.n_max, rank=rank), True
            n = dp_allocate(V, cost, budget, P.n_min, P.n_max, quantum=q)
            if P.dp_top_up:
                n = greedy_allocate(V, cost, budget - float(cost @ n), P.n_min, P.n_max, n0=n, rank=rank)
            return n, False
        # cvxpy: the variance objective has a closed form when every item can be active
        w = variance_weight(p, 1.0 if G is None else G, P.variance_alpha, P.variance_beta) if P.utility == "variance" else None
        if P.utility == "variance" and P.n_min * cost.sum() <= budget:
            x = variance_bounded(w, cost, budget, P.n_min, P.n_max)
        else:
            x, _ = solve_relaxation(P.utility, p, cost, budget, P.n_min, P.n_max, w=w)
        return round_and_repair(x, V, cost, budget, P.n_min, P.n_max, rank=rank), False

    def step_metrics(self) -> dict:
        return dict(self.metrics)
