"""The collector contract: invariants every data collector of the equitable world must keep.

A collector plans each batch of a collection: (K,) non-negative integers, at most the batch in all,
within the remaining budget.  The contract runs collections against synthetic groups whose true learning
curves are power laws (perf(n) = ceiling - a n^-b, observed with noise shrinking as 1/sqrt(n)), so
history, probe and oracle curves are all what a collector sees in the genomic world, then checks every
plan; and runs a short collection in the real world.
"""
from __future__ import annotations

import copy
import pickle

import numpy as np

from simbench.core.roles import RunInfo
from simbench.testing._common import RoleContract, same_arrays, spec_of
from simbench.testing._property import SEED, property_test
from simbench.worlds.equitable.collectors.base import Collector, CollectState
from simbench.worlds.equitable.curves import Curve
from simbench.worlds.equitable.objectives import value
from simbench.worlds.equitable.spec import ObjectiveSpec

OBJECTIVES = ("population_mean", "group_average", "worst_group", "fairness_penalty")


class Groups:
    """K synthetic groups: true curves, costs, population shares and an objective; observations are noisy curves."""

    def __init__(self, seed: int, K: int, objective: str = "group_average"):
        rng = np.random.default_rng([seed, 5])
        self.K, self.seed = K, seed
        self.curves = [Curve(float(rng.uniform(0.5, 3)), float(rng.uniform(0.2, 1.0)), float(rng.uniform(0.3, 0.9)))
                       for _ in range(K)]
        self.costs = rng.uniform(0.5, 2.0, K)
        self.shares = rng.dirichlet(np.ones(K))
        self.spec = ObjectiveSpec(kind=objective)
        self.ids = np.arange(K)  # each group's identity, kept through a permutation (it seeds its noise)

    def permuted(self, perm: np.ndarray) -> "Groups":
        other = copy.copy(self)
        other.curves = [self.curves[i] for i in perm]
        other.costs, other.shares, other.ids = self.costs[perm], self.shares[perm], self.ids[perm]
        return other

    def observe(self, n: np.ndarray, batch: int) -> np.ndarray:
        noise = np.array([np.random.default_rng([self.seed, 6, int(i), batch]).normal() for i in self.ids])
        return np.array([c(max(x, 1.0)) for c, x in zip(self.curves, n)]) + noise * 0.2 / np.sqrt(np.maximum(n, 1.0))

    def objective(self, u: np.ndarray) -> float:
        return value(u, self.shares, self.spec)

    def info(self, batch: int, total: float) -> RunInfo:
        return RunInfo(self.K, np.arange(self.K, dtype=np.int32), tuple(f"g{i}" for i in self.ids), batch, "cost", total, 0)


def make_state(groups: Groups, b: int, n: np.ndarray, spent: float, total: float, batch: int, history: list) -> CollectState:
    """The state a collector sees before batch ``b``: everything as the genomic world's engine fills it."""
    seen = n.copy()  # what the probe sees is fixed now, whatever happens to ``n`` later
    return CollectState(b, n.copy(), spent, total - spent, batch, groups.costs, groups.shares, list(history),
                        groups.objective, groups.spec, groups.curves,
                        lambda scale, n=seen, b=b: groups.observe(np.asarray(scale) * n, b))


def check_plan(plan: np.ndarray, state: CollectState) -> None:
    K = len(state.costs)
    assert plan.shape == (K,), f"shape {plan.shape} != ({K},)"
    assert np.issubdtype(plan.dtype, np.integer), f"dtype {plan.dtype} is not integer"
    assert (plan >= 0).all(), f"negative plan {plan}"
    assert plan.sum() <= state.batch_size, f"{plan.sum()} samples in a batch of {state.batch_size}"
    assert float(plan @ state.costs) <= state.remaining + 1e-9, f"cost {float(plan @ state.costs)} > {state.remaining} left"


