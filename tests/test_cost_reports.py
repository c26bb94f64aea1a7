"""Reports and ``simbench compare`` in time: present with a [cost] table, absent (and clearly refused) without."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import tomli_w
from foundation_helpers import tiny_data

from simbench.cli import main
from simbench.worlds.rl.results import Target, runs_of, time_split, time_summary, tokens_to_target

STRATEGIES = [{"allocator": {"kind": "uniform", "n": 4}}, {"allocator": {"kind": "dapo", "n": 4, "on_exhausted": "train"}}]
TIME_SECTIONS = ("learning_curve_hours", "Time to target", "GPU-hours", "Where the time goes", "time_split")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The same tiny scenario run without and with [cost] (no price), and with a price."""
    root = tmp_path_factory.mktemp("cost_reports")
    out = {}
    for name, cost in (("plain", None), ("cost", {"preset": "qwen2.5-1.5b-8xh100"}),
                       ("priced", {"preset": "qwen2.5-1.5b-8xh100", "price_per_gpu_hour": 2.0})):
        data = tiny_data(strategies=STRATEGIES)
        if cost:
            data["cost"] = cost
        path = root / f"{name}.toml"
        path.write_text(tomli_w.dumps(data))
        assert main(["run", str(path), "--out", str(root / name), "--seeds", "3", "--quiet"]) == 0
        out[name] = root / name
    return out


def test_report_shows_time_only_with_cost(outputs):
    plain = (outputs["plain"] / "report.md").read_text()
    costed = (outputs["cost"] / "report.md").read_text()
    for text in TIME_SECTIONS:
        assert text in costed and text not in plain
    assert (outputs["cost"] / "report" / "time_split.png").is_file() and not (outputs["plain"] / "report" / "time_split.png").exists()
    summary = pd.read_csv(outputs["cost"] / "summary.csv")
    assert "cum_hours_to_target_median" in summary.columns and "hours_speedup_vs_uniform" in summary.columns
    assert "cum_hours_to_target_median" not in pd.read_csv(outputs["plain"] / "summary.csv").columns


def test_usd_is_na_without_a_price(outputs):
    costed = (outputs["cost"] / "report.md").read_text()
    table = costed.split("## Cost of the whole run", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in table.splitlines() if line.startswith("| uniform |"))
    assert row.rstrip().endswith("| n/a | n/a | n/a |")  # final_usd and its interval
    assert pd.read_csv(outputs["cost"] / "summary.csv")["final_usd"].isna().all()
    priced = pd.read_csv(outputs["priced"] / "summary.csv")
    assert priced["final_usd"].to_numpy() == pytest.approx(2.0 * priced["final_gpu_hours"].to_numpy())


def test_report_command_rewrites_both(outputs, capsys):
    for name in ("plain", "cost"):
        assert main(["report", str(outputs[name])]) == 0
    assert "Where the time goes" in (outputs["cost"] / "report.md").read_text()


def test_compare_on_time(outputs, capsys):
    assert main(["compare", str(outputs["cost"]), str(outputs["priced"]), "--metric", "cum_hours"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("final cum_hours:") and "| uniform |" in text  # the price changes no time: B - A = 0
    assert main(["compare", str(outputs["cost"]), str(outputs["priced"]), "--metric", "usd"]) == 0
    assert "n/a" in capsys.readouterr().out
    assert main(["compare", str(outputs["plain"]), str(outputs["plain"]), "--metric", "cum_hours"]) == 2
    err = capsys.readouterr().err
    assert "--metric 'cum_hours' is invalid" in err and "need a [cost] table" in err
    assert main(["compare", str(outputs["plain"]), str(outputs["plain"])]) == 0  # the default metric still works


def test_time_tables_follow_their_definitions(outputs):
    df = pd.read_parquet(outputs["cost"] / "results.parquet")
    split = time_split(df)
    finals = df.groupby(["allocator", "seed"], sort=False)["cum_hours"].max().groupby(level=0, sort=False).mean()
    assert split.sum(axis=1).to_numpy() == pytest.approx(finals.loc[split.index].to_numpy(), rel=1e-12)
    per_run = df.groupby(["allocator", "seed"], sort=False)
    strag = (df["gen_s"] * df["straggler_share"].fillna(0)).groupby([df["allocator"], df["seed"]], sort=False).sum() / 3600
    assert split["straggling"].to_numpy() == pytest.approx(strag.groupby(level=0, sort=False).mean().loc[split.index].to_numpy())
    assert split["training"].to_numpy() == pytest.approx((per_run["train_s"].sum() / 3600).groupby(level=0, sort=False).mean().loc[split.index].to_numpy())
    # every run reaches a tiny gain: the median hours to it is the median of the runs' interpolated hours
    target = Target(1e-9, "gain", "test")
    t = time_summary(df, "uniform", target).set_index("allocator")
    for alloc in t.index:
        hours = [tokens_to_target(r, r["test_pass"].iloc[0] + 1e-9, "cum_hours") for (a, _), r in runs_of(df).items() if a == alloc]
        assert all(math.isfinite(h) for h in hours)
        assert t.loc[alloc, "cum_hours_to_target_median"] == pytest.approx(float(np.median(hours)))
        assert t.loc[alloc, "gpu_hours_to_target_median"] == pytest.approx(8 * float(np.median(hours)))
