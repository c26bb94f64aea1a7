"""``benchmarks/run_all.py`` on canned benchmark output: RESULT lines, the table, and the README rewritten between its markers.

No benchmark runs here; one fake ``bench_*.py`` in a temporary folder checks the subprocess plumbing.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from simbench.core.paths import REPO_ROOT


def load_run_all():
    spec = importlib.util.spec_from_file_location("run_all", REPO_ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


run_all = load_run_all()
WHEN = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.timezone.utc)
CANNED = """machine: 2 cpus
engine, uniform GRPO ...
RESULT engine: step 64x8 80 us (target < 100); 512x16 2.4x the raw RNG
some other line mentioning RESULT engine: in passing
RESULT engine_memory: 0.46 GB | peak
"""


def test_result_lines_are_collected_in_order_and_nothing_else():
    assert run_all.parse_results(CANNED) == [("engine", "step 64x8 80 us (target < 100); 512x16 2.4x the raw RNG"),
                                             ("engine_memory", "0.46 GB | peak")]
    assert run_all.parse_results("no results\n") == []


def outcomes():
    make = run_all.Outcome
    return [make("bench_engine.py", ["--quick"], 41.2, 0, run_all.parse_results(CANNED)),
            make("bench_silent.py", [], 3.0, 0, [], "printed no RESULT line"),
            make("bench_broken.py", ["--quick"], 1.0, 1, [], "failed with exit status 1: ValueError: boom")]


def test_the_table_says_when_where_and_under_what_load_and_keeps_every_benchmark():
    table = run_all.render(outcomes(), "Test CPU, 2 cores, Linux; Python 3.11.7, numpy 2.4.6, numba 0.68.1",
                           (0.5, 0.25, 0.125), (1.5, 1.0, 0.75), WHEN, quick=True)
    head, blank, *rows = table.splitlines()
    assert "2026-11-30 06:00 UTC" in head and "Test CPU, 2 cores" in head and "numba 0.68.1" in head
    assert "before: 0.50/0.25/0.12" in head and "after: 1.50/1.00/0.75" in head and "quick modes" in head
    assert "3 benchmarks" in head and "45 s" in head
    assert blank == "" and rows[:2] == ["| benchmark | result | measured |", "|---|---|---|"]
    body = rows[2:]
    assert body[0] == "| `bench_engine.py --quick` (41 s) | engine | step 64x8 80 us (target < 100); 512x16 2.4x the raw RNG |"
    assert body[1] == "| `bench_engine.py --quick` (41 s) | engine_memory | 0.46 GB \\| peak |"  # a | in a result stays in its cell
    assert body[2] == "| `bench_silent.py` (3 s) | - | **printed no RESULT line** |"
    assert body[3] == "| `bench_broken.py --quick` (1 s) | - | **failed with exit status 1: ValueError: boom** |"
    assert len(body) == 4
    assert all(len(re.split(r"(?<!\\)\|", row)) == 5 for row in body)  # three cells each (and the empty ends)


README = """# Project

## Performance

Intro.

{start}
| old | table |
|---|---|
| stale | 1 |
{end}

Why the engine is as fast as it is.

## Next
"""


def test_the_readme_is_rewritten_between_its_markers_only():
    text = README.format(start=run_all.START, end=run_all.END)
    new = run_all.rewrite(text, "NEW TABLE")
    assert new == text.replace("| old | table |\n|---|---|\n| stale | 1 |", "NEW TABLE")
    assert run_all.rewrite(new, "NEW TABLE") == new  # rerunning changes nothing but the table
    assert "stale" not in new and new.endswith("Why the engine is as fast as it is.\n\n## Next\n")


@pytest.mark.parametrize("start, end, found", [("", run_all.END, "found 0 and 1"), (run_all.START, "", "found 1 and 0"),
                                               (run_all.END, run_all.START, "in the wrong order"),
                                               (run_all.START * 2, run_all.END, "found 2 and 1")])
def test_a_readme_without_its_markers_is_an_error_naming_it(start, end, found):
    with pytest.raises(ValueError) as err:
        run_all.rewrite(README.format(start=start, end=end), "T", "docs/README.md")
    assert str(err.value).startswith("docs/README.md: ") and run_all.START in str(err.value) and found in str(err.value)


def test_a_benchmark_runs_in_a_subprocess_with_its_quick_flag_and_failures_are_rows(tmp_path: Path):
    quick = tmp_path / "bench_quick.py"
    quick.write_text('import sys\n# takes "--quick"\nprint("noise")\nprint(f"RESULT quick: argv {sys.argv[1:]}")\n')
    plain = tmp_path / "bench_plain.py"
    plain.write_text('import sys\nprint(f"RESULT plain: argv {sys.argv[1:]}")\n')
    broken = tmp_path / "bench_broken.py"
    broken.write_text('print("RESULT half: printed before failing")\nraise ValueError("boom")\n')
    assert [p.name for p in run_all.benchmarks(tmp_path)] == ["bench_broken.py", "bench_plain.py", "bench_quick.py"]
    assert run_all.run(quick, True, 60).results == [("quick", "argv ['--quick']")]
    assert run_all.run(quick, False, 60).results == [("quick", "argv []")]
    assert run_all.run(plain, True, 60).results == [("plain", "argv []")]  # no --quick for a benchmark without one
    failed = run_all.run(broken, True, 60)
    assert failed.status == 1 and failed.error == "failed with exit status 1: ValueError: boom"
    assert failed.results == [("half", "printed before failing")]
    with pytest.raises(SystemExit, match="no benchmark 'nope'; there are: broken, plain, quick"):
        run_all.benchmarks(tmp_path, ["nope"])


def test_the_repository_readme_has_its_markers_and_every_benchmark_a_result_line():
    run_all.rewrite((REPO_ROOT / "README.md").read_text(), "T")
    for path in run_all.benchmarks():
        assert "RESULT " in path.read_text(), f"{path.name} prints no RESULT line for run_all.py"
