"""The engine gives bit-identical results to those it gave before its per-step overhead was cut.

``tests/data/engine_golden.parquet`` was produced by the engine as it was
before (see ``tests/engine_golden.py``: every allocator, selector, downsampler
and advantage estimator, samples and token budgets, the format gate, the KL
pull, groups).  Bit-identical for the same package versions and the same
floating-point results of numpy's matrix-vector product, exp and sums; the
comparison is skipped, naming what differs, elsewhere.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest
from engine_golden import FIXTURE, environment, results


@pytest.fixture(scope="module")
def golden():
    made = json.loads(FIXTURE.with_suffix(".json").read_text())
    here = environment()
    differ = {k: (made.get(k), here.get(k)) for k in made if made.get(k) != here.get(k)}
    if differ:
        pytest.skip(f"{FIXTURE.name} was made under {differ} (made, here): regenerate it with tests/engine_golden.py to compare")
    return pd.read_parquet(FIXTURE)


def test_results_are_bit_identical_to_the_golden_ones(golden):
    fresh = results()
    # the one new column: which step's policy the pool-wide pass rates measure (every step by default)
    assert (fresh.pop("eval_step") == fresh["step"]).all()
    assert list(fresh.columns) == list(golden.columns)
    pd.testing.assert_frame_equal(fresh, golden, check_exact=True)


def test_the_golden_scenarios_cover_every_role_and_path(golden):
    """The fixture exercises what a faster engine must keep: every built-in role, multi-wave steps, budgets that bind."""
    from engine_golden import SCENARIOS

    import simbench.registry as registry
    from simbench.worlds import parse_scenario
    from simbench.worlds.rl.scenario import build_roles

    used = {role: set() for role in ("selector", "allocator", "downsampler", "advantage")}
    for data in SCENARIOS:
        sc = parse_scenario(data)
        for strat in sc.strategies:
            for role in build_roles(strat, sc.trainer):
                used[role.role].add(role.name)
    for role, names in used.items():
        builtin = {n for n, cls in registry.registry(role).items() if cls.__module__.startswith("simbench.")}
        assert names == builtin, role
    assert golden["waves"].max() >= 4
    tokens = golden[golden["scenario"] == "golden_tokens"]
    assert tokens["cum_tokens"].max() <= 330000 < tokens["cum_tokens"].max() + tokens["tokens"].max()
