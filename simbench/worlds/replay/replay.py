"""Replay: run allocators against a log's real outcomes instead of simulated ones.

The engine is unchanged; ``ReplayCell`` overrides the world's hook ``Cell.draw``
and the prompt selector:

* prompts enter steps in the log's order: log step by log step, each step's
  prompts in a seeded random order, ``batch`` per replay step (a replay step
  can span the end of one log step and the start of the next);
* when an allocator asks for n samples of a slot, they are served from that
  prompt's logged samples *at the log step it came from*, without replacement,
  in a seeded random order (one permutation per group, drawn at the start);
* when a group has fewer samples left than asked, the slot gets what is left
  and the shortfall is recorded (``requested``, ``shortfall``,
  ``requests_truncated`` columns); a wave that is cut short ends the step,
  as an exhausted budget would.

The learner is still updated (roles may read the engine's history) but it
plays no part in outcomes, so ``train_pass`` / ``test_pass`` are reported as nan.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simbench.core._numba import jit
from simbench.core.config import ConfigError
from simbench.worlds.rl.engine import Cell
from simbench.worlds.rl.roles import PromptSelector


class LogIndex:
    """The canonical table as groups: samples sorted by (step, prompt), with each group's start and size."""

    def __init__(self, table: pd.DataFrame):
        t = table.sort_values(["step", "prompt_id", "sample"], kind="stable")
        self.passed = t["passed"].to_numpy(np.int8)
        self.tokens = t["tokens"].to_numpy(np.int64)
        keys = t[["step", "prompt_id"]].to_numpy(np.int64)
        first = np.ones(len(t), bool)
        first[1:] = (keys[1:] != keys[:-1]).any(axis=1)
        self.start = np.flatnonzero(first).astype(np.int64)
        self.size = np.diff(np.append(self.start, len(t))).astype(np.int64)
        self.step = keys[self.start, 0]
        self.prompt = keys[self.start, 1]
        self.steps = np.unique(self.step)
        self.n_prompts = int(table["prompt_id"].max()) + 1 if len(table) else 0
        self.key = self.step * max(self.n_prompts, 1) + self.prompt  # sorted: groups are in (step, prompt) order
        gp = table.drop_duplicates("prompt_id").set_index("prompt_id")["group"]
        self.group_names = tuple(sorted(gp.unique()))
        self.prompt_group = np.zeros(self.n_prompts, np.int32)
        self.prompt_group[gp.index.to_numpy()] = [self.group_names.index(g) for g in gp]
        self.tokens_known = bool((self.tokens >= 0).all())

    def __len__(self) -> int:
        return len(self.start)

    def check_budget_unit(self, unit: str) -> None:
        """A token budget needs the log's token counts."""
        if unit == "tokens" and not self.tokens_known:
            raise ConfigError("budget.unit", "tokens", "'samples': this log has no token counts (tokens = -1)")

    def groups_of(self, steps: np.ndarray, prompts: np.ndarray) -> np.ndarray:
        """Group index of each (log step, prompt) pair; every pair must be in the log."""
        key = np.asarray(steps, np.int64) * max(self.n_prompts, 1) + np.asarray(prompts, np.int64)
        g = np.searchsorted(self.key, key)
        if len(key) and (g.max() >= len(self.key) or (self.key[g] != key).any()):
            raise KeyError("a slot's (step, prompt) is not in the log")
        return g.astype(np.int64)


@jit
def serve_wave(n, gidx, start, size, served, order, passed, tokens, token_cap):
    """Serve ``n[s]`` logged samples to each slot from its group ``gidx[s]``, without replacement.

    ``order`` holds each group's sample indices in a seeded random order;
    ``served[g]`` counts what group g has given so far (updated in place).
    Returns (slot, reward, length, drawn); a slot gets at most what is left,
    and serving stops before the sample that would exceed ``token_cap``.
    """
    total = 0
    for s in range(n.shape[0]):
        total += min(n[s], size[gidx[s]] - served[gidx[s]])
    slot = np.empty(total, np.int64)
    reward = np.empty(total, np.int8)
    length = np.empty(total, np.int32)
    drawn = np.zeros(n.shape[0], np.int64)
    used = 0.0
    t = 0
    for s in range(n.shape[0]):
        g = gidx[s]
        for _ in range(min(n[s], size[g] - served[g])):
            j = order[start[g] + served[g]]
            ln = max(tokens[j], 0)
            if used + ln > token_cap:
                return slot[:t], reward[:t], length[:t], drawn
            used += ln
            slot[t] = s
            reward[t] = passed[j]
            length[t] = ln
            drawn[s] += 1
            served[g] += 1
            t += 1
    return slot, reward, length, drawn


