"""The plugin path, end to end: a third-party package installed by pip shows up in ``simbench list``,
runs in a scenario through ``simbench run`` and passes the shipped ``AllocatorContract``.

The package is a hand-built wheel (a zip with the standard ``.dist-info`` files), so no build backend
is needed, and pip installs it with ``--target`` into a directory of its own: the shared environment,
and other test runs in it, never see the plugin.  Every check runs in a subprocess with that directory
on ``PYTHONPATH``, so entry points are discovered exactly as they are for a user.
"""
from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from importlib.metadata import EntryPoint
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

from simbench import registry
from simbench.registry import PluginError

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
"""A third-party allocator: the same number of samples for every prompt, cut to the budget."""
from dataclasses import dataclass

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.roles import SampleAllocator


@dataclass(frozen=True)
class EvenParams:
    n: int = 4


@register
class Even(SampleAllocator):
    """Demo plugin: n samples for every prompt, fewer for all when the budget is short."""

    name = "demo_even"
    Params = EvenParams

    def allocate(self, view):
        if view.wave > 0:
            return np.zeros(view.n_slots, np.int64)
        k = self.params.n
        if view.n_slots and view.budget_left < k * view.cost.sum():
            k = int(view.budget_left // view.cost.sum())
        return np.full(view.n_slots, k, np.int64)
'''

CONTRACT = '''
from simbench.testing import AllocatorContract
from simbench_demo.alloc import Even, EvenParams


class TestEven(AllocatorContract):
    def make_allocator(self):
        return Even(EvenParams(n=3))
'''


def build_wheel(where: Path, dist: str, files: dict[str, str], entry_points: dict[str, str]) -> Path:
    """A valid wheel of ``files`` declaring ``entry_points`` (name -> value) in the ``simbench.plugins`` group."""
    info = f"{dist}-0.1.dist-info"
    eps = "[simbench.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: simbench-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": eps,
    }
    record = []
    for name, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    path = where / f"{dist}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in contents.items():
            z.writestr(name, text)
        z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def pip_install(wheel: Path, target: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-compile",
                           "--disable-pip-version-check", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert list(target.glob("*.dist-info/entry_points.txt")), "pip did not install the entry points"


def run(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)]), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("plugin")
    wheel = build_wheel(tmp, "simbench_demo", {"simbench_demo/__init__.py": "", "simbench_demo/alloc.py": PLUGIN},
                        {"demo": "simbench_demo.alloc:Even"})
    site = tmp / "site"
    pip_install(wheel, site)
    return site


def test_an_installed_plugin_is_listed(plugin_site, tmp_path):
    done = run(["-m", "simbench.cli", "list"], plugin_site, tmp_path)
    assert done.returncode == 0, done.stderr
    assert any(line.split()[:1] == ["demo_even"] for line in done.stdout.splitlines()), done.stdout


def test_an_installed_plugin_runs_in_a_scenario(plugin_site, tmp_path):
    scenario = {"name": "plugin", "seeds": 1, "population": {"train_prompts": 64, "test_prompts": 16},
                "engine": {"steps": 3, "batch_prompts": 8}, "budget": {"unit": "samples", "per_step": 20.0},
                "strategies": [{"allocator": {"kind": "demo_even", "n": 4}}, {"allocator": {"kind": "uniform", "n": 4}}]}
    path = tmp_path / "plugin.toml"
    path.write_text(tomli_w.dumps(scenario))
    done = run(["-m", "simbench.cli", "run", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"],
               plugin_site, tmp_path)
    assert done.returncode == 0, done.stderr
    rows = pd.read_parquet(tmp_path / "out" / "results.parquet")
    mine = rows[rows["allocator"] == "demo_even"]
    assert sorted(mine["step"]) == [0, 1, 2, 3]  # step 0: the evaluation before training
    # 8 prompts, 20 samples: the plugin's rule gives 2 each (the budget cuts n = 4), so 16 per step
    assert (mine.loc[mine["step"] >= 1, "samples"] == 16).all()


def test_an_installed_plugin_passes_the_allocator_contract(plugin_site, tmp_path):
    (tmp_path / "test_demo_contract.py").write_text(CONTRACT)
    done = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_demo_contract.py"], plugin_site, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    from simbench.testing import AllocatorContract

    n_tests = sum(1 for name in dir(AllocatorContract) if name.startswith("test_"))
    assert f"{n_tests} passed" in done.stdout, done.stdout


def test_a_broken_plugin_is_one_line_naming_its_entry_point(tmp_path):
    wheel = build_wheel(tmp_path, "simbench_broken", {"simbench_broken/__init__.py": "import no_such_module_here\n"},
                        {"broken": "simbench_broken:Thing"})
    site = tmp_path / "site"
    pip_install(wheel, site)
    done = run(["-m", "simbench.cli", "list"], site, tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "broken = simbench_broken:Thing" in lines[0] and "no_such_module_here" in lines[0]


def entry(value: str) -> EntryPoint:
    return EntryPoint(name="t", value=value, group=registry.PLUGIN_GROUP)


def test_an_entry_point_naming_an_unregistered_class_registers_it(monkeypatch):
    class Fresh(registry.get("allocator", "uniform")):
        name = "fresh_from_entry_point"

    monkeypatch.setitem(sys.modules, "fresh_plugin_module", type(sys)("fresh_plugin_module"))
    sys.modules["fresh_plugin_module"].Fresh = Fresh
    monkeypatch.setitem(registry._REGISTRY, "allocator", dict(registry._REGISTRY["allocator"]))
    registry.load_plugin(entry("fresh_plugin_module:Fresh"))
    assert registry._REGISTRY["allocator"]["fresh_from_entry_point"] is Fresh
    registry.load_plugin(entry("fresh_plugin_module:Fresh"))  # already there: loading again is a no-op
    registry.load_plugin(entry("fresh_plugin_module"))  # a module registers by its import alone


@pytest.mark.parametrize("value, cause", [
    ("os:getcwd", "neither a module nor a role class"),
    ("no_such_plugin_module:X", "ModuleNotFoundError"),
    ("os:no_such_attribute", "AttributeError"),
])
def test_an_entry_point_that_cannot_load_names_itself(value, cause):
    with pytest.raises(PluginError, match=cause) as err:
        registry.load_plugin(entry(value))
    assert f"t = {value}" in str(err.value) and "\n" not in str(err.value)


def test_an_entry_point_whose_name_is_taken_names_both(monkeypatch):
    class Impostor(registry.get("allocator", "uniform")):
        """Another class under a built-in's name."""

    monkeypatch.setitem(sys.modules, "impostor_module", type(sys)("impostor_module"))
    sys.modules["impostor_module"].Impostor = Impostor
    with pytest.raises(PluginError, match="'uniform' is taken"):
        registry.load_plugin(entry("impostor_module:Impostor"))
