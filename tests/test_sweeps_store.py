"""Sweeps, the resumable store, executors and the HTML report."""
from __future__ import annotations

import os
import shutil
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
from simbench.commands.compare import compare
from simbench.core.config import ConfigError
from simbench.core.runner import run_scenario
from simbench.core.store import load, read_manifest
from simbench.core.sweep import expand
from simbench.worlds import parse_scenario
from simbench.worlds.rl.report import compare_values

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path, data, name="s.toml"):
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data))
    return path


def test_grid_and_zip_expand_to_the_right_cells():
    data = tiny(sweep={"grid": {"population.pass_rate.a": [0.2, 0.5], "strategies[1].allocator.n": [4, 8]},
                       "zip": {"learner.lr_shared": [0.01, 0.02], "learner.lr_prompt": [1.0, 2.0]}})
    cells, _ = expand(data)
    assert len(cells) == 2 * 2 * 2
    assert len({c.id for c in cells}) == 8
    for c in cells:
        sc = c.scenario
        assert sc.population.pass_rate.a == c.params["population.pass_rate.a"]
        assert sc.strategies[1].allocator["n"] == c.params["strategies[1].allocator.n"]
        assert (sc.learner.lr_shared, sc.learner.lr_prompt) in {(0.01, 1.0), (0.02, 2.0)}


@pytest.mark.parametrize("sweep, where", [
    ({"grid": {"population.nope": [1]}}, "population.nope"),
    ({"grid": {"strategies[5].allocator.n": [1]}}, "sweep.grid.strategies[5].allocator.n"),
    ({"grid": {"population.pass_rate.a": [-1.0]}}, "population.pass_rate.a"),
    ({"grid": {"population.pass_rate.a": []}}, "sweep.grid.population.pass_rate.a"),
    ({"zip": {"learner.lr_shared": [0.1], "learner.lr_prompt": [1.0, 2.0]}}, "sweep.zip"),
    ({"grd": {}}, "sweep.grd"),
])
def test_bad_sweeps_name_the_key(sweep, where):
    with pytest.raises(ConfigError) as err:
        expand(tiny(sweep=sweep), "file.toml")
    assert where in str(err.value) and "file.toml" in str(err.value)


def test_adding_a_grid_value_leaves_other_cells_unchanged(tmp_path):
    small = write(tmp_path, tiny(sweep={"grid": {"population.pass_rate.a": [0.3]}}), "small.toml")
    big = write(tmp_path, tiny(sweep={"grid": {"population.pass_rate.a": [0.3, 0.6]}}), "big.toml")
    assert main(["sweep", str(small), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert main(["sweep", str(big), "--out", str(tmp_path / "b"), "--quiet", "--workers", "2"]) == 0
    a = pd.read_parquet(tmp_path / "a" / "results.parquet")
    b = pd.read_parquet(tmp_path / "b" / "results.parquet")
    same = b[b["population.pass_rate.a"] == 0.3].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, same)
    assert (b["population.pass_rate.a"] == 0.6).any()
    assert (tmp_path / "b" / "report" / "index.html").exists()


def test_rerun_skips_finished_units_and_a_changed_scenario_is_refused(tmp_path, capsys):
    path = write(tmp_path, tiny())
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    first = pd.read_parquet(out / "results.parquet")
    stamp = {p.name: p.stat().st_mtime_ns for p in (out / "units").iterdir()}
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    assert "(4 already done" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in (out / "units").iterdir()} == stamp
    pd.testing.assert_frame_equal(first, pd.read_parquet(out / "results.parquet"))
    changed = write(tmp_path, tiny(steps=7), "changed.toml")
    assert main(["run", str(changed), "--out", str(out), "--quiet"]) == 2
    assert "different scenario" in capsys.readouterr().err
    assert main(["run", str(changed), "--out", str(out), "--quiet", "--force"]) == 0
    assert load(out)["step"].max() == 7


