"""Fixed costs: what ``simbench --version``, ``--help`` and ``list`` load, and the BLAS threads of simbench's processes.

Start-up is checked by the modules a fresh interpreter holds after the command (machine-independent),
never by wall time.
"""
from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

import simbench.commands
from simbench import cli
from simbench.core import runner
from simbench.core.config import ConfigError
from simbench.core.threads import ENV, LOAD_TIME_VARS, blas_limit, blas_threads

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("cvxpy", "matplotlib", "pandas", "pyarrow", "ray")
NUMERIC = ("numpy", "scipy", "numba")

PROBE = """
import contextlib, io, json, sys
from simbench import cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = cli.main(sys.argv[1:])
print(json.dumps({"status": status, "out": out.getvalue(), "modules": sorted(m for m in sys.modules if "." not in m)}))
"""


def probe(*argv: str) -> dict:
    """Run ``simbench ARGV`` in a fresh interpreter; its exit status, output and the top-level modules it loaded."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_load_no_numerics(argv):
    got = probe(*argv)
    assert got["status"] == 0
    loaded = [m for m in (*HEAVY, *NUMERIC) if m in got["modules"]]
    assert loaded == [], f"simbench {' '.join(argv)} imported {loaded}"


def test_help_lists_every_command():
    got = probe("--help")
    for name, line in cli.COMMANDS.items():
        assert name in got["out"] and " ".join(line.split()[:4]) in " ".join(got["out"].split())


def test_list_loads_the_registries_but_no_solver_plotting_or_dataframes():
    got = probe("list")
    assert got["status"] == 0
    assert [m for m in HEAVY if m in got["modules"]] == []
    from simbench import registry  # the roles `list` must still show: every registered one, of every role

    for role in registry.ROLE_PACKAGES:
        for name in registry.registry(role):
            assert f"  {name} " in got["out"], f"simbench list lost the {role} {name!r}"


def test_the_command_table_is_every_command_module_with_its_own_help():
    modules = sorted(m.name for m in pkgutil.iter_modules(simbench.commands.__path__) if not m.name.startswith("_"))
    assert sorted(name.replace("-", "_") for name in cli.COMMANDS) == modules
    full = cli.build_parser()  # every command's real parser: the table's line is the one each module declares
    (sub,) = [a for a in full._actions if a.dest == "command"]
    declared = {a.dest: a.help for a in sub._choices_actions}
    assert declared == cli.COMMANDS


@pytest.mark.parametrize("argv, command", [(["run", "x.toml"], "run"), (["--blas-threads", "2", "list"], "list"),
                                           (["--blas-threads=2", "report", "d"], "report"), (["--version"], None),
                                           (["--blas-threads", "list"], None)])
def test_the_command_is_found_before_parsing(argv, command):
    assert cli._command_of(argv) == command


def test_an_abbreviated_top_level_option_is_refused_not_misread(capsys):
    assert cli.main(["--blas", "2", "list"]) == 2  # not --blas-threads 2: "--blas" is unknown, so "2" is the command
    assert "invalid choice: '2'" in capsys.readouterr().err


def test_a_command_help_still_shows_its_options(capsys):
    assert cli.main(["run", "--help"]) == 0
    assert "--workers" in capsys.readouterr().out


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_every_command_has_a_working_help(name, capsys):
    assert cli.main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: simbench {name}") and ("--svg" in out) == (name in cli.REPORTING)


# -- BLAS threads ------------------------------------------------------------------------------------------------------------

def blas_report() -> dict:
    """In a worker: the thread counts of its BLAS libraries, after loading one more (scipy's, loaded after the limit)."""
    import scipy.linalg  # noqa: F401 (scipy's own OpenBLAS: loaded only now, it must obey the limit too)

    return {"threads": sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}),
            "env": {var: os.environ.get(var) for var in (ENV, *LOAD_TIME_VARS)}}


def test_a_worker_runs_with_one_blas_thread(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with runner.worker_pool(1, blas_threads()) as pool:
        got = pool.submit(blas_report).result(timeout=300)
    assert got["threads"] == [1]
    assert got["env"][ENV] == "1" and all(got["env"][v] == "1" for v in LOAD_TIME_VARS)


def test_a_worker_takes_the_users_thread_count():
    with runner.worker_pool(1, 3) as pool:
        got = pool.submit(blas_report).result(timeout=300)
    assert got["env"] == {var: "3" for var in (ENV, *LOAD_TIME_VARS)}


def test_single_worker_runs_limit_the_main_process_and_restore_it(monkeypatch):
    for var in (ENV, *LOAD_TIME_VARS):
        monkeypatch.delenv(var, raising=False)
    import numpy  # noqa: F401 (its BLAS is loaded: the limit applies to it at once)

    with blas_limit(blas_threads()):
        inside = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
        assert os.environ[ENV] == "1"
    assert inside == {1}
    assert all(var not in os.environ for var in (ENV, *LOAD_TIME_VARS))


def test_the_thread_count_comes_from_the_option_else_the_environment(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert blas_threads() == 1
    monkeypatch.setenv(ENV, "4")
    assert blas_threads() == 4 and blas_threads(2) == 2 and blas_threads(0) == 0


@pytest.mark.parametrize("text", ["two", "-1", "1.5"])
def test_a_bad_thread_count_in_the_environment_is_named(monkeypatch, text):
    monkeypatch.setenv(ENV, text)
    with pytest.raises(ConfigError) as err:
        blas_threads()
    assert ENV in str(err.value) and repr(text) in str(err.value) and "integer >= 0" in str(err.value)


def test_a_bad_thread_count_on_the_command_line_is_one_line(capsys):
    assert cli.main(["--blas-threads", "-1", "list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--blas-threads" in err and "-1" in err


@pytest.mark.parametrize("argv", [["--blas-threads", "2", "run", "x.toml"], ["--blas-threads=2", "run", "x.toml"], ["run", "x.toml"]])
def test_the_manifest_records_the_command_after_top_level_options(monkeypatch, argv):
    from simbench.core.store import command_line

    monkeypatch.setattr(sys, "argv", ["simbench", *argv])
    assert command_line("run") == "simbench " + " ".join(argv)
    assert command_line("sweep") == ""


@pytest.mark.parametrize("name", cli.REPORTING)
def test_every_command_that_writes_a_report_takes_svg(name):
    argv = [name, "x", "--svg"]  # each takes one positional: a scenario, a log or a directory
    assert cli.build_parser(argv).parse_args(argv).svg is True
    assert cli.build_parser(argv[:2]).parse_args(argv[:2]).svg is False


def test_commands_that_write_no_report_refuse_svg(capsys):
    assert cli.main(["list", "--svg"]) == 2
    assert "--svg" in capsys.readouterr().err
