"""What every role contract shares: the TOML round trip of parameters and a short run of the real engine."""
from __future__ import annotations

import math
import tomllib

import numpy as np
import tomli_w

from simbench.core.config import build, to_dict
from simbench.core.roles import Role

ENGINE_BUDGETS = ({"unit": "samples", "per_step": 200.0}, {"unit": "tokens", "per_step": 150_000.0})


class RoleContract:
    """Base of the role-family contracts: a family names its maker ``make_<role>`` and returns it from ``make_role``."""

    def make_role(self) -> Role:
        raise NotImplementedError

    def test_params_round_trip_through_toml(self):
        role = self.make_role()
        text = tomli_w.dumps(to_dict(role.params))
        assert build(type(role.params), tomllib.loads(text)) == role.params


def spec_of(role: Role) -> dict:
    """The scenario table that builds ``role``: its registered name and its parameters."""
    return {"kind": role.name, **to_dict(role.params)}


def run_engine(strategy: dict, steps: int = 4, batch: int = 16, extra: dict | None = None) -> list[list[dict]]:
    """Rows of one short engine run per budget unit of ``ENGINE_BUDGETS``, after checks that hold for any role.

    The engine itself checks shape, integers and budget of every allocation and the shape of every keep mask.
    """
    from simbench.worlds import parse_scenario
    from simbench.worlds.rl.engine import run_cell

    runs = []
    for budget in ENGINE_BUDGETS:
        data = {"name": "contract", "seeds": 1, "population": {"train_prompts": 96, "test_prompts": 32},
                "engine": {"steps": steps, "batch_prompts": batch}, "budget": budget,
                "strategies": [strategy], **(extra or {})}
        rows = run_cell(parse_scenario(data), 0, 0)
        assert [r["step"] for r in rows] == list(range(steps + 1)), "the run stopped early"
        unit = budget["unit"]
        for r in rows[1:]:
            assert r[unit] <= budget["per_step"], f"step {r['step']} spent {r[unit]} {unit}"
            assert 0 <= r["trained_samples"] <= r["samples"]
            assert math.isfinite(r["train_pass"]) and 0 <= r["train_pass"] <= 1
        runs.append(rows)
    return runs


def same_arrays(a, b, what: str) -> None:
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=what)
