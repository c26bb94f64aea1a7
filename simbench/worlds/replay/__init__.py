"""Real rollout logs: readers into one canonical table, replay, and calibration of the simulator."""
from __future__ import annotations

from pathlib import Path

from simbench.worlds.replay.readers import FORMATS, read_history, read_log, read_table, read_trl, read_verl
from simbench.worlds.replay.table import COLUMNS, LogError, ReadReport, appearance_counts, estimate_tokens, step_prompt_counts

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

# name -> (file, format, reader options, prompts per training step of the logged run) of each shipped log
BUNDLED = {"one_shot_rlvr": ("acc_first26.json", "history", {"n": 8}, 128)}


def bundled(name: str = "one_shot_rlvr", path_only: bool = False):
    """A log shipped with simbench: its (table, report), or its path with ``path_only``.

    ``one_shot_rlvr``: per-prompt accuracy of 1,209 DSR-sub prompts over their first 26
    appearances in a verl GRPO run of Qwen2.5-Math-1.5B (n = 8); see its SOURCE.md.
    """
    if name not in BUNDLED:
        raise LogError(name, "bundled log", "unknown bundled log", name, f"one of {sorted(BUNDLED)}")
    file, fmt, opts, batch = BUNDLED[name]
    path = DATA_DIR / name / file
    if path_only:
        return path
    table, report = read_log(path, fmt, **opts)
    report.path = f"bundled:{name} (simbench/data/{name}/{file})"  # the same on every machine, for reports
    report.batch = batch  # a history's steps are appearances: the run's batch comes from its SOURCE.md
    return table, report


__all__ = ["FORMATS", "COLUMNS", "LogError", "ReadReport", "read_log", "read_verl", "read_trl", "read_history",
           "read_table", "appearance_counts", "step_prompt_counts", "estimate_tokens", "bundled", "DATA_DIR", "BUNDLED"]
