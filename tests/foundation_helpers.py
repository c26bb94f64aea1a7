"""Small helpers shared by the test modules: tiny scenarios and hand-made step views."""
from __future__ import annotations

import copy
import math
import re

import numpy as np

from simbench.worlds import parse_scenario
from simbench.worlds.rl.roles import History, RunInfo, StepView


def tiny_data(**sections) -> dict:
    """A scenario table small enough to run in well under a second; ``sections`` override top-level keys."""
    data = {
        "name": "tiny",
        "seeds": 2,
        "population": {"train_prompts": 64, "test_prompts": 64},
        "engine": {"steps": 5, "batch_prompts": 16},
        "strategies": [{"allocator": {"kind": "uniform", "n": 4}}],
    }
    for key, value in sections.items():
        data[key] = copy.deepcopy(value)
    return data


def tiny(**sections):
    return parse_scenario(tiny_data(**sections))


def hand_view(groups: list[list[int]], n_prompts: int | None = None, batch_prompts: int = 64) -> StepView:
    """A StepView whose slot i drew the 0/1 rewards ``groups[i]``, in slot order."""
    S = len(groups)
    n_prompts = n_prompts or S
    slot = np.repeat(np.arange(S), [len(g) for g in groups]).astype(np.int64)
    reward = np.array([r for g in groups for r in g], np.int8)
    drawn = np.array([len(g) for g in groups], np.int64)
    pos = np.array([sum(g) for g in groups], np.int64)
    info = RunInfo(n_prompts, np.zeros(n_prompts, np.int32), ("all",), batch_prompts, "samples", math.inf, 3072)
    return StepView(
        step=1, wave=1, prompts=np.arange(S, dtype=np.int64), added_wave=np.zeros(S, np.int64),
        group=np.zeros(S, np.int32), drawn=drawn, pos=pos, cost=np.ones(S), budget_left=math.inf,
        sample_slot=slot, sample_reward=reward, sample_length=np.full(len(slot), 500, np.int32),
        sample_wave=np.zeros(len(slot), np.int64), history=History.empty(n_prompts), info=info,
    )


def check_cli_contract(rc: int, out: str, err: str) -> None:
    """The CLI's contract on any input: success, or exit status 2 with exactly one error line; never a traceback,
    and no nan in the results a successful command prints (an undefined figure is explained in words instead;
    the ``read`` line may quote a skipped bad line's value)."""
    assert "Traceback" not in err, err
    if rc == 0:
        results = [line for line in out.splitlines() if not line.startswith("simbench: read ")]
        assert not any(re.search(r"\bnan\b", line) for line in results), out
        return
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, (rc, err)
    assert len(lines) == 1 and lines[0].startswith("simbench: error: "), err


def two_strategies(steps=6, seeds=2, **extra):
    """A tiny scenario with uniform and DAPO (for store, sweep and signal tests); ``extra`` overrides top-level keys."""
    data = {
        "name": "tiny",
        "seeds": seeds,
        "population": {"train_prompts": 64, "test_prompts": 32},
        "engine": {"steps": steps, "batch_prompts": 8},
        "strategies": [{"allocator": {"kind": "uniform", "n": 4}}, {"allocator": {"kind": "dapo", "n": 4, "on_exhausted": "train"}}],
    }
    data.update(extra)
    return data