class LogOrderSelector(PromptSelector):
    """Prompts in the log's order: log step by log step, each step's prompts in a seeded random order."""

    name = "log_order"

    def __init__(self, index: LogIndex):
        super().__init__()
        self.index = index

    def reset(self, info, rng) -> None:
        super().reset(info, rng)
        ix = self.index
        by_step = [ix.prompt[ix.step == s] for s in ix.steps]
        self.queue = np.concatenate([rng.permutation(p) for p in by_step]) if by_step else np.empty(0, np.int64)
        self.queue_step = np.concatenate([np.full(len(p), s) for p, s in zip(by_step, ix.steps)]) if by_step else np.empty(0, np.int64)
        self.pos = 0
        self.slot_steps = np.empty(0, np.int64)
        self.short = 0

    def select(self, k: int, view) -> np.ndarray:
        take = min(k, len(self.queue) - self.pos)
        self.short += k - take
        out = self.queue[self.pos:self.pos + take]
        self.slot_steps = np.concatenate([self.slot_steps, self.queue_step[self.pos:self.pos + take]])
        self.pos += take
        return out.astype(np.int64)

    @property
    def exhausted(self) -> bool:
        return self.pos >= len(self.queue)


class ReplayCell(Cell):
    """A cell whose outcomes are a log's samples (see the module docstring)."""

    def __init__(self, scenario, strategy_index: int, seed_index: int, index: LogIndex):
        index.check_budget_unit(scenario.budget.unit)
        if scenario.cost is not None and not index.tokens_known:  # generation time needs every response's length
            raise ConfigError("cost", "[cost]", "no [cost] table: this log has no token counts (tokens = -1) to price")
        super().__init__(scenario, strategy_index, seed_index)
        self.index = index
        self.info.group = index.prompt_group
        self.info.group_names = index.group_names
        self.selector = LogOrderSelector(index)
        self.selector.reset(self.info, self.streams.selector)
        # one seeded permutation of each group's samples: order[start[g]:start[g]+size[g]]
        keys = self.streams.outcomes.random(len(index.passed))
        gid = np.repeat(np.arange(len(index)), index.size)
        self.order = np.lexsort((keys, gid)).astype(np.int64)
        self.served = np.zeros(len(index), np.int64)
        self._reset_step_counts()
        if scenario.budget.unit == "tokens":
            known = index.tokens[index.tokens >= 0]
            self.mean_len_seen = float(known.mean()) if len(known) else 1.0

    def run_step(self, step, total_left):
        self.selector.slot_steps = np.empty(0, np.int64)  # slots of this step, parallel to the engine's
        self.selector.short = 0
        return super().run_step(step, total_left)

    def _reset_step_counts(self):
        self.step_no = -1
        self.requested = self.shortfall = self.requests = self.truncated = 0

    def draw(self, prompts, n, token_cap, step):
        if step != self.step_no:
            self._reset_step_counts()
            self.step_no = step
        ix = self.index
        gidx = ix.groups_of(self.selector.slot_steps, prompts)
        left = ix.size[gidx] - self.served[gidx]
        asked = n > 0
        self.requested += int(n.sum())
        self.requests += int(asked.sum())
        self.truncated += int((asked & (n > left)).sum())
        self.shortfall += int(np.maximum(n - left, 0).sum())
        cap = token_cap if math.isfinite(token_cap) else np.inf
        return serve_wave(n, gidx, ix.start, ix.size, self.served, self.order, ix.passed, ix.tokens, cap)

    def metrics(self, step, v, keep, adv, waves) -> dict:
        row = super().metrics(step, v, keep, adv, waves)
        row["train_pass"] = row["test_pass"] = math.nan  # the learner does not produce replayed outcomes
        for k in [c for c in row if c.startswith("test_pass_at_")]:
            row[k] = math.nan
        got = v is not None and step == self.step_no
        row.update(
            log_pass=float(v.sample_reward.mean()) if v is not None and len(v.sample_reward) else math.nan,
            requested=self.requested if got else 0, shortfall=self.shortfall if got else 0,
            requests=self.requests if got else 0, requests_truncated=self.truncated if got else 0,
            prompts_short=self.selector.short,
        )
        return row

    def run(self, progress=None) -> list[dict]:
        rows = super().run(progress)
        # drop the empty steps after the log ran out of prompts
        last = max((i for i, r in enumerate(rows) if r["samples"] > 0), default=0)
        return rows[: last + 1]
