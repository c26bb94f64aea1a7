"""The answer tables of the inference world: each query's wrong-answer weights, read from a CSV."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from simbench.core.config import ConfigError


def read_answer_table(path: str, base_dir: Path) -> np.ndarray:
    """Read a CSV of wrong-answer weights, columns ``w1 .. wM``, one row per query; errors name the file and line."""
    file = Path(path) if Path(path).is_absolute() else base_dir / path
    where = "answers.path"
    if not file.is_file():
        raise ConfigError(where, path, f"an existing CSV file (looked for {file})")
    try:
        with file.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError:
        raise ConfigError(where, path, f"UTF-8 text ({file} is not)") from None
    header = [h.strip() for h in rows[0]] if rows else []
    expected = [f"w{i + 1}" for i in range(len(header))]
    if not header or header != expected:
        raise ConfigError(where, path, f"a CSV whose header is w1, w2, ... ({file} has {header})")
    out = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            w = [float(v) for v in row]
        except ValueError:
            raise ConfigError(where, row, f"numbers at {file}:{line}") from None
        if len(w) != len(header) or not all(math.isfinite(v) and v >= 0 for v in w) or sum(w) <= 0:
            raise ConfigError(where, row, f"{len(header)} non-negative numbers with a positive sum at {file}:{line}")
        out.append(w)
    if not out:
        raise ConfigError(where, path, f"a CSV with at least one row ({file} has none)")
    return np.asarray(out)
