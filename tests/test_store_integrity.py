"""Nothing stale, nothing lost: identity by file contents, the lock, signals, unreadable units.

Signal and lock tests start the real CLI in subprocesses and inspect processes through /proc.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from foundation_helpers import two_strategies as tiny

from simbench.cli import main
from simbench.core.config import ConfigError
from simbench.core.paths import bundled_scenarios
from simbench.core.runner import run_unit
from simbench.core.store import Store, StoreBusy, load, lock
from simbench.core.sweep import load_sweep
from simbench.worlds import load_scenario

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
LINUX_PROC = Path("/proc/self/stat").exists()


def write(path: Path, data: dict) -> Path:
    path.write_text(tomli_w.dumps(data))
    return path


def write_rates(path: Path, low: float, high: float, n: int = 64) -> None:
    path.write_text("p\n" + "".join(f"{low + (high - low) * i / (n - 1):.4f}\n" for i in range(n)))


def one_line_error(err: str) -> str:
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("simbench: error: "), err
    return err


# --- identity by content ---------------------------------------------------------------------------------


def table_scenario(tmp_path: Path, **extra) -> Path:
    write_rates(tmp_path / "rates.csv", 0.02, 0.3)
    population = {"train_prompts": 64, "test_prompts": 32, "pass_rate": {"kind": "table", "path": "rates.csv"}}
    return write(tmp_path / "s.toml", tiny(population=population, **extra))


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_an_edited_table_is_a_changed_scenario_refused_unless_force(tmp_path, capsys, command):
    sweep = {"sweep": {"grid": {"learner.lr_shared": [0.01, 0.02]}}} if command == "sweep" else {}
    path = table_scenario(tmp_path, **sweep)
    out = tmp_path / "out"
    assert main([command, str(path), "--out", str(out), "--quiet"]) == 0
    before = load(out)
    write_rates(tmp_path / "rates.csv", 0.9, 1.0)  # same path, new contents
    capsys.readouterr()
    assert main([command, str(path), "--out", str(out), "--quiet"]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert "different scenario" in err and str((tmp_path / "rates.csv").resolve()) in err and "--force" in err
    assert main([command, str(path), "--out", str(out), "--quiet", "--force"]) == 0
    assert "(0 already done" in capsys.readouterr().out
    fresh = tmp_path / "fresh"
    assert main([command, str(path), "--out", str(fresh), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), pd.read_parquet(fresh / "results.parquet"))
    assert load(out)["test_pass"].iloc[0] > before["test_pass"].iloc[0]  # the new table is easier: really recomputed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == {str((tmp_path / "rates.csv").resolve()):
                                 hashlib.sha256((tmp_path / "rates.csv").read_bytes()).hexdigest()}


def test_table_contents_enter_the_store_identity_but_not_the_seed(tmp_path):
    path = table_scenario(tmp_path)
    a = load_scenario(path)
    write_rates(tmp_path / "rates.csv", 0.5, 0.6)
    b = load_scenario(path)
    assert a.canonical_hash() != b.canonical_hash()
    assert a.world_hash() == b.world_hash()
    assert a.cell_seed(1).entropy == b.cell_seed(1).entropy
    (tmp_path / "rates.csv").touch()  # a new modification time, same bytes: same identity
    assert load_scenario(path).canonical_hash() == b.canonical_hash()


def test_scenarios_without_files_keep_their_hash():
    """The store identity of every bundled scenario is the plain hash of its parameters, as before files counted."""
    def plain(sc):
        return hashlib.sha256(json.dumps(sc.to_dict(), sort_keys=True, default=str).encode()).hexdigest()

    for p in bundled_scenarios():
        if "[sweep]" in p.read_text():
            cells, study = load_sweep(p)
            blob = json.dumps([plain(c.scenario) for c in cells] + [c.id for c in cells]).encode()
            assert study == hashlib.sha256(blob).hexdigest(), p
        else:
            sc = load_scenario(p)
            assert sc.files() == {} and sc.canonical_hash() == plain(sc), p


def test_a_table_edited_during_a_run_stops_the_next_unit(tmp_path):
    sc = load_scenario(table_scenario(tmp_path))
    assert run_unit(sc, 0, 0, {})  # as loaded: runs
    write_rates(tmp_path / "rates.csv", 0.9, 1.0)
    with pytest.raises(ConfigError) as err:
        run_unit(sc, 0, 1, {})
    assert err.value.where == "population.pass_rate.path" and "rates.csv" in str(err.value)


# --- unreadable unit files and --repair ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_truncated_and_empty_units_are_named_and_repair_recomputes_them(tmp_path, capsys, command):
    data = tiny()
    if command == "sweep":
        data["sweep"] = {"grid": {"learner.lr_shared": [0.01, 0.02]}}
    path = write(tmp_path / "s.toml", data)
    out = tmp_path / "out"
    assert main([command, str(path), "--out", str(out), "--quiet"]) == 0
    good = pd.read_parquet(out / "results.parquet")
    units = sorted((out / "units").glob("*.parquet"))
    truncated, empty = units[0], units[-1]
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    empty.write_bytes(b"")
    capsys.readouterr()
    assert main([command, str(path), "--out", str(out), "--quiet"]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert truncated.name in err and empty.name in err and "--repair" in err
    assert main(["report", str(out)]) == 2  # reading the store names the file too
    err = one_line_error(capsys.readouterr().err)
    assert truncated.name in err and "--repair" in err
    assert main([command, str(path), "--out", str(out), "--quiet", "--repair"]) == 0
    captured = capsys.readouterr()
    assert truncated.name in captured.err and empty.name in captured.err
    assert f"({len(units) - 2} already done" in captured.out
    pd.testing.assert_frame_equal(good, pd.read_parquet(out / "results.parquet"))


def test_a_corrupt_manifest_is_an_error_and_force_starts_over(tmp_path, capsys):
    path = write(tmp_path / "s.toml", tiny())
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    (out / "manifest.json").write_text('{"scenario_hash": ')
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert "manifest.json" in err and "--force" in err
    assert main(["run", str(path), "--out", str(out), "--quiet", "--force"]) == 0
    assert "(0 already done" in capsys.readouterr().out


# --- the lock ----------------------------------------------------------------------------------------------------


def test_one_process_at_a_time_and_the_lock_is_released_on_close(tmp_path):
    with Store(tmp_path, "h"):
        with pytest.raises(StoreBusy, match=f"pid {os.getpid()}"):
            Store(tmp_path, "h")
    with Store(tmp_path, "h"):  # released by close
        pass


def test_a_second_run_on_the_same_out_is_refused_while_the_first_runs(tmp_path):
    path = write(tmp_path / "s.toml", tiny(steps=1500, seeds=2))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "simbench.cli", "run", str(path), "--out", str(out), "--quiet"]
    first = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not ((out / ".lock").exists() and f"pid {first.pid}," in (out / ".lock").read_text()):
            assert time.time() < deadline and first.poll() is None, "the first run never took the lock"
            time.sleep(0.05)
        second = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "the first run finished too early for this test to mean anything"
        assert second.returncode == 2
        err = one_line_error(second.stderr)
        assert f"pid {first.pid}," in err and str(out) in err and "--out" in err
    finally:
        first.kill()
        first.wait()
    with lock(out):  # the OS released the lock of the killed run: no stale lock to clean up
        pass


# --- signals ---------------------------------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    kids = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids |= {int(c) for c in (task / "children").read_text().split()}
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie is dead: only its exit status is left


def _gone(pids, seconds: float = 10.0) -> bool:
    deadline = time.time() + seconds
    while any(_alive(p) for p in pids):
        if time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture(scope="module")
def signal_reference(tmp_path_factory):
    """An uninterrupted run of the scenario the signal tests interrupt."""
    tmp = tmp_path_factory.mktemp("signals")
    path = write(tmp / "s.toml", tiny(steps=400, seeds=4))
    assert main(["run", str(path), "--out", str(tmp / "ref"), "--quiet"]) == 0
    return path, pd.read_parquet(tmp / "ref" / "results.parquet")


@pytest.mark.skipif(not LINUX_PROC, reason="inspects worker processes through /proc (Linux)")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL", "SIGINT to the process group"])
def test_workers_never_outlive_the_parent_and_the_run_resumes(tmp_path, signal_reference, capsys, how):
    path, reference = signal_reference
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "simbench.cli", "run", str(path), "--out", str(out), "--quiet", "--workers", "2"]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 120
        while not (out / "units").is_dir() or not list((out / "units").glob("*.parquet")):
            assert time.time() < deadline and proc.poll() is None, "no unit finished"
            time.sleep(0.02)
        workers = _children(proc.pid)
        assert len(workers) == 2
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        elif how == "SIGKILL":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        err = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _gone(workers), f"workers {[p for p in workers if _alive(p)]} outlived their parent"
    expected = {"SIGTERM": 143, "SIGKILL": -signal.SIGKILL, "SIGINT to the process group": 130}[how]
    assert proc.returncode == expected, err
    if how != "SIGKILL":
        assert "rerun the same command to resume" in err and "Traceback" not in err, err
    kept = {p.name: p.stat().st_mtime_ns for p in (out / "units").glob("*.parquet")}
    assert 1 <= len(kept) < 8, "the run must be interrupted part-way for this test to mean anything"
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(out), "--quiet", "--workers", "2"]) == 0
    assert f"({len(kept)} already done" in capsys.readouterr().out
    assert all((out / "units" / name).stat().st_mtime_ns == t for name, t in kept.items())  # not recomputed
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), reference)


@pytest.mark.skipif(not LINUX_PROC, reason="inspects processes through /proc (Linux)")
@pytest.mark.parametrize("use_prctl", [True, False], ids=["prctl", "watchdog"])
def test_a_process_guarded_by_die_with_parent_dies_when_its_parent_is_killed(use_prctl):
    script = (
        "import os, sys, time\n"
        "from simbench.core.runner import die_with_parent\n"
        "main = os.getpid()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        f"    die_with_parent(main, use_prctl={use_prctl})\n"
        "    os.write(1, b'armed\\n')\n"  # one write each: the two processes share stdout
        "    time.sleep(120)\n"
        "    os._exit(0)\n"
        "os.write(1, f'{child}\\n'.encode())\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        lines = {parent.stdout.readline().strip(), parent.stdout.readline().strip()}
        assert "armed" in lines
        child = int((lines - {"armed"}).pop())
        assert _alive(child)
    finally:
        parent.kill()
        parent.wait()
    assert _gone([child]), "the child outlived its parent"


def test_die_with_parent_exits_at_once_if_the_parent_is_already_gone():
    script = (
        "import subprocess, sys\n"
        "from simbench.core.runner import die_with_parent\n"
        "gone = subprocess.Popen([sys.executable, '-c', 'pass'])\n"
        "gone.wait()\n"
        "die_with_parent(gone.pid)\n"  # a parent that died before the guard was armed
        "print('still here')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "still here" not in done.stdout


def _session(sid: int) -> set[int]:
    """Live processes of session ``sid`` (Ray starts its workers in process groups of their own)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            out.add(int(stat.parent.name))
    return out


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:100].decode(errors="replace")
    except OSError:
        return "(exited)"


