"""Every registered role, of every family, and every replay log format has a contract test in tests/.

A role without one fails here, naming the role and the contract to subclass.  The contract subclasses
are found by importing the test modules (as pytest does, by their file names) and asking each subclass
which class its ``make_*`` method builds.
"""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from simbench import registry
from simbench.testing import CONTRACTS, LogFormatContract
from simbench.worlds.replay.readers import FORMATS

TESTS = Path(__file__).resolve().parent


def modules_of_tests() -> list:
    return [importlib.import_module(p.stem) for p in sorted(TESTS.glob("test_*.py"))]


def subclasses(base: type) -> list[type]:
    """Concrete subclasses of ``base`` defined in the test modules."""
    names = {m.__name__ for m in modules_of_tests()}
    found, todo = [], list(base.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__ in names:
            found.append(cls)
    return found


def covered(role: str) -> set[type]:
    """The role classes the contract tests of ``role`` build."""
    return {type(cls().make_role()) for cls in subclasses(CONTRACTS[role])}


def uncovered(role: str) -> list[str]:
    have = covered(role)
    return [f"{role} '{name}' ({cls.__module__}.{cls.__qualname__})" for name, cls in registry.registry(role).items()
            if cls not in have]


@pytest.mark.parametrize("role", sorted(CONTRACTS))
def test_every_registered_role_has_a_contract_test(role):
    missing = uncovered(role)
    assert not missing, f"no contract test for {', '.join(missing)}: subclass {CONTRACTS[role].__name__} in tests/"


def test_every_log_format_has_a_contract_test():
    have = {cls.format for cls in subclasses(LogFormatContract)}
    assert set(FORMATS) <= have, f"no contract test for log formats {sorted(set(FORMATS) - have)}: subclass LogFormatContract"


def test_a_role_without_a_contract_test_is_named(monkeypatch):
    """The check can fail: a newly registered downsampler with no subclass of DownsamplerContract is reported."""
    keep_all = registry.get("downsampler", "keep_all")

    class Unchecked(keep_all):
        """A downsampler nobody tested."""

        name = "unchecked_for_the_registry_test"

    monkeypatch.setitem(registry._REGISTRY, "downsampler", {**registry._REGISTRY["downsampler"], Unchecked.name: Unchecked})
    assert uncovered("downsampler") == [f"downsampler 'unchecked_for_the_registry_test' ({__name__}.{Unchecked.__qualname__})"]


def test_threads_asking_at_once_all_see_the_whole_registry():
    """A thread must wait for another's first load, not run on with a partial registry (calibration uses threads)."""
    code = """
import threading
from simbench import registry
barrier, seen = threading.Barrier(4), []
def ask():
    barrier.wait()
    seen.append({role: len(registry.registry(role)) for role in registry.ROLE_PACKAGES})
threads = [threading.Thread(target=ask) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(seen == [seen[-1]] * 4 and all(seen[-1].values()), seen)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("True"), out