class CollectorContract(RoleContract):
    """Subclass and define ``make_collector``; pytest then runs every invariant.

    ``permutation_equivariant``: reordering the groups reorders the plan, each group within one sample
    (largest-remainder rounding gives exact ties to the lowest index); False, with a reason, for
    collectors that visit groups in order or draw random splits.
    """

    permutation_equivariant = True

    def make_collector(self) -> Collector:
        raise NotImplementedError

    def make_role(self) -> Collector:
        return self.make_collector()

    def fresh(self, groups: Groups, batch: int, total: float, seed: int) -> Collector:
        collector = self.make_collector()
        collector.reset(groups.info(batch, total), np.random.default_rng(seed))
        return collector

    def collect(self, groups: Groups, total: float, batch: int, seed: int, collector=None, max_batches: int = 12):
        """Plans of a whole collection (checked one by one); stops when a plan is empty or money runs out."""
        collector = collector or self.fresh(groups, batch, total, seed)
        n, spent, plans = np.zeros(groups.K, np.int64), 0.0, []
        history = [(n.copy(), np.zeros(groups.K), groups.objective(np.zeros(groups.K)))]
        for b in range(max_batches):
            if spent >= total - groups.costs.min() + 1e-9:
                break
            state = make_state(groups, b, n, spent, total, batch, history)
            plan = np.asarray(collector.plan(state))
            check_plan(plan, state)
            plans.append(plan)
            if plan.sum() == 0:
                break
            n, spent = n + plan, spent + float(plan @ groups.costs)
            val = groups.observe(n, b)
            history.append((n.copy(), val, groups.objective(val)))
        return plans, collector

    @property_test(seed=SEED, K=lambda st: st.integers(1, 5), total=lambda st: st.floats(0, 3000),
                   batch=lambda st: st.integers(0, 400), objective=lambda st: st.sampled_from(OBJECTIVES))
    def test_plans_are_integers_within_batch_and_budget(self, seed, K, total, batch, objective):
        self.collect(Groups(seed, K, objective), total, batch, seed)

    def test_money_is_spent(self):
        """With money and room in the batch, the first plan buys something."""
        groups = Groups(3, 3)
        plans, _ = self.collect(groups, 2000.0, 200, 3, max_batches=1)
        assert plans[0].sum() > 0

    @property_test(seed=SEED, K=lambda st: st.integers(1, 4))
    def test_inputs_not_mutated(self, seed, K):
        groups = Groups(seed, K)
        collector = self.fresh(groups, 100, 1500.0, seed)
        n = np.random.default_rng(seed).integers(0, 200, K)
        history = [(np.zeros(K, np.int64), np.zeros(K), 0.0), (n.copy(), groups.observe(n, 0), 0.1)]
        state = make_state(groups, 1, n, float(n @ groups.costs), 1500.0 + float(n @ groups.costs), 100, history)
        before = copy.deepcopy((state.n, state.costs, state.shares, state.history))
        collector.plan(state)
        for a, b, what in zip((state.n, state.costs, state.shares), before[:3], ("n", "costs", "shares")):
            same_arrays(a, b, what)
        assert len(state.history) == len(before[3]), "history grew"
        for (n1, v1, o1), (n0, v0, o0) in zip(state.history, before[3]):
            same_arrays(n1, n0, "history n")
            same_arrays(v1, v0, "history performance")
            assert o1 == o0

    @property_test(seed=SEED, K=lambda st: st.integers(1, 4))
    def test_same_seed_same_output(self, seed, K):
        a, _ = self.collect(Groups(seed, K), 1500.0, 150, seed)
        b, _ = self.collect(Groups(seed, K), 1500.0, 150, seed)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same_arrays(x, y, "plan")

    @property_test(seed=SEED, K=lambda st: st.integers(2, 5))
    def test_permutation_equivariant(self, seed, K):
        if not self.permutation_equivariant:
            return
        groups = Groups(seed, K)
        perm = np.random.default_rng(seed + 1).permutation(K)
        first = self.collect(groups, 1500.0, 150, seed, max_batches=1)[0][0]
        again = self.collect(groups.permuted(perm), 1500.0, 150, seed, max_batches=1)[0][0]
        assert again.sum() == first.sum(), f"totals {again.sum()} != {first.sum()}"
        assert np.abs(again - first[perm]).max() <= 1, f"{again} vs {first[perm]} (groups reordered by {perm})"

    def test_picklable_mid_collection(self):
        groups = Groups(4, 3)
        _, collector = self.collect(groups, 3000.0, 200, 4, max_batches=3)
        clone = pickle.loads(pickle.dumps(collector))
        n = np.array([150, 150, 150])
        history = [(np.zeros(3, np.int64), np.zeros(3), 0.0), (n, groups.observe(n, 0), 0.2)]
        state = make_state(groups, 3, n, float(n @ groups.costs), 3000.0, 200, history)
        same_arrays(clone.plan(copy.deepcopy(state)), collector.plan(state), "plan after unpickling")

    def test_runs_in_the_world(self):
        """A short collection in the genomic world (whose engine checks every plan)."""
        from simbench.worlds import parse_scenario
        from simbench.worlds.equitable.engine import run_collection

        data = {"world": "equitable", "name": "contract", "seeds": 1,
                "groups": [{"name": "A", "share": 0.7}, {"name": "B", "share": 0.3, "cost": 2.0}],
                "genetics": {"snps": 60, "causal": 10, "test_size": 100}, "budget": {"total": 600.0, "batch": 100},
                "strategies": [{"collector": spec_of(self.make_collector())}]}
        rows = run_collection(parse_scenario(data), 0, 0)
        assert rows, "no batch was collected"
        assert all(r["spent"] <= 600.0 + 1e-9 for r in rows)
        assert all(np.isfinite(r["objective"]) for r in rows)
