"""Reports: ``DIR/report.md``, a self-contained ``DIR/report/index.html`` and every figure as PNG and SVG.

Every output directory of simbench (``run``, ``sweep``, ``replay``, ``validate``)
holds a ``manifest.json`` that records its ``world``; ``report_dir`` reads it and
asks that world's module (``WORLDS``) for the report's blocks: text, figures and
tables.  Nothing about the results is guessed from column names: swept
parameters, baseline and target come from the manifest.
"""
from __future__ import annotations

import base64
import html
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from simbench.config import ConfigError
from simbench.report import tables
from simbench.store import load, read_manifest

plt.rcParams["svg.hashsalt"] = "simbench"  # stable element ids: the same results give the same SVG bytes

# world -> module with OPTIONS (the report options it takes), build_report(root, folder, manifest, **options)
# -> (blocks, summary or None), and compare_values(root, manifest, metric) -> (values per key and seed, label, support)
WORLDS = {"rl": "simbench.report.rl", "equitable": "simbench.equitable.report",
          "replay": "simbench.logs.replay_run", "validation": "simbench.logs.validation"}


@dataclass(frozen=True)
class Figure:
    """A figure saved as ``report/<name>.png`` and ``.svg``."""

    name: str
    caption: str


@dataclass(frozen=True)
class Table:
    """A table under a caption that says what it holds, how it was computed and over how many seeds."""

    caption: str
    table: pd.DataFrame


def save_figure(fig: plt.Figure, folder: Path, name: str) -> None:
    """Write ``name.png`` and ``name.svg`` without timestamps, so reruns give identical files."""
    fig.savefig(folder / f"{name}.png", metadata={"Software": None})
    fig.savefig(folder / f"{name}.svg", metadata={"Date": None})


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


def manifest_of(root: Path) -> dict:
    """The manifest of a results directory, with a clear error when there is none."""
    manifest = read_manifest(root)
    if manifest is None:
        raise ConfigError("<directory>", str(root), "a directory written by simbench run, sweep, replay or validate "
                          "(it has no manifest.json)", "command line")
    return manifest


def world_of(root: Path, manifest: dict):
    """The module of the world that wrote ``root``."""
    world = manifest.get("world")
    if world not in WORLDS:
        raise ConfigError("world", world, f"one of {', '.join(WORLDS)}: this manifest was written by an older simbench; "
                          "re-run the command that made the directory (finished units are reused)", str(root / "manifest.json"))
    return importlib.import_module(WORLDS[world])


def report_dir(root: str | Path, **options) -> tuple[Path, pd.DataFrame | None]:
    """(Re)write the report of a results directory, and its ``summary.csv`` if its world has one.

    ``options`` (``baseline``, ``target``, ``thin``; None = the manifest's or the
    default) go to the world's builder; one that the world does not take is an error.
    """
    root = Path(root)
    manifest = manifest_of(root)
    module = world_of(root, manifest)
    for key, value in options.items():
        if value is not None and key not in module.OPTIONS:
            raise ConfigError(f"--{key}", value, f"not an option of {manifest['world']} reports (it takes: "
                              f"{', '.join('--' + o for o in module.OPTIONS) or 'none'})", "command line")
    folder = root / "report"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        blocks, summary = module.build_report(root, folder, manifest, **{k: v for k, v in options.items() if k in module.OPTIONS})
    except FileNotFoundError as err:  # e.g. a run interrupted before its first unit finished
        raise ConfigError("<directory>", str(root), f"a directory with finished results ({err})", "command line") from None
    if summary is not None:
        summary.to_csv(root / "summary.csv", index=False)
    return write_report(blocks, root, manifest.get("title", root.name), manifest.get("command", "")), summary


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
            md += [f"![{alt}](report/{block.name}.png)", ""]
            data = base64.b64encode((folder / f"{block.name}.png").read_bytes()).decode()
            body.append(f'<figure><img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}"><figcaption>'
                        f'{html.escape(block.caption)} (<a href="{block.name}.svg">SVG</a>)</figcaption></figure>')
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
