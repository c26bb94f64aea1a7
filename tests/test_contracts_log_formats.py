"""Every replay log format under the shipped LogFormatContract, each writer as the tool that makes such logs."""
import json

import pandas as pd

from simbench.testing import LogFormatContract


class TestVerl(LogFormatContract):
    format = "verl"

    def write(self, records, folder):
        # verl's rollout dumps: one {step}.jsonl per step; output text of 4 x tokens characters (the token estimate)
        for step, g in records.groupby("step"):
            lines = [json.dumps({"input": r.prompt, "output": "x" * (4 * r.tokens), "score": r.reward, "step": int(step),
                                 "data_source": r.group}) for r in g.itertuples()]
            (folder / f"{step}.jsonl").write_text("".join(line + "\n" for line in lines))
        return folder, {}


class TestTRL(LogFormatContract):
    format = "trl"
    carries_groups = False  # TRL's completions table has no data source

    def write(self, records, folder):
        # TRL GRPOTrainer: completions/completions_{step:05d}.parquet
        out = folder / "completions"
        out.mkdir()
        if records.empty:
            pd.DataFrame({"step": [], "prompt": [], "completion": [], "accuracy_reward": [], "advantage": []}).to_parquet(
                out / "completions_00001.parquet")
        for step, g in records.groupby("step"):
            pd.DataFrame({"step": g["step"], "prompt": g["prompt"], "completion": ["y" * (4 * t) for t in g["tokens"]],
                          "accuracy_reward": g["reward"], "advantage": 0.0}).to_parquet(out / f"completions_{step:05d}.parquet")
        return out, {}


class TestHistory(LogFormatContract):
    format = "history"
    carries_tokens = False  # an accuracy history has no responses
    carries_groups = False

    def write(self, records, folder):
        # {prompt: [accuracy at appearance 1, 2, ...]} with n samples per group (every prompt appears every step)
        n = int(records.groupby(["step", "prompt"]).size().iloc[0]) if len(records) else 1
        acc = records.groupby(["prompt", "step"])["reward"].mean()
        history = {p: [float(a) for a in acc[p].sort_index()] for p in acc.index.get_level_values(0).unique()}
        path = folder / "history.json"
        path.write_text(json.dumps(history))
        return path, {"n": n}


class TestTable(LogFormatContract):
    format = "table"

    def write(self, records, folder):
        # a generic CSV with its own column names, mapped to the canonical ones
        path = folder / "log.csv"
        records.rename(columns={"prompt": "question", "reward": "correct", "group": "source", "tokens": "n_tokens"}).to_csv(
            path, index=False)
        return path, {"columns": {"prompt": "question", "reward": "correct", "group": "source", "tokens": "n_tokens"}}
