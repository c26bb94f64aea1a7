"""The canonical rollout table every log reader produces, its read report and its errors.

One row per logged response (sample):

============  ========  ====================================================
column        dtype     meaning
============  ========  ====================================================
step          int64     training step (or appearance index for histories)
prompt_id     int64     dense prompt index 0..P-1 (sorted by ``prompt_key``)
prompt_key    str       the log's own prompt identity (index, text, ...)
group         str       data source / group of the prompt ("all" if unknown)
sample        int64     index of the response within its (step, prompt) group
reward        float64   the logged (possibly continuous) reward
passed        int8      the reward itself (binary rewards), or 1 if ``reward >= threshold``
tokens        int64     response tokens (counted or estimated; -1: unknown)
============  ========  ====================================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simbench.core.config import ConfigError

COLUMNS = ["step", "prompt_id", "prompt_key", "group", "sample", "reward", "passed", "tokens"]

# Rule used when a log has response text but no token counts.
CHARS_PER_TOKEN = 4.0


def estimate_tokens(text: str) -> int:
    """Token estimate for a response without a count: ``ceil(len(text) / 4)``, at least 1.

    Four characters per token is the usual rule of thumb for English and
    LaTeX-heavy math with BPE tokenizers; pass a count column when exactness matters.
    """
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


class LogError(ConfigError):
    """A log file is malformed; the message names the file, the line (or row/key) and what is wrong."""

    def __init__(self, path, line, problem: str, value=None, allowed: str = ""):
        if isinstance(line, np.integer):
            line = int(line)
        where = f"line {line}" if isinstance(line, int) else str(line)
        super().__init__(where, value, allowed or problem, str(path))
        self.path, self.line, self.problem = str(path), line, problem
        text = f"{path}:{line}: {problem}" if isinstance(line, int) else f"{path}: {where}: {problem}"
        if value is not None:
            text += f" (got {value!r})"
        if allowed:
            text += f"; expected {allowed}"
        self.args = (text,)

    def __str__(self) -> str:
        return self.args[0]


@dataclass
class ReadReport:
    """What a reader read: counts of records, prompts, steps and groups, and bad lines skipped.

    ``threshold``: the pass threshold given for continuous rewards (None: rewards are 0/1).
    ``batch``: prompts per training step, the median over log steps (None for a history, whose steps
    are appearances, unless the run is known).
    """

    path: str
    format: str
    records: int = 0
    prompts: int = 0
    steps: int = 0
    groups: int = 0
    bad_lines: int = 0
    bad_examples: list[str] = field(default_factory=list)
    tokens_rule: str = "unknown (-1)"
    threshold: float | None = None
    batch: int | None = None

    def add_bad(self, err: LogError, lines: int = 1) -> None:
        self.bad_lines += lines
        if len(self.bad_examples) < 5:
            self.bad_examples.append(str(err))

    def summary(self) -> str:
        text = (f"{self.path} [{self.format}]: {self.records} records, {self.prompts} prompts, {self.steps} steps, "
                f"{self.groups} groups; tokens: {self.tokens_rule}; "
                + ("rewards 0/1" if self.threshold is None else f"pass if reward >= {self.threshold:g}"))
        if self.bad_lines:
            text += f"; {self.bad_lines} bad lines skipped (first: {self.bad_examples[0]})"
        return text


class Skipper:
    """Raise a bad line's error, or count it when ``skip`` is on (``--skip-bad-lines``)."""

    def __init__(self, report: ReadReport, skip: bool):
        self.report, self.skip = report, skip

    def __call__(self, err: LogError, lines: int = 1) -> None:
        if not self.skip:
            raise err
        self.report.add_bad(err, lines)


