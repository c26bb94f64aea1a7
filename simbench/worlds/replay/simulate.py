"""Simulated training with a log's own algorithm, recorded the way the log was recorded.

``simulate_counts`` runs the simulator's engine (``Cell``) on a population
drawn from a fitted initial law, with uniform GRPO (n responses per prompt,
``batch`` prompts per step, epoch shuffling), and records, for every prompt, the
number of correct samples at each of its appearances: exactly what a
per-prompt accuracy history stores.  Cells are seeded by ``seed`` only, not by
the learner's parameters, so that evaluations at different parameters share
their random numbers (common random numbers make the calibration objective smooth).

The steps run in one compiled call (``history_kernel``) on the streams of a
``Cell`` of that scenario; ``RecordingCell`` runs the same history through the
general engine, step by step, and gives the same counts (the reference the
compiled path is tested against).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simbench.worlds.replay.history_kernel import uniform_grpo_history
from simbench.worlds.replay.population_fit import PopulationFit
from simbench.worlds.rl.engine import Cell
from simbench.worlds.rl.learner import LearnerSpec
from simbench.worlds.rl.population import FeatureSpec, PopulationSpec
from simbench.worlds.rl.scenario import EngineSpec, Scenario, StrategySpec


@dataclass(frozen=True)
class LogAlgorithm:
    """The run that produced a log: responses per prompt, prompts per step, prompts in the pool."""

    n: int = 8
    batch: int = 128
    prompts: int = 1209


@dataclass(frozen=True)
class CalibrationParams:
    """The learner's parameters the calibration fits (see ``LearnerSpec`` and ``FeatureSpec``)."""

    lr_shared: float = 0.02
    lr_prompt: float = 2.0
    skill_shape: float = 4.0
    skill_scale: float = 0.25
    idio_scale: float = 0.25
    dim: int = 16
    grad_noise: float = 1.0
    kl_coef: float = 0.0
    format_fail: float = 0.0
    lr_format: float = 0.0


class _FixedSeedScenario(Scenario):
    """A scenario whose cells are seeded by (seed, seed index) only: common random numbers across parameters."""

    def cell_seed(self, seed_index: int) -> np.random.SeedSequence:
        return np.random.SeedSequence([0x5EED, self.seed, seed_index])


def _world(init: PopulationFit, params: CalibrationParams, algo: LogAlgorithm, appearances: int, test_prompts: int = 1,
           pass_at_k: tuple[int, ...] = (1,)):
    """Population, learner and engine of uniform GRPO run until every prompt has appeared ``appearances`` times."""
    steps = math.ceil(appearances * algo.prompts / algo.batch) + 1
    pop = PopulationSpec(
        train_prompts=algo.prompts, test_prompts=test_prompts, pass_rate=init.to_pass_rate_spec(),
        features=FeatureSpec(dim=params.dim, skill_shape=params.skill_shape, skill_scale=params.skill_scale,
                             idio_scale=params.idio_scale, grad_noise=params.grad_noise),
    )
    learner = LearnerSpec(lr_shared=params.lr_shared, lr_prompt=params.lr_prompt, kl_coef=params.kl_coef,
                          format_fail=params.format_fail, lr_format=params.lr_format, pass_at_k=pass_at_k)
    return {"population": pop, "learner": learner, "engine": EngineSpec(steps=steps, batch_prompts=algo.batch)}


def build_scenario(init: PopulationFit, params: CalibrationParams, algo: LogAlgorithm, appearances: int, seed: int) -> Scenario:
    """The scenario of uniform GRPO run long enough for every prompt to appear ``appearances`` times."""
    return _FixedSeedScenario(name="calibration", strategies=(StrategySpec(allocator={"kind": "uniform", "n": algo.n}),),
                              seed=seed, seeds=1, **_world(init, params, algo, appearances))


def calibrated_scenario(init: PopulationFit, params: CalibrationParams, algo: LogAlgorithm, appearances: int, name: str,
                        description: str, seeds: int = 4, test_prompts: int = 512) -> Scenario:
    """A scenario file's worth: the fitted population and learner, the log's batch and length, allocators to compare.

    The logged algorithm (uniform, n) comes first, then the catalogue's main families (DAPO with the same n).
    """
    n = algo.n
    dapo = {"kind": "dapo", "n": n, "on_exhausted": "train"}
    if 3 * algo.batch > algo.prompts:  # DAPO's default generation batch (3 x batch) must fit in the pool
        dapo["gen_batch"] = algo.prompts
    strategies = (
        StrategySpec(allocator={"kind": "uniform", "n": n}),
        StrategySpec(allocator=dapo),
        StrategySpec(name="reinforce_ada-balanced", allocator={"kind": "reinforce_ada", "choice": "balanced"}),
        StrategySpec(allocator={"kind": "gvm"}),
        StrategySpec(name="knapsack-dp", allocator={"kind": "knapsack", "solver": "dp"}),
    )
    return Scenario(name=name, description=description, strategies=strategies, seeds=seeds,
                    **_world(init, params, algo, appearances, test_prompts, LearnerSpec().pass_at_k))


