"""Reports: ``DIR/report.md``, a self-contained ``DIR/report/index.html`` and every figure as PNG (and SVG on request).

The blocks a world's report is made of (text, ``Figure``, ``Table``) and how they
are written; ``simbench.core.outputs.report_dir`` asks the world that wrote a
directory for them.  Nothing about the results is guessed from column names:
swept parameters, baseline and target come from the manifest.
"""
from __future__ import annotations

import base64
import contextlib
import contextvars
import html
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from simbench.core.config import ConfigError
from simbench.core.report import tables
from simbench.core.store import load

plt.rcParams["svg.hashsalt"] = "simbench"  # stable element ids: the same results give the same SVG bytes
# Writing SVG took about 65% of a report's time, so it is written only when asked (``svg_figures``); PNG always,
# since report.md and index.html show it.  A context variable, so that every world's report obeys it unchanged.
_SVG = contextvars.ContextVar("simbench_svg_figures", default=False)


@contextlib.contextmanager
def svg_figures(on: bool = True):
    """Within: every figure saved is also written as SVG (``--svg``)."""
    token = _SVG.set(on)
    try:
        yield
    finally:
        _SVG.reset(token)


@dataclass(frozen=True)
class Figure:
    """A figure saved as ``report/<name>.png`` (and ``.svg`` within ``svg_figures``)."""

    name: str
    caption: str


@dataclass(frozen=True)
class Table:
    """A table under a caption that says what it holds, how it was computed and over how many seeds."""

    caption: str
    table: pd.DataFrame


def save_figure(fig: plt.Figure, folder: Path, name: str) -> None:
    """Write ``name.png`` (and ``name.svg`` within ``svg_figures``) without timestamps, so reruns give identical files."""
    fig.savefig(folder / f"{name}.png", metadata={"Software": None})
    svg = folder / f"{name}.svg"
    if _SVG.get():
        fig.savefig(svg, metadata={"Date": None})
    else:
        svg.unlink(missing_ok=True)  # an earlier report's SVG would no longer show what the PNG shows


def figure(fig: plt.Figure, folder: Path, name: str, caption: str) -> Figure:
    """Save and close ``fig``; return its block."""
    save_figure(fig, folder, name)
    plt.close(fig)
    return Figure(name, caption)


def seeds_text(counts) -> str:
    """'8 seeds', or '2-8 seeds' when allocators differ."""
    counts = [int(c) for c in counts]
    lo, hi = min(counts), max(counts)
    return f"{hi} seed{'s' if hi != 1 else ''}" if lo == hi else f"{lo}-{hi} seeds"


def final_values(root: Path, manifest: dict, metric: str, clock: str, support: tuple[float, float]):
    """Per (cell,) allocator and seed, ``metric`` in the run's last row (by ``clock``), as compare's (values, label, support)."""
    df = load(root)
    if metric not in df.columns:
        raise ConfigError("--metric", metric, f"a column of the results in {root}: {', '.join(df.columns)}", "command line")
    keys = ["cell", "allocator"] if manifest["swept"] else ["allocator"]
    finals = df.loc[df.groupby(keys + ["seed"], sort=False)[clock].idxmax()]
    return finals[keys + ["seed", metric]].rename(columns={metric: "value"}).reset_index(drop=True), f"final {metric}", support


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


def _html_text(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def write_report(blocks: list, out_dir: Path, title: str, command: str = "") -> Path:
    """Write ``out_dir/report.md`` and ``out_dir/report/`` (index.html and its own report.md) from blocks.

    A block is a text paragraph (str), a ``Figure`` already saved in ``out_dir/report/`` or a ``Table``.
    """
    out_dir = Path(out_dir)
    folder = out_dir / "report"
    folder.mkdir(parents=True, exist_ok=True)
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>", '<p id="render-check">figures not rendered yet</p>']
    if command:
        md += [f"Regenerate with: `{command}`", ""]
        body.append(f"<p>Regenerate with: <code>{html.escape(command)}</code></p>")
    for block in blocks:
        if isinstance(block, str):
            md += [block, ""]
            body.append(f"<p>{_html_text(block)}</p>")
        elif isinstance(block, Figure):
            alt = block.caption.replace("[", "\\[").replace("]", "\\]")  # brackets of keys such as strategies[1]
            svg = (folder / f"{block.name}.svg").is_file()  # written with this report (save_figure removes older ones)
            md += [f"![{alt}](report/{block.name}.png)" + (f" ([SVG](report/{block.name}.svg))" if svg else ""), ""]
            data = base64.b64encode((folder / f"{block.name}.png").read_bytes()).decode()
            link = f' (<a href="{block.name}.svg">SVG</a>)' if svg else ""
            body.append(f'<figure><img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}"><figcaption>'
                        f'{html.escape(block.caption)}{link}</figcaption></figure>')
        else:
            md += [f"## {block.caption}", "", tables.format_table(block.table), ""]
            body.append(f"<h2>{html.escape(block.caption)}</h2>"
                        + block.table.to_html(index=False, formatters={c: tables.format_value for c in block.table.columns}))
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:auto}img{max-width:100%}table{border-collapse:collapse;font-size:12px}"
            "td,th{border:1px solid #999;padding:2px 6px}</style></head><body>" + "\n".join(body) + RENDER_CHECK + "</body></html>")
    (folder / "index.html").write_text(page)
    (folder / "report.md").write_text("\n".join(md).replace("](report/", "]("))
    path = out_dir / "report.md"
    path.write_text("\n".join(md))
    return path
