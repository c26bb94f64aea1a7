"""``simbench report`` and ``compare`` on the output of every bundled scenario, of replay and of validate."""
from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

from simbench.cli import main
from simbench.core.paths import REPO_ROOT, bundled_scenarios
from simbench.core.report.tables import format_value


def shortened(path: Path, tmp_path: Path) -> tuple[Path, dict]:
    """A bundled scenario cut to 2 seeds and a few steps on a small population (or a small budget)."""
    data = tomllib.loads(path.read_text())
    data["seeds"] = 2
    if data.get("world") == "equitable":
        data["genetics"].update(snps=100, causal=20, test_size=300)
        data["budget"].update(total=1200.0, batch=400)
    elif data.get("world") == "inference":
        data["queries"].update(n_queries=60)
    else:
        data["population"].update(train_prompts=64, test_prompts=32)
        data["engine"].update(steps=6, batch_prompts=8)
    out = tmp_path / path.name
    out.write_text(tomli_w.dumps(data))
    return out, data


def tables_of(md: str) -> dict[str, list[dict[str, str]]]:
    """The Markdown tables of a report by caption, as rows of cells."""
    out = {}
    for caption, body in re.findall(r"^## (.+)\n\n((?:\|.*\n?)+)", md, re.M):
        lines = [[c.strip() for c in line.strip().strip("|").split("|")] for line in body.strip().splitlines()]
        out[caption] = [dict(zip(lines[0], row)) for row in lines[2:]]
    return out


def report_files(out: Path) -> dict[str, bytes]:
    files = [out / "report.md", *sorted((out / "report").iterdir())] + ([out / "summary.csv"] if (out / "summary.csv").exists() else [])
    return {p.name: p.read_bytes() for p in files}


def assert_links_are_files(out: Path) -> None:
    """Every link of report.md (figures, SVGs) and of report/index.html names a file the report wrote; every SVG is linked."""
    md = (out / "report.md").read_text()
    html = (out / "report" / "index.html").read_text()
    targets = re.findall(r"\]\((report/[^)]+)\)", md)
    hrefs = re.findall(r'href="([^"#:]+)"', html)
    for target in targets:
        assert (out / target).is_file(), f"report.md links {target}, which was not written"
    for href in hrefs:
        assert (out / "report" / href).is_file(), f"index.html links {href}, which was not written"
    svgs = sorted(p.name for p in (out / "report").glob("*.svg"))
    assert svgs == sorted(t.split("/")[-1] for t in targets if t.endswith(".svg")) == sorted(hrefs)
    for svg in svgs:
        assert (out / "report" / svg).read_text().lstrip().startswith("<?xml")