@pytest.mark.slow
@pytest.mark.skipif(not LINUX_PROC, reason="inspects processes through /proc (Linux)")
def test_sigterm_stops_a_ray_run_cleanly_and_leaves_no_process(tmp_path, signal_reference):
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    path, reference = signal_reference
    out = tmp_path / "out"
    # "local": a Ray instance of its own, never a cluster another program left running on this machine
    cmd = [sys.executable, "-m", "simbench.cli", "run", str(path), "--out", str(out), "--quiet", "--executor", "ray",
           "--address", "local"]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 180
        while not (out / "units").is_dir() or not list((out / "units").glob("*.parquet")):
            assert time.time() < deadline and proc.poll() is None, "no unit finished"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)  # ray.init installs a handler that exits at once; ours must win
        err = proc.communicate(timeout=120)[1]
        assert proc.returncode == 143 and "rerun the same command to resume" in err, err
        deadline = time.time() + 60  # ray.shutdown stops the local instance: raylet, GCS and workers
        while _session(proc.pid) and time.time() < deadline:
            time.sleep(0.2)
        left = {pid: _command(pid) for pid in _session(proc.pid)}
        assert not left, f"processes left: {left}"
    finally:
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)
    kept = len(list((out / "units").glob("*.parquet")))
    assert 1 <= kept < 8, f"{kept} units finished: the run must be interrupted part-way for this test to mean anything"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), reference)
