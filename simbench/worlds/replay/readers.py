"""Readers of real rollout logs into the canonical table (see ``simbench.worlds.replay.table``).

* ``verl``: rollout dumps (``trainer.rollout_data_dir``), one ``{global_step}.jsonl``
  per step; groups are rebuilt from identical (step, input) since lines are shuffled.
* ``trl``: GRPOTrainer ``completions/completions_{step:05d}.parquet``; groups are (step, prompt).
* ``history``: a JSON object ``{prompt index: [accuracy of each appearance]}`` with n per
  group; appearance t (from 1) is the step, with round(n acc) passes and n - that failures.
* ``table``: a generic CSV / Parquet / JSONL file with a column mapping.

Every reader checks each record, raises ``LogError`` (file and line) or, with
``skip_bad_lines``, counts the bad lines in the ``ReadReport`` (bytes that are not
UTF-8 make a line bad too).  Rewards must be 0 or 1 unless a ``threshold`` is
given for continuous rewards; a log with no record is an error.
"""
from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pandas as pd

from simbench.worlds.replay.table import LogError, ReadReport, Skipper, estimate_tokens, finish

FORMATS = ("verl", "trl", "history", "table")


def _number(value, path, line, name) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise LogError(path, line, f"field '{name}' is not a number", value, "a finite number") from None
    if not math.isfinite(float(value)):
        raise LogError(path, line, f"field '{name}' is not finite", value, "a finite number")
    return float(value)


# Files are decoded with errors="surrogateescape": a byte that is not UTF-8 becomes one of these
# lone surrogates (which decoded UTF-8 never holds), so it can be reported at its line, or skipped with it.
_UNDECODED = re.compile("[\udc80-\udcff]")


def _check_utf8(text: str, path, line, what: str = "the line") -> None:
    """Raise ``LogError`` if ``text`` (decoded with surrogateescape) held bytes that are not UTF-8."""
    m = _UNDECODED.search(text)
    if m:
        byte = ord(m.group()) - 0xDC00
        raise LogError(path, line, f"{what} is not UTF-8 text (byte 0x{byte:02x} at column {m.start() + 1})",
                       allowed="UTF-8 text (re-encode the file, e.g. iconv -f latin1 -t utf-8)")


def _read_parquet(file: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(file)
    except Exception as err:  # pyarrow raises several types for a truncated or corrupt file
        raise LogError(file, "file", f"not a readable Parquet file ({err})") from None


def _files(path: Path, pattern: str, what: str) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob(pattern)) or sorted(path.glob(f"*/{pattern}"))
        if not files:
            raise LogError(path, "directory", f"no {what} files ({pattern}) found")
        return files
    if not path.exists():
        raise LogError(path, "file", "does not exist", allowed=f"a {what} file or a directory of them")
    return [path]


