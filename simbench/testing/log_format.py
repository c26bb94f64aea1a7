"""The log-format contract: what every replay log reader must keep.

A subclass names its ``format`` (one of ``simbench.worlds.replay.readers.FORMATS``) and writes records in it; the
contract reads them back with ``read_log`` and checks the canonical table (columns, dtypes, dense
prompt ids, sample indices), that it holds exactly the records written, that reading is deterministic
and leaves the files alone, that the record order in the files does not change the groups, that an
empty log is an error, and that a replay runs on what was read.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simbench.testing._property import SEED, property_test
from simbench.worlds.replay.readers import FORMATS, read_log
from simbench.worlds.replay.table import COLUMNS, LogError, step_prompt_counts

DTYPES = {"step": "int64", "prompt_id": "int64", "sample": "int64", "reward": "float64", "passed": "int8", "tokens": "int64"}
TEXT = ("prompt_key", "group")  # object or string dtype, as the pandas version stores text: values are str


def make_records(seed: int, steps: int, prompts: int, n: int, groups: int = 2) -> pd.DataFrame:
    """Every prompt at every step 1..steps with ``n`` samples: columns step, prompt, group, reward (0/1), tokens."""
    rng = np.random.default_rng([seed, 7])
    group_of = rng.integers(0, groups, prompts)
    rows = [{"step": s, "prompt": str(p), "group": f"source{group_of[p]}", "reward": float(rng.random() < 0.4),
             "tokens": int(rng.integers(1, 60))}
            for s in range(1, steps + 1) for p in range(prompts) for _ in range(n)]
    return pd.DataFrame(rows, columns=["step", "prompt", "group", "reward", "tokens"])


def snapshot(path: Path) -> dict[str, bytes]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(f): f.read_bytes() for f in files}


class LogFormatContract:
    """Subclass: set ``format``, define ``write(records, folder) -> (path, read options)``.

    ``carries_tokens`` / ``carries_groups``: False for formats without token counts (tokens are then -1)
    or without a data source (the group is then "all").
    """

    format = ""
    carries_tokens = True
    carries_groups = True

    def write(self, records: pd.DataFrame, folder: Path) -> tuple[Path, dict]:
        raise NotImplementedError

    def read(self, records: pd.DataFrame, folder: Path) -> pd.DataFrame:
        folder.mkdir(parents=True, exist_ok=True)
        path, options = self.write(records, folder)
        return read_log(path, self.format, **options)[0]

    def expected(self, records: pd.DataFrame) -> pd.DataFrame:
        out = records.rename(columns={"prompt": "prompt_key"}).copy()
        if not self.carries_groups:
            out["group"] = "all"
        if not self.carries_tokens:
            out["tokens"] = -1
        return out

    def test_format_is_known(self):
        assert self.format in FORMATS, f"{self.format!r} is not one of {FORMATS}"

    @property_test(max_examples=15, seed=SEED, steps=lambda st: st.integers(1, 4), prompts=lambda st: st.integers(1, 6),
                   n=lambda st: st.integers(1, 5))
    def test_round_trip_to_the_canonical_table(self, seed, steps, prompts, n):
        import tempfile

        records = make_records(seed, steps, prompts, n)
        with tempfile.TemporaryDirectory() as tmp:
            table = self.read(records, Path(tmp))
        assert list(table.columns) == COLUMNS
        assert {c: str(table[c].dtype) for c in DTYPES} == DTYPES
        assert all(isinstance(v, str) for c in TEXT for v in table[c]), "prompt keys and groups are text"
        key = ["step", "prompt_key", "group", "reward", "tokens"]
        got = table[key].sort_values(key).reset_index(drop=True)
        want = self.expected(records)[key].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        # prompt ids: dense, one per key
        assert sorted(table["prompt_id"].unique()) == list(range(prompts))
        assert (table.groupby("prompt_id")["prompt_key"].nunique() == 1).all()
        assert (table.groupby("prompt_key")["prompt_id"].nunique() == 1).all()
        # samples: 0..n-1 within each (step, prompt)
        for _, g in table.groupby(["step", "prompt_id"]):
            assert sorted(g["sample"]) == list(range(n))
        assert table["passed"].isin([0, 1]).all()
        np.testing.assert_array_equal(table["passed"], (table["reward"] >= 1).astype(np.int8))

    def test_deterministic_and_leaves_the_files_alone(self, tmp_path):
        path, options = self.write(make_records(1, 3, 5, 4), tmp_path)
        before = snapshot(path)
        first = read_log(path, self.format, **options)[0]
        second = read_log(path, self.format, **options)[0]
        pd.testing.assert_frame_equal(first, second)
        assert snapshot(path) == before, "reading changed the log's files"

    def test_record_order_does_not_change_the_groups(self, tmp_path):
        records = make_records(2, 3, 5, 4)
        shuffled = records.sample(frac=1.0, random_state=3).reset_index(drop=True)
        a = self.read(records, tmp_path / "a")
        b = self.read(shuffled, tmp_path / "b")
        pd.testing.assert_frame_equal(step_prompt_counts(a), step_prompt_counts(b))

    def test_an_empty_log_is_an_error(self, tmp_path):
        import pytest

        with pytest.raises(LogError):
            self.read(make_records(0, 1, 1, 1).iloc[:0], tmp_path)

    def test_replays(self, tmp_path):
        """A short replay of the uniform allocator on what was read."""
        from simbench.worlds.replay.replay_run import replay_scenario, run_replay
        from simbench.worlds.rl.scenario import StrategySpec

        table = self.read(make_records(4, 3, 6, 4), tmp_path)
        df = run_replay(*replay_scenario(table, [StrategySpec(allocator={"kind": "uniform", "n": 4})], seeds=1))
        assert len(df) and (df["samples"] >= 0).all()
        assert df["samples"].sum() <= len(table), "a replay served more samples than the log holds"
