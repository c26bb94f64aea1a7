"""The contracts of the inference world's roles: allocators (``InferenceAllocatorContract``) and pickers (``PickerContract``).

Both run the real engine on small random query sets (Beta pass rates, every verifier, both budget units) and check:
the budget and the per-query cap are never exceeded (the engine raises ``AllocatorError`` on any allocation that is
not one non-negative integer per query within them, and the contract re-checks what was spent), the same seed gives
the same run, reordering the queries reorders the outcome (each query keeps its tape key, so an order-free role gives
exactly the permuted result), parameters round-trip through TOML, and the role runs from a scenario file.
"""
from __future__ import annotations

import numpy as np

from simbench.testing._common import RoleContract, same_arrays, spec_of
from simbench.testing._property import SEED, property_test

UNITS = ("samples", "tokens")
VERIFIERS = ("oracle", "binary", "rm")


def scenario(seed: int = 0, unit: str = "samples", verifier: str = "oracle", n_queries: int = 40, answers: str = "dirichlet",
             max_per_query: int = 0, per_query: float | None = None, strategy: dict | None = None):
    """A small inference scenario (Beta(0.5, 0.8) pass rates, short responses) for contract runs."""
    from simbench.worlds import parse_scenario

    budget = per_query if per_query is not None else (8.0 if unit == "samples" else 8 * 120.0)
    data = {"world": "inference", "name": "contract", "seed": seed, "seeds": 1,
            "queries": {"n_queries": n_queries, "pass_rate": {"kind": "beta", "a": 0.5, "b": 0.8},
                        "lengths": {"mean": 120.0, "max": 1024}},
            "answers": {"model": answers}, "verifier": {"kind": verifier},
            "budget": {"unit": unit, "per_query": [budget], "max_per_query": max_per_query},
            "strategies": [strategy or {"allocator": "uniform"}]}
    return parse_scenario(data)


def run_once(sc, allocator, picker, seed: int = 0, perm=None):
    """One engine run on the scenario's queries of ``seed`` (optionally reordered by ``perm``); (outcome, queries, total)."""
    from simbench.worlds.inference.engine import run
    from simbench.worlds.inference.tape import make_queries

    queries = make_queries(sc, sc.cell_seed(seed))
    if perm is not None:
        queries = queries.subset(perm)
    total = sc.budget.per_query[0] * len(queries)
    return run(queries, sc, allocator, picker, total), queries, total


def check_outcome(out, sc, total: float) -> None:
    """What holds after any run: integer non-negative samples, the budget and the cap kept, answers drawn or abstained."""
    assert np.issubdtype(out.samples.dtype, np.integer) and (out.samples >= 0).all(), "samples per query are not non-negative integers"
    spent = out.samples.sum() if sc.budget.unit == "samples" else out.tokens.sum()
    assert spent <= total + 1e-9, f"spent {spent} {sc.budget.unit} of a budget of {total}"
    if sc.budget.max_per_query:
        assert out.samples.max() <= sc.budget.max_per_query, "a query got more than budget.max_per_query samples"
    rec = out.record
    for q in range(len(out.answer)):
        assert out.answer[q] == -1 or out.answer[q] in rec.answer[q, :rec.n[q]], f"query {q}'s answer was never sampled"


class _InferenceRoleContract(RoleContract):
    permutation_equivariant = True

    def allocator_and_picker(self):
        raise NotImplementedError

    def strategy(self) -> dict:
        allocator, picker = self.allocator_and_picker()
        return {"allocator": spec_of(allocator), "picker": spec_of(picker)}

    @property_test(max_examples=15, seed=SEED, unit=lambda st: st.sampled_from(UNITS), verifier=lambda st: st.sampled_from(VERIFIERS),
                   budget=lambda st: st.integers(1, 40), cap=lambda st: st.sampled_from((0, 3, 50)))
    def test_budget_and_cap_are_kept(self, seed, unit, verifier, budget, cap):
        sc = scenario(seed % 1000, unit, verifier, per_query=float(budget if unit == "samples" else budget * 120), max_per_query=cap)
        out, _, total = run_once(sc, *self.allocator_and_picker())
        check_outcome(out, sc, total)

    @property_test(max_examples=8, seed=SEED, verifier=lambda st: st.sampled_from(VERIFIERS))
    def test_same_seed_same_run(self, seed, verifier):
        sc = scenario(seed % 1000, verifier=verifier)
        a, _, _ = run_once(sc, *self.allocator_and_picker())
        b, _, _ = run_once(sc, *self.allocator_and_picker())
        for f in ("answer", "samples", "tokens", "latency"):
            same_arrays(getattr(a, f), getattr(b, f), f)

    @property_test(max_examples=8, seed=SEED, verifier=lambda st: st.sampled_from(VERIFIERS))
    def test_permutation_equivariant(self, seed, verifier):
        if not self.permutation_equivariant:
            return
        sc = scenario(seed % 1000, verifier=verifier, n_queries=24)
        perm = np.random.default_rng(seed).permutation(24)
        a, _, _ = run_once(sc, *self.allocator_and_picker())
        b, _, _ = run_once(sc, *self.allocator_and_picker(), perm=perm)
        for f in ("answer", "samples", "tokens", "latency"):
            same_arrays(getattr(b, f), getattr(a, f)[perm], f"{f} of the reordered queries")

    def test_runs_from_a_scenario(self):
        from simbench.worlds.inference.world import run_unit

        sc = scenario(strategy=self.strategy())
        rows = run_unit(sc, 0, 0)
        assert len(rows) == 1 and 0 <= rows[0]["accuracy"] <= 1 and rows[0]["samples"] <= sc.budget.per_query[0] * sc.queries.n_queries


class InferenceAllocatorContract(_InferenceRoleContract):
    """Subclass and define ``make_inference_allocator``; it is run with its reference picker."""

    def make_inference_allocator(self):
        raise NotImplementedError

    def make_role(self):
        return self.make_inference_allocator()

    def allocator_and_picker(self):
        import simbench.registry as registry

        allocator = self.make_inference_allocator()
        return allocator, registry.make("picker", allocator.default_picker)

    def test_spends_something(self):
        out, _, _ = run_once(scenario(), *self.allocator_and_picker())
        assert out.samples.sum() > 0, "no sample was drawn with budget left"


class PickerContract(_InferenceRoleContract):
    """Subclass and define ``make_picker``; it is run after uniform sampling."""

    def make_picker(self):
        raise NotImplementedError

    def make_role(self):
        return self.make_picker()

    def allocator_and_picker(self):
        import simbench.registry as registry

        return registry.make("inference_allocator", "uniform"), self.make_picker()

    def test_abstains_without_samples(self):
        from simbench.worlds.inference.roles import View

        Q = 5
        z = np.zeros((Q, 0))
        view = View(0, np.zeros(Q, np.int64), z.astype(np.int64), z.astype(np.int64), z.astype(bool), z, "samples", 0.0, 0.0,
                    1.0, 0, np.arange(Q, dtype=np.uint64), None, np.full(Q, 0.5))
        same_arrays(np.asarray(self.make_picker().pick(view)), np.full(Q, -1), "answers with no sample")
