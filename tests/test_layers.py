"""The architecture declared in pyproject.toml ([tool.importlinter]) holds: layers, independent worlds, no cycles."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    """Run ``lint-imports`` (the test extra installs it) on this checkout, not on an installed copy."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([exe, "--no-cache", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_every_import_contract_is_kept():
    run = lint_imports()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
    for contract in ("Layers: command line", "No world imports another", "No import cycles"):
        assert contract in run.stdout  # the contracts ran, not an empty configuration


def test_a_broken_contract_fails(tmp_path):
    """The same tool on a contract the code breaks (the shared basics above the commands) must fail, naming the import."""
    config = tmp_path / "broken.toml"
    config.write_text('[tool.importlinter]\nroot_package = "simbench"\n\n[[tool.importlinter.contracts]]\n'
                      'name = "upside down"\ntype = "layers"\nlayers = ["simbench.core.config", "simbench.commands"]\n')
    run = lint_imports("--config", str(config))
    assert run.returncode != 0
    assert "upside down BROKEN" in run.stdout
    assert "simbench.commands" in run.stdout and "simbench.core.config" in run.stdout
