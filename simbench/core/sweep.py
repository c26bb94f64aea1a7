"""Parameter sweeps: a ``[sweep]`` table expands one scenario into cells.

```toml
[sweep]
grid = { "population.pass_rate.a" = [0.2, 0.35], "strategies[1].allocator.n" = [8, 16] }   # cartesian
zip = { "learner.lr_shared" = [0.005, 0.01], "learner.lr_prompt" = [2.0, 4.0] }           # in lockstep
```

Every cell is an ordinary scenario with the swept keys set; its seeds come
from its own world hash (``Scenario.cell_seed``), so adding a value to a grid
leaves every other cell's results unchanged.  Cell ids are hashes of the
assignments, never positions.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simbench.core.config import ConfigError
from simbench.core.scenario import read_toml
from simbench.worlds import parse_scenario

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


@dataclass(frozen=True)
class SweepCell:
    """One point of a sweep: its id, its assignments and its scenario."""

    id: str
    params: dict[str, Any]
    scenario: Any  # the scenario of its world


def _tokens(path: str, where: str) -> list[str | int]:
    out: list[str | int] = []
    for part in path.split("."):
        m = _STEP.fullmatch(part)
        if not m:
            raise ConfigError(where, path, "a dotted key path such as 'population.pass_rate.a' or 'strategies[1].allocator.n'")
        out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return out


def set_path(data: dict, path: str, value: Any, where: str) -> None:
    """Set ``value`` at a dotted path in a TOML dict, creating tables; list indices must exist."""
    tokens = _tokens(path, where)
    node: Any = data
    for i, tok in enumerate(tokens[:-1]):
        nxt = tokens[i + 1]
        if isinstance(tok, int):
            if not isinstance(node, list) or tok >= len(node):
                have = len(node) if isinstance(node, list) else 0
                raise ConfigError(where, path, f"an index below {have} at [{tok}] (the scenario has {have} entries there)")
            node = node[tok]
        else:
            if not isinstance(node, dict):
                raise ConfigError(where, path, f"a path through tables; '{tok}' is inside a {type(node).__name__}")
            if isinstance(nxt, int):
                node = node.get(tok)
                if not isinstance(node, list):
                    raise ConfigError(where, path, f"'{tok}' to be an array in the scenario")
            else:
                if isinstance(node.get(tok), str):  # a role given by name: turn it into a table
                    node[tok] = {"kind": node[tok]}
                node = node.setdefault(tok, {})
    last = tokens[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ConfigError(where, path, "an existing array index")
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise ConfigError(where, path, f"a table at '{last}'")
        node[last] = value


def cell_id(params: dict[str, Any]) -> str:
    """A stable id from the cell's assignments (not its position)."""
    if not params:
        return "base"
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return "c" + hashlib.sha256(blob).hexdigest()[:10]


def expand(data: dict, source: str = "<memory>", base_dir: str = ".") -> tuple[list[SweepCell], dict]:
    """Split a scenario dict into its cells; returns (cells, the sweep table as given)."""
    data = copy.deepcopy(data)
    sweep = data.pop("sweep", None) or {}
    if not isinstance(sweep, dict):
        raise ConfigError("sweep", sweep, "a table with 'grid' and/or 'zip'", source)
    unknown = set(sweep) - {"grid", "zip"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"sweep.{key}", sweep[key], "unknown key; allowed keys: grid, zip", source)
    grid = sweep.get("grid", {})
    zipped = sweep.get("zip", {})
    for name, table in (("grid", grid), ("zip", zipped)):
        if not isinstance(table, dict):
            raise ConfigError(f"sweep.{name}", table, "a table of 'dotted.key' = [values]", source)
        for key, values in table.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"sweep.{name}.{key}", values, "a non-empty array of values", source)
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise ConfigError("sweep.zip", {k: len(v) for k, v in zipped.items()}, "arrays of one common length", source)
    grid_points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())] if grid else [{}]
    zip_points = [dict(zip(zipped, combo)) for combo in zip(*zipped.values())] if zipped else [{}]
    cells = []
    for g in grid_points:
        for z in zip_points:
            params = {**g, **z}
            cell_data = copy.deepcopy(data)
            for key, value in params.items():
                section = "grid" if key in g else "zip"
                try:
                    set_path(cell_data, key, value, f"sweep.{section}.{key}")
                except ConfigError as err:
                    raise err.in_file(source) from None
            try:
                scenario = parse_scenario(cell_data, source, base_dir)
            except ConfigError as err:
                label = ", ".join(f"{k}={v!r}" for k, v in params.items())
                raise ConfigError(err.where, err.value, f"{err.allowed} (in the sweep cell {label})", source) from None
            cells.append(SweepCell(cell_id(params), params, scenario))
    return cells, sweep


def load_sweep(path: str | Path) -> tuple[list[SweepCell], str]:
    """Read a scenario file with an optional [sweep]; return its cells and the file's canonical hash."""
    path = Path(path)
    cells, _ = expand(read_toml(path), str(path), str(path.resolve().parent))
    canonical = hashlib.sha256(json.dumps([c.scenario.canonical_hash() for c in cells] + [c.id for c in cells]).encode()).hexdigest()
    return cells, canonical
