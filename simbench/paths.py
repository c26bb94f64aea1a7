"""Where bundled scenarios live and where reports go by default."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped in the repository's ``scenarios/`` folder (if present)."""
    folder = REPO_ROOT / "scenarios"
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def default_out_dir(scenario_name: str) -> Path:
    """``reports/<scenario name>/`` under the current directory."""
    return Path("reports") / scenario_name
