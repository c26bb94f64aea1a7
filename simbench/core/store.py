"""The results store: one Parquet file per finished unit, written atomically, plus a manifest.

A *unit* is one (cell, strategy, seed): the smallest piece of work.  Its rows
land in ``DIR/units/<unit id>.parquet`` under a temporary name and are renamed
when complete, so an interrupted run (Ctrl-C, SIGTERM or kill -9) loses at
most the units in flight; re-running skips every unit whose file is readable.
The manifest records what produced the store (the scenario's hash, which covers
the contents of the files it reads), so that a changed scenario is not mixed
into old results.  One run at a time holds ``DIR/.lock`` (an OS lock, released
when the process ends, however it ends).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simbench.core.config import UserError
from simbench.core.version import __version__

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

PACKAGES = ("numpy", "scipy", "numba", "cvxpy", "pandas", "pyarrow", "matplotlib")


class StoreError(UserError):
    """A results directory cannot be used as it is; the message says what to do."""


class StoreMismatch(StoreError):
    """The store under DIR was written by a different scenario."""


class StoreBusy(StoreError):
    """Another process is running into the same DIR."""


class BadUnit(StoreError):
    """A unit file is unreadable (truncated, empty or corrupt)."""


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
    """A results directory: ``units/*.parquet`` and ``manifest.json``, locked while open.

    Parameters
    ----------
    root : the directory.
    scenario_hash : canonical hash of the scenario (or sweep) that owns it.
    force : discard results of a different scenario instead of refusing.
    files : SHA-256 of every file the scenario reads, by path (recorded, and named when they change).
    repair : remove unreadable unit files (they are recomputed) instead of refusing.
    """

    def __init__(self, root: str | Path, scenario_hash: str, source: str = "", force: bool = False,
                 files: dict[str, str] | None = None, repair: bool = False):
        self.root = Path(root)
        self.units_dir = self.root / "units"
        self.manifest_path = self.root / "manifest.json"
        self.scenario_hash = scenario_hash
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = lock(self.root)
        try:
            self.repaired = self._open(scenario_hash, source, force, files or {}, repair)
        except BaseException:
            self.close()
            raise

    def _open(self, scenario_hash, source, force, files, repair) -> list[str]:
        old = self.read_manifest(force)
        if old is not None and old.get("scenario_hash") != scenario_hash:
            if not force:
                changed = sorted(p for p, h in old.get("files", {}).items() if p in files and files[p] != h)
                why = f"; the contents of {', '.join(changed)} changed since" if changed else ""
                raise StoreMismatch(
                    f"{self.root} holds results of a different scenario (hash {old.get('scenario_hash', '?')[:12]}, "
                    f"from {old.get('source', '?')}); this one has hash {scenario_hash[:12]} ({source}){why}. "
                    f"Use another --out directory, or --force to discard the old results."
                )
            for f in self.units_dir.glob("*.parquet"):
                f.unlink()
            old = None
        self.units_dir.mkdir(exist_ok=True)
        for tmp in self.units_dir.glob("*.tmp"):  # partial files of an interrupted run
            tmp.unlink()
        self.manifest = old or {"scenario_hash": scenario_hash, "source": source, "created": _now()}
        self.manifest.update(simbench_version=__version__, packages=package_versions(), files=files)
        bad = unreadable(sorted(self.units_dir.glob("*.parquet")), full=repair)
        if bad and not repair:
            it = "it" if len(bad) == 1 else "them"
            raise BadUnit(f"{describe(bad)} in {self.units_dir} unreadable: "
                          f"rerun with --repair to recompute {it}, or delete {it} and rerun")
        for path, _ in bad:
            path.unlink()
        return [path.name for path, _ in bad]

    def close(self) -> None:
        """Release the lock (also released by the OS when the process ends)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_manifest(self, force: bool = False) -> dict | None:
        """The manifest, or None if there is none (or, with ``force``, if it is unreadable)."""
        try:
            return read_manifest(self.root)
        except StoreError:
            if force:
                return {}  # treated as a different scenario: its units are discarded
            raise

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


def write_results(df: pd.DataFrame, out_dir: Path, first: tuple[str, ...] = ()) -> Path:
    """Write ``results.parquet`` atomically (temporary name, then rename), the columns of ``first`` that it has leading."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    lead = [c for c in first if c in df.columns]
    df[lead + [c for c in df.columns if c not in lead]].to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def read_manifest(root: str | Path) -> dict | None:
    """``root/manifest.json`` as a dict, or None if there is none."""
    path = Path(root) / "manifest.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise StoreError(f"{path} is unreadable ({err}): it records which scenario the results "
                         f"in {root} belong to; use another --out directory, or --force to discard them") from None


def write_manifest(root: str | Path, manifest: dict) -> None:
    """Write ``root/manifest.json`` atomically.

    Besides what produced the results, a manifest records how to read them:
    ``world`` (rl, equitable, replay or validation), ``title``, ``command`` and,
    for run and sweep, ``swept`` (the swept keys) and ``cells`` (each cell's id and
    assignments), so reports never guess them from column names.
    """
    path = Path(root) / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w") as fh:
        fh.write(json.dumps(manifest, indent=2, sort_keys=True, default=str))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def command_line(*commands: str) -> str:
    """The invoking ``simbench ...`` command, shell-quoted, for the manifest's ``command``.

    Empty unless ``sys.argv`` runs one of ``commands`` (a call from Python or a test records nothing).
    """
    args = sys.argv[1:]
    at = 0
    while at < len(args) and args[at].startswith("-"):  # top-level options before the command: --blas-threads N
        at += 1 if "=" in args[at] else 2
    return "simbench " + " ".join(shlex.quote(a) for a in args) if at < len(args) and args[at] in commands else ""


def lock(root: Path):
    """Take ``root/.lock`` for this process, or raise ``StoreBusy`` naming the run that holds it.

    ``flock`` locks belong to the open file, so the OS drops the lock when the holder exits,
    even on kill -9: there is no stale lock to clean up.
    """
    fh = open(root / ".lock", "a+")
    try:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # one byte far past the text, so that the holder's pid stays readable
            fh.seek(1 << 20)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError:
        fh.seek(0)
        holder = fh.read().strip() or "a process"
        fh.close()
        raise StoreBusy(f"--out {root} is in use by another simbench run ({holder}); wait for it to finish, "
                        f"or use another --out directory") from None
    fh.truncate(0)
    fh.write(f"pid {os.getpid()}, since {_now()}\n")
    fh.flush()
    return fh


def unreadable(paths: list[Path], full: bool = False) -> list[tuple[Path, str]]:
    """The unit files that cannot be read, with why: footer and row count, or every byte with ``full``."""
    bad = []
    for path in paths:
        try:
            rows = (pq.read_table(path) if full else pq.read_metadata(path)).num_rows
            if rows == 0:
                bad.append((path, "no rows"))
        except (OSError, ValueError, pa.ArrowException) as err:
            bad.append((path, str(err).split("\n")[0]))
    return bad


def describe(bad: list[tuple[Path, str]], shown: int = 3) -> str:
    """Name unreadable unit files and why, the first ``shown`` of them, with a verb: '... is' / '... are'."""
    names = "; ".join(f"{p.name} ({why})" for p, why in bad[:shown])
    if len(bad) == 1:
        return f"unit file {names} is"
    return f"{len(bad)} unit files ({names}{f'; and {len(bad) - shown} more' if len(bad) > shown else ''}) are"


def _read_unit(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise BadUnit(f"unit file {path} is missing; rerun the same command to compute it") from None
    except (OSError, ValueError, pa.ArrowException) as err:
        raise BadUnit(f"unit file {path} is unreadable ({str(err).splitlines()[0]}); rerun the same "
                      f"`simbench run`/`sweep` with --repair to recompute it") from None


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
    frames = (_read_unit(p) for p in paths)
    if thin is not None:
        frames = (thin_rows(f, thin) for f in frames)
    return pd.concat(frames, ignore_index=True)
