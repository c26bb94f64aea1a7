"""What every world's scenario shares: its name, hashes and seeds, the files it reads, and the TOML reader.

A world's scenario dataclass subclasses ``Seeded``; ``simbench.worlds.load_scenario``
reads a file with ``read_toml`` and hands the table to the world it names.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from pathlib import Path

import numpy as np

from simbench.core.config import ConfigError, require, require_memory, to_dict


def require_results(steps: int, seeds: int, strategies: int, seeds_key: str = "seeds") -> None:
    """The units (a few hundred bytes each) and their rows (one per step, about 512 bytes) must fit in memory."""
    key, value = ("engine.steps", steps) if steps > seeds else (seeds_key, seeds)
    require_memory(256.0 * seeds * strategies + 512.0 * steps * seeds * strategies, key, value,
                   f"the results of {strategies} strategies x {seeds} seeds x {steps} steps")


def check_name(name: str) -> None:
    """A scenario's name is its default output folder, ``reports/<name>/``: it must be one plain folder name."""
    require(bool(name.strip()) and name not in (".", "..") and not set(name) & set("/\\\0"), "name", name,
            "a non-empty folder name without '/', '\\' or NUL, other than '.' and '..' (the default output is reports/<name>/)")


class Seeded:
    """Hashes and seeds shared by every world's scenario.

    ``NOT_WORLD``: the keys that do not define the world a cell runs in.
    """

    NOT_WORLD: tuple[str, ...] = ("name", "description", "strategies", "seeds", "report")

    def to_dict(self) -> dict:
        return to_dict(self)

    def world_hash(self) -> str:
        """Stable hash of everything that defines the world a cell runs in (not strategies, seeds or report).

        ``NOT_WORLD`` names top-level keys, or dotted key paths (e.g. ``engine.eval_every``).
        """
        d = self.to_dict()
        for key in self.NOT_WORLD:
            *path, last = key.split(".")
            table = d
            for part in path:
                table = table.get(part, {})
            table.pop(last, None)
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()

    def canonical_hash(self) -> str:
        """Stable hash of the whole scenario, including the contents of every file it reads.

        A scenario that reads no file hashes exactly as before files were hashed, so its stores stay valid.
        """
        d = self.to_dict()
        files = {key: digest for key, (_, digest) in self.files().items()}
        if files:
            d["files"] = files  # no scenario key is called "files", so this cannot collide
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()

    def cell_seed(self, seed_index: int) -> np.random.SeedSequence:
        """The seed of one cell: from the world's hash, ``seed`` and the seed index, never a position.

        File contents are not part of it: a referenced file is named by its path here, so editing a
        table reruns on the same random streams (common random numbers) while the store, which hashes
        contents (``canonical_hash``), sees a changed scenario.
        """
        return np.random.SeedSequence([int(self.world_hash()[:16], 16), self.seed, seed_index])

    def referenced_files(self) -> dict[str, Path]:
        """Every file the scenario reads, by key path, resolved against the scenario's folder."""
        return {}

    def files(self) -> dict[str, tuple[Path, str]]:
        """(path, SHA-256 of its bytes) of every referenced file, by key path, as pinned when loaded."""
        pins = getattr(self, "file_pins", {})
        return {key: (path, pins.get(str(path)) or file_digest(path, key))
                for key, path in self.referenced_files().items()}

    def check_files(self) -> None:
        """Raise ``ConfigError`` if a referenced file changed since the scenario was loaded."""
        pins = getattr(self, "file_pins", {})
        for key, path in self.referenced_files().items():
            pinned = pins.get(str(path))
            if pinned is not None and file_digest(path, key) != pinned:
                raise ConfigError(key, str(path), "a file left as it was when the run started (it was edited "
                                  "since: rerun to use its new contents)", str(path))


def file_digest(path: Path, where: str) -> str:
    """SHA-256 of a file's bytes; a missing or unreadable file is a ``ConfigError`` at ``where``."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as err:
        raise ConfigError(where, str(path), f"a readable file ({err.strerror})") from None


def resolve_baseline(scenario) -> None:
    """Set a frozen scenario's unset ``report.baseline`` once: ``uniform`` if a strategy has that label, else the first."""
    if not scenario.report.baseline and scenario.strategies:
        labels = [s.label for s in scenario.strategies]
        baseline = "uniform" if "uniform" in labels else labels[0]
        object.__setattr__(scenario, "report", dataclasses.replace(scenario.report, baseline=baseline))


def pin_files(scenario: Seeded) -> None:
    """Record the SHA-256 of every file the scenario reads, now: its identity for the whole run."""
    pins = {str(path): file_digest(path, key) for key, path in scenario.referenced_files().items()}
    if pins:
        object.__setattr__(scenario, "file_pins", pins)


def read_toml(path: str | Path) -> dict:
    """Parse a scenario file; a missing file, a folder, bytes that are not UTF-8 or bad TOML are ``ConfigError``."""
    path = Path(path)
    if not path.exists():
        raise ConfigError("<file>", str(path), "an existing scenario TOML file", str(path))
    if not path.is_file():
        raise ConfigError("<file>", str(path), "a scenario TOML file (this is a folder)", str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise ConfigError("<encoding>", f"byte 0x{raw[err.start]:02x} at line {line}", "UTF-8 text (TOML files are UTF-8)",
                          str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("<toml>", str(err), "valid TOML", str(path)) from None


