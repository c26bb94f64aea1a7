"""Run one collector on one seed of the equitable world: batches until the budget is spent."""
from __future__ import annotations

import numpy as np

import simbench.registry as registry
from simbench.core.roles import RunInfo
from simbench.worlds.equitable.collectors.base import CollectState
from simbench.worlds.equitable.curves import fit_curve
from simbench.worlds.equitable.genomes import GenomicWorld
from simbench.worlds.equitable.learner import PRSLearner, performance
from simbench.worlds.equitable.objectives import value
from simbench.worlds.equitable.spec import EquitableScenario


def _streams(ss: np.random.SeedSequence, K: int, tag: int) -> list[np.random.Generator]:
    """One stream per group: the i-th sample of a group is the same individual for every collector (paired runs)."""
    return [np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, tag, g))) for g in range(K)]


class Collection:
    """A collection run: world, learner, collector; ``run`` returns one row per batch."""

    def __init__(self, scenario: EquitableScenario, collector, seed: np.random.SeedSequence):
        self.sc = scenario
        self.seed = seed
        self.world = GenomicWorld(scenario, seed)
        K = self.world.K
        self.draw = _streams(self.world.sample_ss, K, 0)
        self.split_rng = _streams(self.world.sample_ss, K, 1)
        self.learner = PRSLearner(scenario.learner, K, self.world.M, self.world.centre, self.world.scale)
        self.collector = collector
        info = RunInfo(K, np.arange(K, dtype=np.int32), tuple(g.name for g in scenario.groups), scenario.budget.batch, "cost",
                       scenario.budget.total, 0)
        collector.reset(info, np.random.default_rng(np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 9))))

    def evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        """Performance per group on the test sets (truth) and on the collected validation data (what collectors see)."""
        metric = self.sc.learner.metric
        if self.sc.learner.group_aware:
            self.learner.fit_group_aware()
        else:
            self.learner.fit()
        learner = self.learner
        test = np.array([performance(learner.predict(G, learner.coefficients(g)), y, metric)
                         for g, (G, y) in enumerate(self.world.test)])
        val = np.zeros(self.world.K)
        for g in range(self.world.K):
            G, y = learner.validation(g)
            val[g] = performance(learner.predict(G, learner.coefficients(g)), y, metric) if len(y) else 0.0
        return test, val

    def probe(self, scale: np.ndarray) -> np.ndarray:
        """Validation performance per group of the pooled PRS refitted with group statistics weighted by ``scale``."""
        beta = self.learner.fit(np.asarray(scale, float))
        out = np.zeros(self.world.K)
        for g in range(self.world.K):
            G, y = self.learner.validation(g)
            out[g] = performance(self.learner.predict(G, beta), y, self.sc.learner.metric) if len(y) else 0.0
        return out

    def run(self, oracle_curves=None) -> list[dict]:
        sc, K = self.sc, self.world.K
        costs, shares = sc.costs, sc.shares
        objective = lambda u: value(u, shares, sc.objective)  # noqa: E731
        n = np.zeros(K, np.int64)
        spent = 0.0
        history = [(n.copy(), np.zeros(K), objective(np.zeros(K)))]
        rows = []
        batch = 0
        while spent < sc.budget.total - costs.min() + 1e-9:
            state = CollectState(batch, n.copy(), spent, sc.budget.total - spent, sc.budget.batch, costs, shares,
                                 list(history), objective, sc.objective, oracle_curves, self.probe)
            plan = np.asarray(self.collector.plan(state))
            if plan.shape != (K,) or not np.issubdtype(plan.dtype, np.integer) or (plan < 0).any():
                raise RuntimeError(f"{self.collector!r} returned {plan!r}: expected {K} non-negative integers")
            if float(plan @ costs) > sc.budget.total - spent + 1e-9 or plan.sum() > sc.budget.batch:
                raise RuntimeError(f"{self.collector!r} planned {plan.tolist()} beyond the batch or the budget")
            if plan.sum() == 0:
                break
            for g in np.flatnonzero(plan):
                G, y = self.world.sample(int(g), int(plan[g]), self.draw[g])
                self.learner.add(int(g), G, y, self.split_rng[g])
            n += plan
            spent += float(plan @ costs)
            test, val = self.evaluate()
            history.append((n.copy(), val, objective(val)))
            row = {"batch": batch, "spent": spent}
            row.update({f"n_{g.name}": int(x) for g, x in zip(sc.groups, n)})
            row.update({f"perf_{g.name}": float(x) for g, x in zip(sc.groups, test)})
            row.update(objective=objective(test), gap=float(test.max() - test.min()), val_objective=objective(val))
            rows.append(row)
            batch += 1
        return rows


def oracle_curves(scenario: EquitableScenario, seed: np.random.SeedSequence, runs: int = 3):
    """The world's true learning curves: test performance vs n_g over offline runs with random batch splits."""
    points = []
    for r in range(runs):
        explorer = registry.make("collector", "random_split")
        explorer.params_seed = r
        col = Collection(scenario, explorer, seed)
        rows = col.run()
        points += rows
    curves = []
    for spec in scenario.groups:
        n = np.array([r[f"n_{spec.name}"] for r in points], float)
        perf = np.array([r[f"perf_{spec.name}"] for r in points], float)
        curves.append(fit_curve(n, perf))
    return curves


def run_collection(scenario: EquitableScenario, strategy_index: int, seed_index: int) -> list[dict]:
    """Rows of one collector on one seed (with ``allocator`` and ``seed`` columns)."""
    strat = scenario.strategies[strategy_index]
    collector = registry.make("collector", strat.collector, f"strategies[{strategy_index}].collector")
    seed = scenario.cell_seed(seed_index)
    curves = oracle_curves(scenario, seed) if collector.uses_oracle else None
    rows = Collection(scenario, collector, seed).run(curves)
    return [{"allocator": strat.label, "seed": seed_index, **r} for r in rows]
