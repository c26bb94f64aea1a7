"""Reader of verl's per-step metrics log, the input of the cost model's fit.

verl's file logger (``trainer.logger`` including ``"file"``) writes one JSON line per
step, ``{"step": s, "data": {...}}``, newer versions with ``"elapsed_seconds"``; other
tools write the metrics flat beside ``"step"``.  Both are read.  The keys are those of
volcengine/verl ``verl/trainer/ppo/metric_utils.py`` (``compute_timing_metrics``,
``compute_throughout_metrics``, ``compute_data_metrics``) and the stage names of
``verl/trainer/ppo/ray_trainer.py``:

* ``timing_s/<stage>``: seconds of each timed stage (``gen``, ``reward``,
  ``old_log_prob``, ``ref``, ``adv``, ``update_actor``, ``step``, ...).  Newer verl
  accumulates a stage timed several times in one step (DAPO's extra generation
  batches), older verl kept the last; ``timing_s/generate_sequences`` is the rollout
  worker's own timing inside ``gen``, used when ``gen`` is absent;
* ``timing_per_token_ms/gen`` (per response token) and ``timing_per_token_ms/update_actor``
  (per prompt + response token), which give the token counts when ``perf/total_num_tokens``
  is absent;
* ``perf/time_per_step`` (= ``timing_s/step``), ``perf/total_num_tokens``, ``perf/throughput``;
* ``response_length/{mean,max,min,clip_ratio}``, ``prompt_length/{mean,max,min}``, and
  DAPO's ``train/num_gen_batches``.

Lines without any ``timing_s/`` key (validation before training) are not steps: they
are counted and named in the read summary.  Other keys are ignored.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simbench.core.config import ConfigError

# canonical column -> the keys that give it, in order of preference
FIELDS: dict[str, tuple[str, ...]] = {
    "gen_s": ("timing_s/gen", "timing_s/generate_sequences"),
    "update_s": ("timing_s/update_actor",),
    "logprob_s": ("timing_s/old_log_prob",),
    "ref_s": ("timing_s/ref",),
    "reward_s": ("timing_s/reward",),
    "step_s": ("timing_s/step", "perf/time_per_step"),
    "tokens": ("perf/total_num_tokens",),
    "throughput": ("perf/throughput",),
    "gen_ms_per_token": ("timing_per_token_ms/gen",),
    "update_ms_per_token": ("timing_per_token_ms/update_actor",),
    "resp_mean": ("response_length/mean",),
    "resp_max": ("response_length/max",),
    "resp_min": ("response_length/min",),
    "clip_ratio": ("response_length/clip_ratio",),
    "prompt_mean": ("prompt_length/mean",),
    "prompt_max": ("prompt_length/max",),
    "prompt_min": ("prompt_length/min",),
    "gen_batches": ("train/num_gen_batches",),
}
# timing_s/ stages nested inside another stage (not parts of the step to subtract)
NESTED = ("timing_s/step", "timing_s/generate_sequences")
FRACTIONS = ("clip_ratio",)


class MetricsError(ConfigError):
    """A metrics log is malformed: ``path:line: key 'k' = value is invalid: what is allowed``."""

    def __init__(self, path, line: int | None, key: str, value, allowed: str):
        super().__init__(key, value, allowed, str(path))
        where = f"{path}:{line}" if line is not None else str(path)
        self.line = line
        self.args = (f"{where}: key '{key}' = {value!r} is invalid: {allowed}",)


@dataclass
class MetricsLog:
    """The training steps of a metrics log.

    ``frame``: one row per step (index ``step``, sorted), the columns of ``FIELDS`` (nan where
    the log lacks them), ``parts_s`` (sum of the step's top-level ``timing_s/`` stages) and
    ``line`` (its line number).  ``keys``: the log key(s) each present column came from, " / "-separated.
    """

    path: str
    frame: pd.DataFrame
    keys: dict[str, str]
    skipped: list[int] = field(default_factory=list)

    def summary(self) -> str:
        s = f"{self.path}: {len(self.frame)} steps"
        if self.skipped:
            s += f", {len(self.skipped)} line(s) without timing_s/ keys skipped (validation only; lines {_lines(self.skipped)})"
        return s

    def require(self, column: str, why: str) -> np.ndarray:
        """The column as floats; ``MetricsError`` naming its keys and the first step lacking it."""
        x = self.frame[column].to_numpy(float)
        bad = np.flatnonzero(np.isnan(x))
        if len(bad):
            line = int(self.frame["line"].iloc[bad[0]])
            raise MetricsError(self.path, line, " or ".join(FIELDS.get(column, (column,))), None, f"a number on every step ({why})")
        return x


def _lines(lines: list[int]) -> str:
    return ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")


def _number(value, path, line: int, key: str, fraction: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    if not ok or (fraction and value > 1):
        raise MetricsError(path, line, key, value, "a fraction in [0, 1]" if fraction else "a finite non-negative number")
    return float(value)


def _record(line: str, path, no: int) -> tuple[int, dict]:
    """(step, metrics) of one line, nested or flat."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as err:
        raise MetricsError(path, no, "line", line.strip()[:60], f"a JSON object ({err.msg})") from None
    if not isinstance(rec, dict):
        raise MetricsError(path, no, "line", line.strip()[:60], 'a JSON object {"step": s, "data": {...}}')
    step = rec.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise MetricsError(path, no, "step", step, "a non-negative integer")
    if "data" in rec:
        data = rec["data"]
        if not isinstance(data, dict):
            raise MetricsError(path, no, "data", data, "an object of metric name -> value")
        return step, data
    return step, {k: v for k, v in rec.items() if k not in ("step", "elapsed_seconds")}


def read_metrics(path) -> MetricsLog:
    """Read a verl metrics log (JSON lines; see the module docstring); every bad line names its file, line, key and value."""
    path = Path(path)
    rows, lines, skipped, keys = [], {}, [], {}
    with path.open(encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
        for no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            step, data = _record(line, path, no)
            if not any(isinstance(k, str) and k.startswith("timing_s/") for k in data):
                skipped.append(no)
                continue
            if step in lines:
                raise MetricsError(path, no, "step", step, f"a step not logged before (line {lines[step]} has it too; "
                                                           "keep one run per file)")
            lines[step] = no
            row = {"step": step, "line": no}
            for column, names in FIELDS.items():
                name = next((k for k in names if k in data), None)
                row[column] = math.nan if name is None else _number(data[name], path, no, name, column in FRACTIONS)
                if name is not None and name not in keys.setdefault(column, name).split(" / "):
                    keys[column] += " / " + name  # lines of different verl versions: say that both keys were read
            row["parts_s"] = sum(_number(v, path, no, k, False) for k, v in data.items()
                                 if k.startswith("timing_s/") and k not in NESTED)
            rows.append(row)
    if not rows:
        raise MetricsError(path, None, "timing_s/gen", None, "training steps with timing_s/ keys (is this verl's metrics log?)")
    frame = pd.DataFrame(rows).set_index("step").sort_index()
    _derive(frame)
    return MetricsLog(str(path), frame, keys, skipped)


def _derive(frame: pd.DataFrame) -> None:
    """Token and sample counts where the log gives them only indirectly (verl's per-token timings)."""
    tok = frame["tokens"]
    frame["tokens"] = tok.fillna(frame["update_s"] * 1e3 / frame["update_ms_per_token"])
    frame["resp_tokens"] = (frame["gen_s"] * 1e3 / frame["gen_ms_per_token"]).fillna(
        frame["tokens"] * frame["resp_mean"] / (frame["prompt_mean"] + frame["resp_mean"]))
    frame["samples"] = np.rint(frame["tokens"] / (frame["prompt_mean"] + frame["resp_mean"]))