def finish(rows: dict[str, list], report: ReadReport, threshold: float | None, skip: Skipper,
           expect_n: int | None = None, variable_groups: bool = False, where: list | None = None) -> pd.DataFrame:
    """Build the canonical table from raw columns (step, prompt_key, group, reward, tokens, optional sample).

    Checks group sizes: every (step, prompt) group must have ``expect_n``
    samples, or (when ``expect_n`` is None) the most common size, unless
    ``variable_groups``.  ``where`` gives each raw record's line/row for errors.
    ``threshold`` None: rewards must be 0 or 1 (a continuous reward is refused, never
    silently binarised); else ``passed = reward >= threshold``.  A log with no record is an error.
    """
    if threshold is not None and not math.isfinite(threshold):
        raise ConfigError("--threshold", threshold, "a finite number")
    n = len(rows["step"])
    df = pd.DataFrame({
        "step": np.asarray(rows["step"], np.int64).reshape(n),
        "prompt_key": pd.Series(rows["prompt_key"], dtype=object).astype(str),
        "group": pd.Series(rows.get("group") or ["all"] * n, dtype=object).astype(str),
        "reward": np.asarray(rows["reward"], np.float64).reshape(n),
        "tokens": np.asarray(rows.get("tokens") or [-1] * n, np.int64).reshape(n),
        "_where": where if where is not None else list(range(1, n + 1)),
    })
    if rows.get("sample"):
        df["sample"] = np.asarray(rows["sample"], np.int64)
    else:
        df["sample"] = df.groupby(["step", "prompt_key"], sort=False).cumcount().astype(np.int64)
    if n:
        dup = df.duplicated(["step", "prompt_key", "sample"])
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            err = LogError(report.path, df["_where"].iloc[i], "duplicate sample index within a (step, prompt) group",
                           int(df["sample"].iloc[i]), "distinct sample indices per group")
            skip(err, int(dup.sum()))
            df = df[~dup]
        sizes = df.groupby(["step", "prompt_key"], sort=False)["sample"].transform("size")
        target = expect_n if expect_n is not None else (None if variable_groups else int(sizes.mode().iloc[0]))
        if target is not None:
            bad = (sizes != target).to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                err = LogError(report.path, df["_where"].iloc[i],
                               f"group (step {df['step'].iloc[i]}, prompt {df['prompt_key'].iloc[i]!r}) has inconsistent size",
                               int(sizes.iloc[i]), f"{target} samples per group (or pass variable group sizes)")
                skip(err, int(bad.sum()))
                df = df[~bad]
    if len(df) == 0:
        why = f": all {report.bad_lines} bad lines were skipped (first: {report.bad_examples[0]})" if report.bad_lines else ""
        raise LogError(report.path, "file", f"no records{why}", allowed=f"at least one {report.format} record")
    if threshold is None:
        binary = df["reward"].isin((0.0, 1.0)).to_numpy()
        if not binary.all():
            i = int(np.flatnonzero(~binary)[0])
            raise LogError(report.path, df["_where"].iloc[i], "the reward is not 0 or 1", float(df["reward"].iloc[i]),
                           "binary rewards, or --threshold T to count reward >= T as a pass")
        threshold = 1.0
        report.threshold = None
    else:
        report.threshold = threshold
    keys = sorted(df["prompt_key"].unique(), key=_natural)
    df["prompt_id"] = df["prompt_key"].map({k: i for i, k in enumerate(keys)}).astype(np.int64)
    df["passed"] = (df["reward"] >= threshold).astype(np.int8)
    df = df.sort_values(["step", "prompt_id", "sample"], kind="stable")[COLUMNS].reset_index(drop=True)
    report.records = len(df)
    report.prompts = int(df["prompt_id"].nunique())
    report.steps = int(df["step"].nunique())
    report.groups = int(df.groupby(["step", "prompt_id"]).ngroups) if len(df) else 0
    report.batch = int(df.groupby("step")["prompt_id"].nunique().median())
    return df


def _natural(key: str):
    """Sort integer-like keys numerically, the rest after them as text."""
    try:
        return (0, int(key), "")
    except ValueError:
        return (1, 0, key)


def step_prompt_counts(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (step, prompt_id): n samples and k passed (the sufficient statistic of a 0/1 group)."""
    g = table.groupby(["step", "prompt_id"], sort=True)
    return pd.DataFrame({"n": g.size(), "k": g["passed"].sum()}).reset_index()


def appearance_counts(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(K, N): prompts x appearances matrices of passes and samples; appearance t is a prompt's t-th logged step.

    Missing appearances have N = 0.
    """
    gc = step_prompt_counts(table)
    gc["t"] = gc.groupby("prompt_id").cumcount()
    P = int(table["prompt_id"].max()) + 1 if len(table) else 0
    T = int(gc["t"].max()) + 1 if len(gc) else 0
    K = np.zeros((P, T), np.int64)
    N = np.zeros((P, T), np.int64)
    K[gc["prompt_id"], gc["t"]] = gc["k"]
    N[gc["prompt_id"], gc["t"]] = gc["n"]
    return K, N