def check_report(out: Path, capsys) -> dict[str, list[dict[str, str]]]:
    """``simbench report`` rewrites the same bytes; every figure exists; tables agree with summary.csv and each other."""
    before = report_files(out)
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    assert report_files(out) == before, "simbench report must rewrite exactly what the command wrote"
    md = (out / "report.md").read_text()
    names = re.findall(r"\]\(report/([^)]+)\.png\)", md)
    assert names
    for name in names:
        assert (out / "report" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_links_are_files(out)
    tables = tables_of(md)
    html = (out / "report" / "index.html").read_text()
    assert html.count("<table") == len(tables) == md.count("\n## ") and html.count("<img ") == len(names)
    # one name, one quantity: a column in several tables (and in summary.csv) has one value per row;
    # a row is keyed by its cell (a sweep's tables without one are the first cell's) and its first column
    manifest = json.loads((out / "manifest.json").read_text())
    first_cell = manifest["cells"][0]["id"] if manifest.get("swept") else None
    summary = pd.read_csv(out / "summary.csv") if (out / "summary.csv").exists() else None
    seen: dict[tuple, str] = {}
    for caption, rows in tables.items():
        for row in rows:
            cell, name = row.get("cell", first_cell), row.get("allocator", next(iter(row.values())))
            for col, value in row.items():
                assert seen.setdefault((cell, name, col), value) == value, (caption, cell, name, col)
            if summary is not None and "allocator" in row:
                match = summary[(summary["allocator"] == name) & ((summary["cell"] == cell) if first_cell else True)]
                assert len(match) == 1, (caption, cell, name)
                for col in set(row) & set(summary.columns):
                    assert format_value(match[col].iloc[0]) == row[col], (caption, col)
    return tables


def check_compare(out: Path, capsys, seeds: int) -> None:
    """Comparing a directory with itself: every difference is 0, paired over every seed, and the method is stated."""
    capsys.readouterr()
    assert main(["compare", str(out), str(out)]) == 0
    text = capsys.readouterr().out
    assert ("paired Student-t" in text and f"{seeds} seeds" in text) if seeds > 1 else "no interval" in text
    rows = next(iter(tables_of("## compare\n\n" + text.split("\n", 1)[1]).values()))
    assert rows and all(r["b_minus_a"] == "0" and r["paired_seeds"] == str(seeds) for r in rows)


SCENARIOS = bundled_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_report_and_compare_on_every_bundled_scenario(scenario, tmp_path, capsys):
    path, data = shortened(scenario, tmp_path)
    out = tmp_path / "out"
    sweep = data.get("sweep", {})
    assert main(["sweep" if sweep else "run", str(path), "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    world = data.get("world", "rl")
    swept = [*sweep.get("grid", {}), *sweep.get("zip", {})]
    assert manifest["world"] == world and manifest["swept"] == swept
    tables = check_report(out, capsys)
    for caption in tables:
        assert re.search(r"\b2 seeds\b", caption) and "interval" in caption, caption
    summary = pd.read_csv(out / "summary.csv")
    md = (out / "report.md").read_text()
    figures = set(re.findall(r"\]\(report/([^)]+)\.png\)", md))
    if world == "equitable":
        assert {"equitable_curves", "equitable_allocation"} <= figures
        assert (summary["objective_ci_high"] <= 1).all() and (summary["gap_ci_low"] >= 0).all()
        assert (summary["objective_ci_low"] <= summary["objective"]).all()
    elif world == "inference":
        assert {"inference_accuracy", "inference_allocation", "inference_latency"} <= figures
        lo, hi = summary["accuracy_ci_low"], summary["accuracy_ci_high"]
        assert ((lo >= 0) & (hi <= 1) & (lo <= summary["accuracy"]) & (summary["accuracy"] <= hi)).all()
        assert (summary["budget"] == max(data["budget"]["per_query"])).all()
    else:
        assert {"learning_curve", "learning_curve_steps", "learning_signal", "final_test_pass_by_seed"} <= figures
        sweep_figures = {f for f in figures if f.startswith("sweep_")}
        expected = {"sweep_" + re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_") for p in swept} | ({"sweep_heatmap"} if len(swept) == 2 else set())
        assert sweep_figures == expected  # swept parameters from the manifest, never columns such as samples_p_0.0-0.2
        if swept:
            per_cell = next(rows for caption, rows in tables.items() if caption.startswith("Per cell"))
            assert list(per_cell[0])[:1 + len(swept) + 1] == ["cell", *swept, "allocator"]
            assert len({r["cell"] for r in per_cell}) == len(manifest["cells"])
        lo, hi = summary["final_test_pass_ci_low"], summary["final_test_pass_ci_high"]
        assert ((lo >= 0) & (hi <= 1) & (lo <= summary["final_test_pass"]) & (summary["final_test_pass"] <= hi)).all()
        assert (summary["tokens_to_target_median"] > 0).all()
        assert (summary["tokens_to_target_median_ci_low"].dropna() > 0).all()
        base = summary[summary["allocator"] == manifest["baseline"]]
        if manifest["target_test_pass"] is None:  # the default target: the baseline reaches it in every seed
            assert (base["seeds_reaching_target"] == base["seeds"]).all()
    check_compare(out, capsys, 2)


def test_replay_output_is_reported_and_compared(tmp_path, capsys):
    out = tmp_path / "replay"
    assert main(["replay", "bundled:one_shot_rlvr", "--format", "history", "--seeds", "2", "--out", str(out)]) == 0
    assert json.loads((out / "manifest.json").read_text())["world"] == "replay"
    tables = check_report(out, capsys)
    (caption, rows), = tables.items()
    assert "2 seeds" in caption and "interval" in caption and len(rows) == 2
    summary = pd.read_csv(out / "summary.csv")
    for col in ("mixed_share", "effective_ratio"):
        assert ((summary[col + "_ci_low"] >= 0) & (summary[col + "_ci_high"] <= 1)).all()
    check_compare(out, capsys, 2)


def small_history_log(path: Path) -> None:
    """A 32-prompt, 2-appearance history log written by the simulator (the least validate takes: quick)."""
    from simbench.worlds.replay.population_fit import fit_mixture
    from simbench.worlds.replay.simulate import CalibrationParams, LogAlgorithm, simulate_counts

    algo = LogAlgorithm(n=8, batch=8, prompts=32)
    rng = np.random.default_rng(4)
    k0 = rng.binomial(8, rng.beta(0.4, 0.8, algo.prompts))
    n0 = np.full(algo.prompts, 8)
    K, _ = simulate_counts(fit_mixture(k0, n0), CalibrationParams(format_fail=0.05, lr_format=3.0), algo, 2, seed=0, first=(k0, n0))
    path.write_text(json.dumps({str(i): (K[i] / 8).tolist() for i in range(algo.prompts)}))


def test_validate_output_is_reported_and_compared(tmp_path, capsys):
    log, out = tmp_path / "acc.json", tmp_path / "val"
    small_history_log(log)
    assert main(["validate", str(log), "--format", "history", "--n", "8", "--batch", "8", "--calib", "1", "--seeds", "1",
                 "--maxfev", "1", "--dims", "2", "--out", str(out)]) == 0
    assert json.loads((out / "manifest.json").read_text())["world"] == "validation"
    tables = check_report(out, capsys)
    forecast = next(rows for caption, rows in tables.items() if caption.startswith("Forecast check"))
    errors = json.loads((out / "validation.json").read_text())["forecast_errors_end"]
    assert [r["curve"] for r in forecast] == list(errors)
    assert [r["error_at_end"] for r in forecast] == [format_value(v) for v in errors.values()]
    assert "report/validation.png" in (out / "report.md").read_text()
    check_compare(out, capsys, 1)


def test_report_refuses_what_it_cannot_read(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    (tmp_path / "manifest.json").write_text(json.dumps({"scenario_hash": "x"}))  # written before manifests named their world
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "re-run" in err


def test_report_options_override_the_scenario_and_are_checked(tmp_path, capsys):
    path, _ = shortened(REPO_ROOT / "scenarios" / "sweep_difficulty.toml", tmp_path)
    data = tomllib.loads(path.read_text())
    del data["sweep"]
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    assert main(["report", str(out), "--baseline", "nope"]) == 2
    assert "--baseline" in capsys.readouterr().err
    assert main(["report", str(out), "--baseline", "dapo", "--target", "0.99"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert "speedup_vs_dapo" in summary.columns and (summary["target"] == 0.99).all()
    assert (summary["seeds_reaching_target"] == 0).all() and summary["speedup_vs_dapo"].isna().all()
    assert "test pass rate 0.9900 (set by --target)" in (out / "report.md").read_text()
    assert math.isinf(summary["tokens_to_target_median"].iloc[0])


NUMERIC_PACKAGES = ("python", "numpy", "scipy", "numba", "cvxpy", "pandas")


def test_committed_quickstart_summary_is_what_the_code_produces(tmp_path):
    """The README's command regenerates ``reports/quickstart/summary.csv`` (results are deterministic).

    Deterministic for given package versions: another numpy can order a sum or a sort's ties differently
    and move a run by a discrete event (seen: numpy 1.26 vs 2.4 changed one allocator's final test pass
    in the fifth digit).  So the comparison is exact when the numeric packages are those the committed
    report was made with (its manifest records them), and is skipped, saying so, otherwise.
    """
    committed_manifest = json.loads((REPO_ROOT / "reports" / "quickstart" / "manifest.json").read_text())
    out = tmp_path / "quickstart"
    assert main(["run", str(REPO_ROOT / "scenarios" / "quickstart.toml"), "--workers", "2", "--out", str(out), "--quiet"]) == 0
    made, here = committed_manifest["packages"], json.loads((out / "manifest.json").read_text())["packages"]
    differ = {k: (made.get(k), here.get(k)) for k in NUMERIC_PACKAGES if made.get(k) != here.get(k)}
    if differ:
        pytest.skip(f"reports/quickstart was made with other package versions {differ}: regenerate it to compare")
    fresh = pd.read_csv(out / "summary.csv")
    committed = pd.read_csv(REPO_ROOT / "reports" / "quickstart" / "summary.csv")
    assert list(fresh.columns) == list(committed.columns)
    # CSV floats are printed to 17 significant digits; allow only the last of them to differ
    pd.testing.assert_frame_equal(fresh, committed, check_exact=False, rtol=1e-15, atol=0)
