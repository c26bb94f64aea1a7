"""Output directories of any world: their manifest, and their report written by the world that made them.

Every output directory of simbench (``run``, ``sweep``, ``replay``, ``validate``)
holds a ``manifest.json`` that records its ``world``; ``report_dir`` asks that
world (``simbench.worlds``) for the report's blocks and summary table.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from simbench.core.config import ConfigError
from simbench.core.report import write_report
from simbench.core.store import read_manifest
from simbench.worlds import of_manifest


def manifest_of(root: Path) -> dict:
    """The manifest of a results directory, with a clear error when there is none."""
    manifest = read_manifest(root)
    if manifest is None:
        raise ConfigError("<directory>", str(root), "a directory written by simbench run, sweep, replay or validate "
                          "(it has no manifest.json)", "command line")
    return manifest


def report_dir(root: str | Path, **options) -> tuple[Path, pd.DataFrame | None]:
    """(Re)write the report of a results directory, and its ``summary.csv`` if its world has one.

    ``options`` (``baseline``, ``target``, ``thin``; None = the manifest's or the
    default) go to the world's builder; one that the world does not take is an error.
    """
    root = Path(root)
    manifest = manifest_of(root)
    world = of_manifest(root, manifest)
    for key, value in options.items():
        if value is not None and key not in world.report_options:
            raise ConfigError(f"--{key}", value, f"not an option of {manifest['world']} reports (it takes: "
                              f"{', '.join('--' + o for o in world.report_options) or 'none'})", "command line")
    folder = root / "report"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        blocks, summary = world.build_report(root, folder, manifest, **{k: v for k, v in options.items() if k in world.report_options})
    except FileNotFoundError as err:  # e.g. a run interrupted before its first unit finished
        raise ConfigError("<directory>", str(root), f"a directory with finished results ({err})", "command line") from None
    if summary is not None:
        summary.to_csv(root / "summary.csv", index=False)
    return write_report(blocks, root, manifest.get("title", root.name), manifest.get("command", "")), summary