def read_verl(path, reward_field: str = "score", threshold: float | None = None, tokens_field: str | None = None,
              expect_n: int | None = None, variable_groups: bool = False, skip_bad_lines: bool = False):
    """Read verl rollout dumps (a ``{step}.jsonl`` file or a directory of them).

    Required per line: ``input`` (prompt text), the reward field (default
    ``score``).  ``step`` comes from the line, else from the file name.  Token
    counts: ``tokens_field`` if given, else ``ceil(len(output) / 4)``.
    Optional ``data_source`` names the group.
    """
    path = Path(path)
    report = ReadReport(str(path), "verl")
    report.tokens_rule = f"count field '{tokens_field}'" if tokens_field else "estimated ceil(len(output)/4)"
    skip = Skipper(report, skip_bad_lines)
    rows = {"step": [], "prompt_key": [], "group": [], "reward": [], "tokens": []}
    where = []
    for file in _files(path, "*.jsonl", "verl rollout (.jsonl)"):
        m = re.fullmatch(r"(\d+)", file.stem)
        file_step = int(m.group(1)) if m else None
        # newline="\n": JSONL lines end at \n only (a stray \r inside a line is not a line break),
        # so line numbers match `wc -l` and an editor's
        with file.open(encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = _parse_json_line(line, file, line_no)
                    if "input" not in rec or not isinstance(rec["input"], str):
                        raise LogError(file, line_no, "missing or non-text field 'input'", rec.get("input"), "the decoded prompt (a string)")
                    if reward_field not in rec:
                        raise LogError(file, line_no, f"missing reward field '{reward_field}'", None, f"one of the fields {sorted(rec)} via --reward-field")
                    reward = _number(rec[reward_field], file, line_no, reward_field)
                    step = rec.get("step", file_step)
                    if step is None or isinstance(step, bool) or not isinstance(step, int) or step < 0:
                        raise LogError(file, line_no, "no valid 'step' (not in the line, nor a number file name)", step, "a non-negative integer")
                    if tokens_field:
                        if tokens_field not in rec:
                            raise LogError(file, line_no, f"missing token count field '{tokens_field}'")
                        tokens = int(_number(rec[tokens_field], file, line_no, tokens_field))
                    else:
                        out = rec.get("output")
                        if not isinstance(out, str):
                            raise LogError(file, line_no, "missing or non-text field 'output' (needed to estimate tokens)", out, "the decoded response")
                        tokens = estimate_tokens(out)
                except LogError as err:
                    skip(err)
                    continue
                rows["step"].append(step)
                rows["prompt_key"].append(rec["input"])
                rows["group"].append(str(rec.get("data_source", "all")))
                rows["reward"].append(reward)
                rows["tokens"].append(tokens)
                where.append(f"{file.name}:{line_no}")
    return finish(rows, report, threshold, skip, expect_n, variable_groups, where), report


def _parse_json_line(line: str, file: Path, line_no: int) -> dict:
    _check_utf8(line, file, line_no)
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as err:
        raise LogError(file, line_no, f"malformed JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(rec, dict):
        raise LogError(file, line_no, "a line is not a JSON object", type(rec).__name__, "one JSON object per line")
    return rec


def read_trl(path, reward_column: str | None = None, threshold: float | None = None, tokens_column: str | None = None,
             expect_n: int | None = None, variable_groups: bool = False, skip_bad_lines: bool = False):
    """Read TRL GRPOTrainer completion tables (``completions_*.parquet`` or a directory of them).

    Columns: ``step``, ``prompt``, ``completion``, one per reward function,
    ``advantage``.  ``reward_column`` names the reward (needed when there are
    several); tokens from ``tokens_column`` or ``ceil(len(completion) / 4)``.
    """
    path = Path(path)
    report = ReadReport(str(path), "trl")
    report.tokens_rule = f"count column '{tokens_column}'" if tokens_column else "estimated ceil(len(completion)/4)"
    skip = Skipper(report, skip_bad_lines)
    rows = {"step": [], "prompt_key": [], "reward": [], "tokens": []}
    where = []
    known = {"step", "prompt", "completion", "advantage", "image", "tokens", "completion_length", tokens_column}
    for file in _files(path, "completions_*.parquet", "TRL completions (.parquet)"):
        df = _read_parquet(file)
        for col in ("step", "prompt", "completion"):
            if col not in df.columns:
                raise LogError(file, "header", f"missing column '{col}'", list(df.columns), "TRL's completions table")
        col = reward_column
        if col is None:
            cands = [c for c in df.columns if c not in known]
            if len(cands) != 1:
                raise LogError(file, "header", "cannot tell the reward column", cands, "exactly one, or name it with --reward-column")
            col = cands[0]
        if col not in df.columns:
            raise LogError(file, "header", f"missing reward column '{col}'", list(df.columns))
        for i, rec in enumerate(df.to_dict("records")):
            row = f"row {i}"
            try:
                reward = _number(rec[col], file, row, col)
                step = rec["step"]
                if isinstance(step, bool) or not float(step).is_integer() or step < 0:
                    raise LogError(file, row, "field 'step' is not a non-negative integer", step)
                if not isinstance(rec["prompt"], str):
                    raise LogError(file, row, "field 'prompt' is not text", rec["prompt"])
                if tokens_column:
                    tokens = int(_number(rec.get(tokens_column), file, row, tokens_column))
                elif isinstance(rec["completion"], str):
                    tokens = estimate_tokens(rec["completion"])
                else:
                    raise LogError(file, row, "field 'completion' is not text", rec["completion"])
            except LogError as err:
                skip(err)
                continue
            rows["step"].append(int(step))
            rows["prompt_key"].append(rec["prompt"])
            rows["reward"].append(reward)
            rows["tokens"].append(tokens)
            where.append(f"{file.name}:{row}")
    return finish(rows, report, threshold, skip, expect_n, variable_groups, where), report


def read_history(path, n: int = 8, skip_bad_lines: bool = False):
    """Read a per-prompt accuracy history ``{index: [acc_1, acc_2, ...]}`` with ``n`` samples per group.

    Appearance t (from 1) becomes step t; its group gets ``round(n acc)`` passes
    (reward 1) then failures (reward 0).  ``n acc`` must be an integer up to 1e-6.
    """
    path = Path(path)
    if n < 1:
        raise LogError(path, "option n", "samples per group must be >= 1", n)
    report = ReadReport(str(path), "history", tokens_rule="unknown (-1): the history has no responses")
    skip = Skipper(report, skip_bad_lines)
    if not path.exists():
        raise LogError(path, "file", "does not exist", allowed="a JSON accuracy history")
    if not path.is_file():
        raise LogError(path, "file", "is a folder", allowed="a JSON accuracy history file")
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        bad = _UNDECODED.search(text)
        if bad:  # bytes that are not UTF-8 outside a key: the whole document is unreadable
            line = text.count("\n", 0, bad.start()) + 1
            _check_utf8(text.splitlines()[line - 1], path, line)
        raise LogError(path, err.lineno, f"malformed JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(data, dict):
        raise LogError(path, 1, "the history is not a JSON object", type(data).__name__, "{prompt index: [accuracies]}")
    rows = {"step": [], "prompt_key": [], "reward": [], "sample": []}
    where = []
    for key, accs in data.items():
        loc = f"key {key!r}"
        try:
            _check_utf8(key, path, loc, "the key")
        except LogError as err:
            skip(err)
            continue
        if not isinstance(accs, list):
            skip(LogError(path, loc, "value is not a list of accuracies", accs))
            continue
        for t, acc in enumerate(accs, start=1):
            try:
                a = _number(acc, path, f"{loc}[{t - 1}]", "accuracy")
                k = round(n * a)
                if not 0.0 <= a <= 1.0 or abs(n * a - k) > 1e-6:
                    raise LogError(path, f"{loc}[{t - 1}]", f"accuracy is not a multiple of 1/{n} in [0, 1]", acc,
                                   f"k/{n} for an integer k (is n right?)")
            except LogError as err:
                skip(err)
                continue
            rows["step"] += [t] * n
            rows["prompt_key"] += [str(key)] * n
            rows["reward"] += [1.0] * k + [0.0] * (n - k)
            rows["sample"] += list(range(n))
            where += [f"{loc}[{t - 1}]"] * n
    table = finish(rows, report, None, skip, n, False, where)
    report.batch = None  # a history's steps are appearances, not training steps: its batch is unknown
    return table, report


def read_table(path, columns: dict[str, str] | None = None, threshold: float | None = None, expect_n: int | None = None,
               variable_groups: bool = False, skip_bad_lines: bool = False):
    """Read a generic CSV / Parquet / JSONL table; ``columns`` maps canonical names to the file's.

    Required: ``step``, ``prompt``, ``reward``; optional ``group``, ``sample``, ``tokens``.
    """
    path = Path(path)
    cols = {"step": "step", "prompt": "prompt", "reward": "reward"}
    cols.update(columns or {})
    allowed = {"step", "prompt", "reward", "group", "sample", "tokens"}
    unknown = sorted(set(cols) - allowed)
    if unknown:
        raise LogError(path, "column mapping", f"unknown canonical column '{unknown[0]}'", unknown[0], f"one of {sorted(allowed)}")
    report = ReadReport(str(path), "table")
    report.tokens_rule = f"count column '{cols['tokens']}'" if "tokens" in cols else "unknown (-1)"
    skip = Skipper(report, skip_bad_lines)
    if not path.exists():
        raise LogError(path, "file", "does not exist", allowed="a CSV, Parquet or JSONL file")
    if not path.is_file():
        raise LogError(path, "file", "is a folder", allowed="a CSV, Parquet or JSONL file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        records = [(f"row {i}", r) for i, r in enumerate(_read_parquet(path).to_dict("records"))]
    elif suffix in (".jsonl", ".json", ".ndjson"):
        records = []
        with path.open(encoding="utf-8", errors="surrogateescape", newline="\n") as fh:  # lines end at \n only, as above
            for line_no, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        records.append((line_no, _parse_json_line(line, path, line_no)))
                    except LogError as err:
                        skip(err)
    elif suffix in (".csv", ".tsv"):
        records = _csv_records(path, "\t" if suffix == ".tsv" else ",", skip)
    else:
        raise LogError(path, "file", f"unknown table type '{suffix}'", suffix, ".csv, .tsv, .parquet or .jsonl")
    rows = {"step": [], "prompt_key": [], "reward": [], "group": [], "tokens": [], "sample": []}
    where = []
    for loc, rec in records:
        try:
            for canon in ("step", "prompt", "reward"):
                if cols[canon] not in rec or rec[cols[canon]] in ("", None):
                    raise LogError(path, loc, f"missing field '{cols[canon]}' (mapped to {canon})", None, f"one of {sorted(rec)}")
            step = _number(rec[cols["step"]], path, loc, cols["step"])
            if not step.is_integer() or step < 0:
                raise LogError(path, loc, f"field '{cols['step']}' is not a non-negative integer", rec[cols["step"]])
            reward = _number(rec[cols["reward"]], path, loc, cols["reward"])
            tokens = int(_number(rec.get(cols["tokens"]), path, loc, cols["tokens"])) if "tokens" in cols else -1
            sample = int(_number(rec.get(cols["sample"]), path, loc, cols["sample"])) if "sample" in cols else None
        except LogError as err:
            skip(err)
            continue
        rows["step"].append(int(step))
        rows["prompt_key"].append(str(rec[cols["prompt"]]))
        rows["reward"].append(reward)
        rows["group"].append(str(rec.get(cols.get("group", ""), "all")) if "group" in cols else "all")
        rows["tokens"].append(tokens)
        if sample is not None:
            rows["sample"].append(sample)
        where.append(loc)
    if "sample" not in cols:
        rows["sample"] = []
    return finish(rows, report, threshold, skip, expect_n, variable_groups, where), report


def _csv_records(path: Path, sep: str, skip: Skipper) -> list[tuple[int, dict]]:
    """(line, record) of each CSV row; rows with undecodable bytes or the wrong number of fields are bad lines."""
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=sep)
        try:
            header = reader.fieldnames
            if not header:
                raise LogError(path, 1, "no header line (the file is empty)", allowed="a header naming the columns")
            _check_utf8(sep.join(header), path, 1, "the header")
            records = []
            for rec in reader:
                line = reader.line_num  # the row's last physical line (a quoted field may span lines)
                try:
                    if None in rec or None in rec.values():  # DictReader's marks of extra and missing fields
                        raise LogError(path, line, f"{'more' if None in rec else 'fewer'} fields than the header",
                                       allowed=f"{len(header)} fields, as the header")
                    _check_utf8(sep.join(rec.values()), path, line)
                except LogError as err:
                    skip(err)
                    continue
                records.append((line, rec))
        except csv.Error as err:
            raise LogError(path, reader.line_num, f"not a readable CSV ({err})") from None
    return records


def read_log(path, fmt: str, **options):
    """Dispatch to the reader of ``fmt`` (one of ``FORMATS``); return (table, report)."""
    readers = {"verl": read_verl, "trl": read_trl, "history": read_history, "table": read_table}
    if fmt not in readers:
        raise LogError(path, "format", f"unknown log format '{fmt}'", fmt, f"one of {', '.join(FORMATS)}")
    return readers[fmt](path, **options)