class RecordingCell(Cell):
    """A cell that stores each prompt's correct count at each of its appearances (up to ``appearances``).

    With ``p0``, the train prompts' initial pass rates are set to it (prompt i of the
    simulation stands for prompt i of the log).
    """

    def __init__(self, scenario: Scenario, appearances: int, p0: np.ndarray | None = None):
        super().__init__(scenario, 0, 0)
        if p0 is not None:
            self.learner.set_initial_pass_rates(p0)
        self.appearances = appearances
        self.seen = np.zeros(self.info.n_prompts, np.int64)
        self.K = np.full((self.info.n_prompts, appearances), -1, np.int64)
        self.N = np.zeros((self.info.n_prompts, appearances), np.int64)

    def record(self, v, keep) -> None:
        super().record(v, keep)
        got = v.drawn > 0
        pr, t = v.prompts[got], self.seen[v.prompts[got]]
        ok = t < self.appearances
        self.K[pr[ok], t[ok]] = v.pos[got][ok]
        self.N[pr[ok], t[ok]] = v.drawn[got][ok]
        np.add.at(self.seen, pr, 1)

    def metrics(self, step, v, keep, adv, waves) -> dict:
        return {"step": step, "samples": 0 if v is None else len(v.sample_slot), "tokens": 0}

    def run_until_done(self) -> tuple[np.ndarray, np.ndarray]:
        """Run steps until every prompt has ``appearances`` appearances; return (K, N)."""
        self.run()
        return self.K, self.N


def simulate_counts(init: PopulationFit, params: CalibrationParams, algo: LogAlgorithm, appearances: int, seed: int = 0,
                    first: tuple[np.ndarray, np.ndarray] | None = None):
    """(K, N) prompts x appearances of a simulated run (see the module docstring).

    ``first`` = (k, n) of each prompt's first logged appearance: initial pass rates are
    then drawn from each prompt's posterior under ``init`` (empirical Bayes) instead of
    from ``init`` itself, so that the simulated prompts match the log's from the start.
    """
    p0 = None if first is None else initial_pass_rates(init, first, seed)
    return compiled_counts(build_scenario(init, params, algo, appearances, seed), appearances, p0)


def initial_pass_rates(init: PopulationFit, first: tuple[np.ndarray, np.ndarray], seed: int) -> np.ndarray:
    """Each prompt's initial pass rate drawn from its posterior under ``init`` given ``first`` (seeded by ``seed`` only)."""
    return init.posterior_sample(np.random.default_rng([0xB0, seed]), *first)


def compiled_counts(scenario: Scenario, appearances: int, p0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(K, N) of ``RecordingCell(scenario, appearances, p0).run_until_done()``, in one compiled call.

    The cell is built as the engine builds it (population, learner, streams); the
    selector's epoch shuffles are drawn up front from its own stream.
    """
    cell = Cell(scenario, 0, 0)
    sel, alloc, down, adv = (type(r).__name__ for r in cell.roles)
    if (sel, alloc, down, adv) != ("EpochShuffle", "Uniform", "KeepAll", "GRPO") or cell.advantage.params.global_stats:
        raise ValueError(f"the compiled history runs uniform GRPO only, not {sel}/{alloc}/{down}/{adv}")
    if p0 is not None:
        cell.learner.set_initial_pass_rates(p0)
    P, B, steps = cell.info.n_prompts, scenario.engine.batch_prompts, scenario.engine.steps
    rng = cell.streams.selector
    order = np.concatenate([rng.permutation(P).astype(np.int64) for _ in range(-(-steps * B // P))])
    L, lrn, pop = scenario.population.lengths, cell.learner, cell.learner.train
    K, N, diverged = uniform_grpo_history(
        order, cell.allocator.params.n, B, steps, appearances, lrn.b_train, pop.x, pop.noise, pop.mean_len,
        L.wrong_factor, L.sigma, L.max, lrn.spec.ref_len, lrn.spec.lr_shared, lrn.spec.lr_prompt, lrn.spec.kl_coef,
        lrn.gated, lrn.g0, lrn.spec.lr_format, cell.advantage.params.norm_adv_by_std, cell.advantage.params.epsilon,
        cell.streams.outcomes, cell.streams.learner)
    if diverged:
        raise cell.divergence_error(diverged)
    return K, N


def histograms(K: np.ndarray, N: np.ndarray, n: int) -> np.ndarray:
    """(T, n + 1) share of groups with k = 0..n correct at each appearance (groups of size n only)."""
    T = K.shape[1]
    H = np.zeros((T, n + 1))
    for t in range(T):
        k = K[N[:, t] == n, t]
        H[t] = np.bincount(k, minlength=n + 1)[: n + 1] / max(len(k), 1)
    return H


def curves(H: np.ndarray) -> dict[str, np.ndarray]:
    """Mean pass rate and shares of all-correct and all-wrong groups per appearance, from histograms."""
    n = H.shape[1] - 1
    return {"mean_pass": H @ (np.arange(n + 1) / n), "all_correct": H[:, n], "all_wrong": H[:, 0]}

