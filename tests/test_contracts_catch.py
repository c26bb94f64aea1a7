"""The contracts can fail: a role that breaks an invariant of its family is caught by the contract's test.

Also: ``import simbench.testing`` works without hypothesis, and a property test then says how to get it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis.errors import Flaky

from simbench.registry import get
from simbench.testing import AdvantageContract, CollectorContract, DownsamplerContract, LogFormatContract, SelectorContract

ROOT = Path(__file__).resolve().parents[1]
EpochShuffle, KeepAll, GRPO, Equal = (get("selector", "epoch_shuffle"), get("downsampler", "keep_all"),
                                      get("advantage", "grpo"), get("collector", "equal"))


class OneTooMany(EpochShuffle):
    def select(self, k, view):
        return np.append(super().select(k, view), 0)


class Greedy(Equal):
    def plan(self, state):
        return super().plan(state) + 1  # one more of every group: over the batch or the budget


class Touchy(KeepAll):
    def keep(self, view):
        view.sample_reward[:] = 1  # "fixes" the rewards it was shown
        return super().keep(view)


class Offset(GRPO):
    def advantages(self, view, keep):
        return np.where(keep, super().advantages(view, keep) + 0.5, 0.0)  # a constant shift: zero-variance groups move


class Seedless(KeepAll):
    def keep(self, view):
        return np.random.default_rng().random(len(view.sample_slot)) < 0.5  # fresh entropy: not reproducible


def contract(base, maker, role_cls):
    return type("T", (base,), {maker: lambda self: role_cls()})()


@pytest.mark.parametrize("case, test", [
    (lambda: contract(SelectorContract, "make_selector", OneTooMany), "test_returns_k_prompts_of_the_pool"),
    (lambda: contract(CollectorContract, "make_collector", Greedy), "test_plans_are_integers_within_batch_and_budget"),
    (lambda: contract(DownsamplerContract, "make_downsampler", Touchy), "test_inputs_not_mutated"),
    (lambda: contract(DownsamplerContract, "make_downsampler", Seedless), "test_same_seed_same_output"),
    (lambda: contract(AdvantageContract, "make_advantage", Offset), "test_zero_variance_groups_get_zero"),
], ids=["selector-count", "collector-budget", "downsampler-mutates", "downsampler-seed", "advantage-zero-variance"])
def test_a_broken_role_fails_its_contract(case, test):
    fails_with_assertions(lambda: getattr(case(), test)())


def fails_with_assertions(run) -> None:
    """``run`` fails by assertions only (hypothesis groups distinct failures into an ExceptionGroup; an
    older hypothesis reports a failure that does not repeat, a nondeterministic role's, as ``Flaky`` caused by it)."""
    with pytest.raises((AssertionError, ExceptionGroup, Flaky)) as err:
        run()
    if isinstance(err.value, ExceptionGroup):
        assert err.value.split(AssertionError)[1] is None, err.value.exceptions
    elif isinstance(err.value, Flaky):
        assert isinstance(err.value.__cause__, AssertionError), err.value


class LosesTheLastGroup(LogFormatContract):
    format = "table"
    carries_tokens = carries_groups = False  # only step, prompt and reward are mapped: the lost group is the one fault

    def write(self, records, folder):
        path = folder / "log.csv"
        last = (records["step"] == records["step"].iloc[-1]) & (records["prompt"] == records["prompt"].iloc[-1])
        (records[~last] if len(records) and not last.all() else records).to_csv(path, index=False)
        return path, {}


def test_a_lossy_log_writer_fails_the_round_trip():
    contract = LosesTheLastGroup()
    with pytest.raises(AssertionError):  # one chosen example (hypothesis takes seconds to shrink a failing read)
        contract.test_round_trip_to_the_canonical_table.check(contract, seed=0, steps=2, prompts=2, n=2)
    contract.test_round_trip_to_the_canonical_table.check(contract, seed=0, steps=1, prompts=1, n=2)  # one group: nothing lost


BLOCK = """
import sys

class NoHypothesis:
    def find_spec(self, name, path=None, target=None):
        if name == "hypothesis" or name.startswith("hypothesis."):
            raise ImportError("hypothesis is blocked for this test")

sys.meta_path.insert(0, NoHypothesis())
import simbench.testing
from simbench.registry import get
from simbench.testing import AllocatorContract

class T(AllocatorContract):
    def make_allocator(self):
        return get("allocator", "uniform")()

T().test_params_round_trip_through_toml()  # a plain invariant runs
try:
    T().test_same_seed_same_output()
except ImportError as err:
    print("ImportError:", err)
print("hypothesis imported:", "hypothesis" in sys.modules)
"""


def test_simbench_testing_imports_without_hypothesis():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", BLOCK], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert "ImportError: the property tests of simbench.testing need hypothesis: pip install 'simbench[testing]'" in done.stdout
    assert "hypothesis imported: False" in done.stdout