def test_kill_9_loses_only_units_in_flight_and_resume_gives_identical_results(tmp_path):
    path = write(tmp_path, tiny(steps=60, seeds=6))
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "simbench.cli", "run", str(path), "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "units").glob("*.parquet"))) < 2 if (out / "units").exists() else time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list((out / "units").glob("*.parquet")))
    assert 2 <= done_before < 12, "the run must be interrupted part-way for this test to mean anything"
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    ref = tmp_path / "ref"
    assert main(["run", str(path), "--out", str(ref), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), pd.read_parquet(ref / "results.parquet"))


@pytest.mark.slow
def test_ray_executor_matches_local_bit_for_bit():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    sc = parse_scenario(tiny(steps=5))
    local = run_scenario(sc, workers=2, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_scenario(sc, executor="ray", progress=False)
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(local, remote)


def test_compare_same_results_gives_zero_difference(tmp_path):
    path = write(tmp_path, tiny())
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    values, _, support = compare_values(tmp_path / "a", read_manifest(tmp_path / "a"), None)
    table = compare(values, values, support)
    assert (table["b_minus_a"] == 0).all() and (table["paired_seeds"] == 2).all()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "a")]) == 0


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (.ci/run installs Debian's chromium package)")
def test_html_report_renders_every_figure_and_table_in_headless_chromium(tmp_path):
    path = write(tmp_path, tiny(steps=8, seeds=3))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    page = out / "report" / "index.html"
    n_figures = page.read_text().count("<img ")
    n_tables = page.read_text().count("<table")
    assert n_figures >= 5 and n_tables >= 3
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    import re

    check = re.search(r'id="render-check"[^>]*', dom)
    assert check, "the page's render check did not run"
    attrs = dict(re.findall(r'data-(\w+)="(\d+)"', check.group(0)))
    assert int(attrs["images"]) == n_figures
    assert int(attrs["rendered"]) == n_figures, f"only {attrs['rendered']} of {n_figures} figures rendered"
    assert int(attrs["tables"]) == n_tables


def test_thinning_keeps_first_and_last_rows_and_at_most_the_limit():
    from simbench.core.store import thin_rows

    df = pd.DataFrame({"step": range(10_001)})
    thin = thin_rows(df, 1000)
    assert len(thin) <= 1000 and thin["step"].iloc[0] == 0 and thin["step"].iloc[-1] == 10_000
    assert thin_rows(df.head(50), 1000).equals(df.head(50))


def test_figures_are_png_by_default_and_svg_on_request_and_the_report_links_what_it_wrote(tmp_path, capsys):
    from test_reports import assert_links_are_files

    out = tmp_path / "out"
    assert main(["run", str(write(tmp_path, tiny())), "--out", str(out), "--quiet"]) == 0
    pngs = sorted(p.stem for p in (out / "report").glob("*.png"))
    assert pngs and not list((out / "report").glob("*.svg"))
    assert_links_are_files(out)
    assert main(["report", str(out), "--svg"]) == 0
    assert sorted(p.stem for p in (out / "report").glob("*.svg")) == pngs
    assert (out / "report.md").read_text().count(".svg)") == len(pngs)
    assert_links_are_files(out)
    assert main(["report", str(out)]) == 0  # PNG only again: the SVGs of the earlier report go, with their links
    assert not list((out / "report").glob("*.svg")) and ".svg" not in (out / "report.md").read_text()
    assert_links_are_files(out)


def test_the_same_results_give_byte_identical_figures(tmp_path):
    path = write(tmp_path, tiny())
    for d in ("a", "b"):
        assert main(["run", str(path), "--out", str(tmp_path / d), "--quiet", "--svg"]) == 0
    figures = sorted(p.name for p in (tmp_path / "a" / "report").iterdir() if p.suffix in (".png", ".svg"))
    assert len(figures) >= 10
    for name in figures:
        assert (tmp_path / "a" / "report" / name).read_bytes() == (tmp_path / "b" / "report" / name).read_bytes(), name
