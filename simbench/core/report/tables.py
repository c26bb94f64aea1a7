"""Tables of a report as Markdown."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd


def format_value(v) -> str:
    """A readable cell: 4 significant digits, thousands separators for large numbers, n/a for nan."""
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return "n/a"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)


def format_table(table: pd.DataFrame) -> str:
    """A Markdown table with readable numbers."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(format_value(row[c]) for c in cols) + " |")
    return "\n".join(lines)


def per_cell(df: pd.DataFrame, manifest: dict, summarise) -> tuple[list[tuple[dict, pd.DataFrame]], pd.DataFrame]:
    """Each cell of the manifest with its rows (cells without rows left out), and ``summarise`` of every cell's rows
    stacked, with the swept parameters first (and a ``cell`` column) for a sweep."""
    swept = manifest["swept"]
    cells = [(c, df[df["cell"] == c["id"]] if swept else df) for c in manifest["cells"]]
    cells = [(c, g) for c, g in cells if len(g)]
    parts = []
    for cell, g in cells:
        s = summarise(g)
        for k in reversed(swept):
            s.insert(0, k, cell["params"][k])
        if swept:
            s.insert(0, "cell", cell["id"])
        parts.append(s)
    return cells, pd.concat(parts, ignore_index=True)
