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
