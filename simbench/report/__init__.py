"""Reports: ``DIR/report.md``, a self-contained ``DIR/report/index.html`` and every figure as PNG and SVG.

``write_report`` reads a results DataFrame (one row per allocator x seed x
step, plus ``cell`` and swept-parameter columns for sweeps) and writes the
learning curves, the tables with confidence intervals, the learning-signal
panels, distributions over seeds, where the samples went, and for sweeps the
metric against each swept parameter.  Other worlds register their own figure
builders with ``register_world``.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import pandas as pd

from simbench.report import figures, tables
from simbench.results import default_target, summarise

plt.rcParams["svg.hashsalt"] = "simbench"  # stable element ids: the same results give the same SVG bytes


def save_figure(fig: plt.Figure, folder: Path, name: str) -> None:
    """Write ``name.png`` and ``name.svg`` without timestamps, so reruns give identical files."""
    fig.savefig(folder / f"{name}.png", metadata={"Software": None})
    fig.savefig(folder / f"{name}.svg", metadata={"Date": None})


# world name -> function(df, out_dir) returning [(name, caption, figure)], [(title, DataFrame)]
_WORLDS: dict[str, Callable] = {}


def register_world(name: str, builder: Callable) -> None:
    """Let another world (e.g. the equitable one) supply its own figures and tables."""
    _WORLDS[name] = builder


def _save(fig: plt.Figure, folder: Path, name: str) -> str:
    save_figure(fig, folder, name)
    plt.close(fig)
    return name


def per_cell_summary(df: pd.DataFrame, params: list[str], baseline: str, target: float | None) -> pd.DataFrame:
    """Summary per (cell, allocator) with the swept parameters and the per-seed final test pass."""
    rows = []
    for cell, g in df.groupby("cell", sort=False):
        s = summarise(g, baseline, target)
        finals = g.loc[g.groupby(["allocator", "seed"], sort=False)["step"].idxmax()]
        s["final_test_pass_seeds"] = [finals.loc[finals["allocator"] == a, "test_pass"].tolist() for a in s["allocator"]]
        for p in params:
            s[p] = g[p].iloc[0]
        s.insert(0, "cell", cell)
        rows.append(s)
    return pd.concat(rows, ignore_index=True)


def rl_sections(df: pd.DataFrame, folder: Path, baseline: str, target: float | None, params: list[str]):
    """Figures and tables of the RL world."""
    figs, tabs = [], []
    if params:
        per_cell = per_cell_summary(df, params, baseline, target)
        for p, fig in figures.sweep_line_figures(per_cell, params):
            figs.append((_save(fig, folder, f"sweep_{p.replace('.', '_').replace('[', '_').replace(']', '')}"), f"final test pass rate vs {p}"))
        numeric = [p for p in params if pd.api.types.is_numeric_dtype(per_cell[p])]
        if len(params) == 2 and len(numeric) == 2:
            figs.append((_save(figures.sweep_heatmap_figure(per_cell, *params), folder, "sweep_heatmap"), "heatmap over the 2-D grid"))
        tabs.append(("Per cell: final test pass rate (95% CI over seeds)",
                     per_cell[["cell", *params, "allocator", "seeds", "final_test_pass", "final_test_pass_ci_low", "final_test_pass_ci_high"]]))
        # The per-allocator figures below pool every cell: show the first cell only, to stay paired.
        df = df[df["cell"] == df["cell"].iloc[0]]
    target = target if target is not None else default_target(df, baseline)
    figs.append((_save(figures.learning_curve_figure(df, "cum_tokens"), folder, "learning_curve"), "test pass rate vs cumulative tokens"))
    figs.append((_save(figures.learning_curve_figure(df, "step"), folder, "learning_curve_steps"), "test pass rate vs steps"))
    figs.append((_save(figures.signal_figure(df), folder, "learning_signal"), "effective ratio and group shares over training"))
    figs.append((_save(figures.seed_distribution_figure(df), folder, "final_test_pass_by_seed"), "final test pass rate, every seed"))
    for prefix, title, xlabel, name in (
        ("samples_p_", "Where the samples went: share by the prompt's pass rate when sampled", "pass rate of the prompt when sampled", "samples_by_pass_rate"),
        ("samples_group_", "Per-group spending: share of samples by group", "group (data source)", "samples_by_group"),
    ):
        fig = figures.share_bars_figure(df, prefix, title, xlabel)
        if fig is not None:
            figs.append((_save(fig, folder, name), title))
    tabs.append(("Summary (final test pass rate with 95% t-CI over seeds)", summarise(df, baseline, target)))
    tabs.append((f"Tokens to reach test pass {target:.4f} and speedup vs {baseline} (paired bootstrap 95% CI)", tables.speedup_table(df, target, baseline)))
    tabs.append(("Test pass rate at equal token budget (gain vs baseline: paired bootstrap 95% CI)", tables.equal_budget_table(df, baseline)))
    return figs, tabs


RENDER_CHECK = """<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var el = document.getElementById('render-check');
  el.setAttribute('data-images', imgs.length); el.setAttribute('data-rendered', ok);
  el.setAttribute('data-tables', document.querySelectorAll('table').length);
  el.textContent = ok + ' of ' + imgs.length + ' figures rendered, ' + document.querySelectorAll('table').length + ' tables';
});
</script>"""


def write_report(df: pd.DataFrame, out_dir: Path, title: str, *, baseline: str = "uniform", target: float | None = None,
                 command: str = "", params: list[str] | None = None, world: str = "rl") -> Path:
    """Write ``out_dir/report.md`` and ``out_dir/report/`` (index.html, PNG and SVG figures)."""
    out_dir = Path(out_dir)
    folder = out_dir / "report"
    folder.mkdir(parents=True, exist_ok=True)
    if world == "rl":
        figs, tabs = rl_sections(df, folder, baseline, target, params or [])
    else:
        figs, tabs = _WORLDS[world](df, folder)
    md = [f"# {title}", ""]
    if command:
        md += [f"Regenerate with: `{command}`", ""]
    body = [f"<h1>{html.escape(title)}</h1>", '<p id="render-check">figures not rendered yet</p>']
    if command:
        body.append(f"<p>Regenerate with: <code>{html.escape(command)}</code></p>")
    for name, caption in figs:
        md += [f"![{caption}](report/{name}.png)", ""]
        data = base64.b64encode((folder / f"{name}.png").read_bytes()).decode()
        body.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)} '
                    f'(<a href="{name}.svg">SVG</a>)</figcaption></figure>')
    for caption, table in tabs:
        shown = table.drop(columns=[c for c in table.columns if c.endswith("_seeds")], errors="ignore")
        md += [f"## {caption}", "", tables.format_table(shown), ""]
        body.append(f"<h2>{html.escape(caption)}</h2>" + shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="n/a"))
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:auto}img{max-width:100%}table{border-collapse:collapse;font-size:12px}"
            "td,th{border:1px solid #999;padding:2px 6px}</style></head><body>" + "\n".join(body) + RENDER_CHECK + "</body></html>")
    (folder / "index.html").write_text(page)
    (folder / "report.md").write_text("\n".join(md).replace("](report/", "]("))
    path = out_dir / "report.md"
    path.write_text("\n".join(md))
    return path
