"""Where bundled scenarios live and where reports go by default."""
from __future__ import annotations

import os
from pathlib import Path

from simbench.core.config import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped in the repository's ``scenarios/`` folder (if present)."""
    folder = REPO_ROOT / "scenarios"
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def default_out_dir(scenario_name: str) -> Path:
    """``reports/<scenario name>/`` under the current directory."""
    return Path("reports") / scenario_name


def output_dir(path: str | Path, option: str = "--out") -> Path:
    """Create the output folder ``path`` (with parents) and check it can be written; errors name ``option``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(option, str(path), "a folder for the outputs (this is a file)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(option, str(path), f"a folder that can be created ({err.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(option, str(path), "a folder you may write in (permission denied)")
    return path
