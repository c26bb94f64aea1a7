"""The results store: one Parquet file per finished unit, written atomically, plus a manifest.

A *unit* is one (cell, strategy, seed): the smallest piece of work.  Its rows
land in ``DIR/units/<unit id>.parquet`` under a temporary name and are renamed
when complete, so an interrupted run (Ctrl-C or kill -9) loses at most the
units in flight; re-running skips every unit whose file exists.  The manifest
records what produced the store, so that a changed scenario is not mixed into
old results.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simbench import __version__

PACKAGES = ("numpy", "scipy", "numba", "cvxpy", "pandas", "pyarrow", "matplotlib")


class StoreMismatch(RuntimeError):
    """The store under DIR was written by a different scenario."""


@dataclass(frozen=True)
class Unit:
    """One strategy on one seed of one cell; ``key`` names its file."""

    cell: str
    strategy_index: int
    strategy: str
    seed: int

    @property
    def key(self) -> str:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in self.strategy)
        return f"{self.cell}__{self.strategy_index:03d}-{safe}__seed{self.seed:04d}"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "simbench": __version__}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


class Store:
    """A results directory: ``units/*.parquet`` and ``manifest.json``.

    Parameters
    ----------
    root : the directory.
    scenario_hash : canonical hash of the scenario (or sweep) that owns it.
    force : discard results of a different scenario instead of refusing.
    """

    def __init__(self, root: str | Path, scenario_hash: str, source: str = "", force: bool = False):
        self.root = Path(root)
        self.units_dir = self.root / "units"
        self.manifest_path = self.root / "manifest.json"
        self.scenario_hash = scenario_hash
        self.root.mkdir(parents=True, exist_ok=True)
        old = self.read_manifest()
        if old is not None and old.get("scenario_hash") != scenario_hash:
            if not force:
                raise StoreMismatch(
                    f"{self.root} holds results of a different scenario (hash {old.get('scenario_hash', '?')[:12]}, "
                    f"from {old.get('source', '?')}); this one has hash {scenario_hash[:12]} ({source}). "
                    f"Use another --out directory, or --force to discard the old results."
                )
            for f in self.units_dir.glob("*.parquet"):
                f.unlink()
            old = None
        self.units_dir.mkdir(exist_ok=True)
        for tmp in self.units_dir.glob("*.tmp"):  # partial files of an interrupted run
            tmp.unlink()
        self.manifest = old or {"scenario_hash": scenario_hash, "source": source, "created": _now()}
        self.manifest.update(simbench_version=__version__, packages=package_versions())

    def read_manifest(self) -> dict | None:
        return read_manifest(self.root)

    def write_manifest(self, **fields) -> None:
        self.manifest.update(fields)
        self.manifest["units_done"] = len(self.done())
        write_manifest(self.root, self.manifest)

    def done(self) -> set[str]:
        """Keys of the units whose file is complete."""
        return {p.stem for p in self.units_dir.glob("*.parquet")}

    def path(self, unit: Unit) -> Path:
        return self.units_dir / f"{unit.key}.parquet"

    def write_unit(self, unit: Unit, rows: list[dict]) -> Path:
        """Write one unit's rows atomically: a temporary file, fsync, then rename."""
        path = self.path(unit)
        tmp = path.with_suffix(".tmp")
        table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path


def read_manifest(root: str | Path) -> dict | None:
    """``root/manifest.json`` as a dict, or None if there is none."""
    path = Path(root) / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_manifest(root: str | Path, manifest: dict) -> None:
    """Write ``root/manifest.json`` atomically.

    Besides what produced the results, a manifest records how to read them:
    ``world`` (rl, equitable, replay or validation), ``title``, ``command`` and,
    for run and sweep, ``swept`` (the swept keys) and ``cells`` (each cell's id and
    assignments), so reports never guess them from column names.
    """
    path = Path(root) / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def thin_rows(df: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most ``limit`` rows of one unit, evenly spaced, always with its first and last row."""
    if len(df) <= limit:
        return df
    keep = np.unique(np.linspace(0, len(df) - 1, limit).round().astype(np.int64))
    return df.iloc[keep]


def load(root: str | Path, units: list[Unit] | None = None, thin: int | None = None) -> pd.DataFrame:
    """All rows under ``root`` as one DataFrame (units in the given order, else sorted by key).

    ``thin``: keep at most that many evenly spaced rows per unit (first and last kept), so
    that reports of very large stores fit in memory; final values stay exact.
    """
    root = Path(root)
    units_dir = root / "units"
    if not units_dir.is_dir():
        if (root / "results.parquet").exists():
            return pd.read_parquet(root / "results.parquet")
        raise FileNotFoundError(f"{root} holds no simbench results (no units/ folder, no results.parquet)")
    paths = [units_dir / f"{u.key}.parquet" for u in units] if units is not None else sorted(units_dir.glob("*.parquet"))
    if not paths:
        raise FileNotFoundError(f"{units_dir} holds no finished units")
    frames = (pd.read_parquet(p) for p in paths)
    if thin is not None:
        frames = (thin_rows(f, thin) for f in frames)
    return pd.concat(frames, ignore_index=True)
