"""Fitting the cost model to a real run's per-step metrics log (verl's, see ``metrics_log``).

Each part of the step is fitted on the first half of the log's steps and checked on
the second half (R^2 on both, and the held-out mean absolute relative error):

* trainer: ``timing_s/old_log_prob + timing_s/ref + timing_s/update_actor`` is
  proportional to the step's prompt + response tokens (``perf/total_num_tokens``); the
  slope gives ``train.mfu`` through ``ledger.train_seconds_per_token`` (the update and
  log-prob stages alone are reported too);
* reward: ``timing_s/reward`` per sample gives ``reward.t_verify_ms`` (at ``reward.workers``);
* generation: ``(t_fix_ms, bw_eff, mfu_decode, wave_s)`` by least squares of the relative
  error of the simulated generation time (timing noise scales with the time) (``generation.wave_time`` of every wave, plus ``wave_s`` per
  generate call) against ``timing_s/gen``, for each ``max_num_seqs`` of a search over
  integers (powers of two, then a ternary search);
* sync: the median of ``timing_s/step`` minus every top-level ``timing_s/`` stage.

The simulation needs every sample's response length.  A rollout dump gives them; from the
metrics alone they are reconstructed per step (``lengths_from_stats``): the step's sample
count is ``perf/total_num_tokens / (prompt_length/mean + response_length/mean)``, every
prompt has ``prompt_length/mean`` tokens, and the response lengths are the stratified
quantiles of a LogNormal clipped at the maximum response length, matched to the step's
``response_length/{mean, max, clip_ratio}``, in a fixed pseudo-random order.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq, least_squares
from scipy.special import ndtri

from simbench.cost.generation import wave_time
from simbench.cost.ledger import step_times, train_seconds_per_token
from simbench.cost.metrics_log import MetricsError, MetricsLog
from simbench.cost.spec import CostSpec

ORDER_SEED = 0  # the fixed order of reconstructed lengths (reproducible fits)


@dataclass(frozen=True)
class StepSamples:
    """One step's generation: each sample's prompt and response tokens, its prompt id, and generate calls (waves)."""

    P: np.ndarray
    L: np.ndarray
    prompt: np.ndarray
    waves: int = 1


def lengths_from_stats(n: int, mean: float, longest: float, clip_ratio: float = 0.0) -> np.ndarray:
    """(n,) int64 response lengths: stratified LogNormal quantiles clipped at ``longest``, with this mean and clip share.

    ``round(clip_ratio * n)`` samples sit at ``longest`` (at least one, the logged maximum);
    the LogNormal's median is set so that the rest fall below it, and its log-sd so that
    the mean matches.  The lengths come in a fixed pseudo-random order.
    """
    if n < 1 or not 1 <= mean <= longest:
        raise ValueError(f"need n >= 1 and 1 <= mean <= max, got n={n}, mean={mean}, max={longest}")
    k = max(1, int(round(clip_ratio * n)))
    z = ndtri((np.arange(n) + 0.5) / n)
    z_cap = ndtri(1.0 - k / n) if k < n else math.inf  # the boundary between the n-k body points and the k at the cap

    def lengths(sigma: float) -> np.ndarray:
        mu = math.log(longest) - sigma * (z_cap if k < n else 0.0)
        return np.minimum(np.exp(mu + sigma * z), longest)

    if k >= n or mean >= longest:
        L = np.full(n, longest)
    else:
        def gap(sigma: float) -> float:  # decreasing in sigma
            return float(lengths(sigma).mean()) - mean

        hi = 8.0
        sigma = brentq(gap, 1e-9, hi) if gap(hi) < 0 < gap(1e-9) else (1e-9 if gap(1e-9) <= 0 else hi)
        L = lengths(sigma)
    L = np.clip(np.rint(L), 1, longest).astype(np.int64)
    return np.random.default_rng(ORDER_SEED).permutation(L)


def samples_from_metrics(log: MetricsLog, group: int) -> list[StepSamples]:
    """Each step's reconstructed samples (module docstring); prompts hold ``group`` consecutive samples."""
    f = log.frame
    n = log.require("samples", "sample counts: perf/total_num_tokens (or timing_per_token_ms/update_actor) with the length means")
    mean, longest = log.require("resp_mean", "response lengths"), log.require("resp_max", "response lengths")
    clip = f["clip_ratio"].fillna(0.0).to_numpy(float)
    P = np.rint(log.require("prompt_mean", "prompt lengths"))
    waves = f["gen_batches"].fillna(1).to_numpy(int)
    out = []
    for i in range(len(f)):
        line = int(f["line"].iloc[i])
        if not 1 <= mean[i] <= longest[i] or n[i] < 1:
            raise MetricsError(log.path, line, "response_length/mean", mean[i],
                               f"a mean in [1, response_length/max = {longest[i]:g}] with at least one sample")
        m = int(n[i])
        L = lengths_from_stats(m, mean[i], longest[i], clip[i])
        out.append(StepSamples(np.full(m, max(1, int(P[i])), np.int64), L, np.arange(m) // group, max(1, int(waves[i]))))
    return out


def with_generation(spec: CostSpec, x: np.ndarray, s_max: int) -> CostSpec:
    """``spec`` with (t_fix_ms, bw_eff, mfu_decode, wave_s) = ``x`` and ``max_num_seqs`` = ``s_max``."""
    return dataclasses.replace(
        spec, hw=dataclasses.replace(spec.hw, bw_eff=float(x[1]), mfu_decode=float(x[2])),
        rollout=dataclasses.replace(spec.rollout, t_fix_ms=float(x[0]), max_num_seqs=int(s_max)),
        overhead=dataclasses.replace(spec.overhead, wave_s=float(x[3])))


def generation_seconds(spec: CostSpec, steps: list[StepSamples]) -> np.ndarray:
    """Simulated ``timing_s/gen`` of each step: every wave's generation time plus ``overhead.wave_s`` per wave."""
    return np.array([s.waves * (wave_time(spec, s.P, s.L, s.prompt)[0] + spec.overhead.wave_s) for s in steps])


@dataclass
class PartFit:
    """One part's fit: its fitted keys, R^2 on the fitted steps and the held-out steps, held-out mean |relative error|."""

    part: str
    params: dict[str, float]
    r2_fit: float
    r2_held: float
    held_error: float
    note: str = ""
    se: dict[str, float] = field(default_factory=dict)  # standard error of each fitted parameter, where known


@dataclass
class CostFit:
    """All parts' fits and the fitted spec (unfitted keys keep their values)."""

    spec: CostSpec
    parts: list[PartFit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def params(self) -> dict[str, float]:
        return {k: v for p in self.parts for k, v in p.params.items()}


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination (nan with fewer than two points or no spread)."""
    sst = float(((y - y.mean()) ** 2).sum()) if len(y) > 1 else 0.0
    return 1.0 - float(((y - pred) ** 2).sum()) / sst if sst > 0 else math.nan


def _part(name: str, params: dict, y: np.ndarray, pred: np.ndarray, half: int, note: str = "") -> PartFit:
    fit, held = slice(0, half), slice(half, None)
    err = float(np.mean(np.abs(pred[held] - y[held]) / np.maximum(y[held], 1e-12))) if len(y) > half else math.nan
    return PartFit(name, params, r2(y[fit], pred[fit]), r2(y[held], pred[held]), err, note)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``y = k x`` through the origin."""
    return float(np.dot(x, y) / np.dot(x, x))


def fit_trainer(spec: CostSpec, log: MetricsLog, half: int) -> tuple[CostSpec, list[PartFit]]:
    """``train.mfu`` from the trainer stages' seconds per token (``use_ref`` set by whether the log times a reference pass)."""
    f = log.frame
    tokens = log.require("tokens", "trainer tokens: perf/total_num_tokens or timing_per_token_ms/update_actor")
    stages = [c for c in ("logprob_s", "ref_s", "update_s") if f[c].notna().any()]
    if "update_s" not in stages:
        log.require("update_s", "the trainer's update time")
    y = sum(log.require(c, "trainer time") for c in stages)
    t = spec.train
    spec = dataclasses.replace(spec, train=dataclasses.replace(t, use_ref="ref_s" in stages, mfu=1.0))
    per_token_at_full = train_seconds_per_token(spec)  # seconds per token at MFU 1
    if "logprob_s" not in stages:  # this log times no log-prob pass: count only the update's FLOPs
        per_token_at_full *= update_share(spec)
    k = _slope(tokens[:half], y[:half])
    mfu = min(1.0, per_token_at_full / k)
    spec = dataclasses.replace(spec, train=dataclasses.replace(spec.train, mfu=mfu))
    parts = [_part("trainer", {"train.mfu": mfu}, y, k * tokens, half, " + ".join(log.keys[c] for c in stages))]
    flops = spec.model.params / (spec.hw.gpus * spec.hw.peak_tflops * 1e12)
    for col, per in (("update_s", t.ppo_epochs * (6 + 2 * t.grad_ckpt)), ("logprob_s", 2.0)):
        if col in stages and len(stages) > 1:
            yc = log.require(col, "trainer time")
            kc = _slope(tokens[:half], yc[:half])
            parts.append(_part(f"  {log.keys[col]} alone", {}, yc, kc * tokens, half, f"MFU {per * flops / kc:.3f}"))
    return spec, parts


def fit_reward(spec: CostSpec, log: MetricsLog, half: int) -> tuple[CostSpec, list[PartFit]]:
    """``reward.t_verify_ms`` from ``timing_s/reward`` per sample, at the spec's ``reward.workers``."""
    if log.frame["reward_s"].isna().all():
        return spec, []
    y, n = log.require("reward_s", "reward time"), log.require("samples", "reward time per sample")
    k = _slope(n[:half], y[:half])
    ms = k * 1e3 * spec.reward.workers
    spec = dataclasses.replace(spec, reward=dataclasses.replace(spec.reward, t_verify_ms=ms))
    return spec, [_part("reward", {"reward.t_verify_ms": ms}, y, k * n, half, f"{log.keys['reward_s']}, {spec.reward.workers} workers")]


BOUNDS = (np.array([0.0, 0.01, 0.005, 0.0]), np.array([200.0, 1.0, 1.0, np.inf]))  # t_fix_ms, bw_eff, mfu_decode, wave_s


def fit_generation(spec: CostSpec, steps: list[StepSamples], y: np.ndarray, half: int,
                   max_num_seqs: int | None = None) -> tuple[CostSpec, PartFit, str]:
    """(t_fix_ms, bw_eff, mfu_decode, wave_s) by least squares for each ``max_num_seqs`` searched (or the given one).

    Returns the fitted spec, its ``PartFit`` and a note on whether ``max_num_seqs`` was identified.
    """
    fit_steps, y_fit = steps[:half], y[:half]
    x0 = np.clip([spec.rollout.t_fix_ms, spec.hw.bw_eff, spec.hw.mfu_decode, spec.overhead.wave_s], BOUNDS[0], [200.0, 1.0, 1.0, max(y_fit)])
    fits: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}

    def solve(s_max: int) -> float:
        if s_max not in fits:
            near = min(fits, key=lambda s: abs(math.log(s / s_max)), default=None)  # warm start from the nearest cap solved
            start = x0 if near is None else fits[near][1]
            res = least_squares(lambda x: generation_seconds(with_generation(spec, x, s_max), fit_steps) / y_fit - 1.0, start, bounds=BOUNDS,
                                x_scale=np.maximum(np.abs(x0), [1.0, 0.1, 0.1, 1.0]), diff_step=1e-4, max_nfev=200)
            fits[s_max] = (float(2 * res.cost), res.x, _standard_errors(res))
        return fits[s_max][0]

    busiest = max(math.ceil(len(s.L) / spec.engines) for s in fit_steps)
    note = ""
    if max_num_seqs is not None:
        best = max_num_seqs
        note = f"max_num_seqs = {best} given, not fitted"
        solve(best)
    else:
        top = max(8, 1 << math.ceil(math.log2(busiest)))
        grid = [1 << e for e in range(3, int(math.log2(top)) + 1)]
        best = min(grid, key=solve)
        lo, hi = max(1, best // 2), min(top, best * 2)
        best = _ternary_int(solve, lo, hi, best)
        if best >= busiest:
            note = (f"max_num_seqs not identified: no fitted step had more than {busiest} sequences per engine, so any "
                    f"value >= {busiest} fits as well; set it from the run's configuration")
            best = busiest if spec.rollout.max_num_seqs < busiest else spec.rollout.max_num_seqs
            solve(best)
    _, x, se = fits[best]
    fitted = with_generation(spec, x, best)
    names = ("rollout.t_fix_ms", "hw.bw_eff", "hw.mfu_decode", "overhead.wave_s")
    params = dict(zip(names, map(float, x)))
    if max_num_seqs is None:
        params["rollout.max_num_seqs"] = float(best)
    part = _part("generation", params, y, generation_seconds(fitted, steps), half, "simulated waves + wave_s per wave")
    part.se = dict(zip(names, map(float, se)))
    return fitted, part, note


def _standard_errors(res) -> np.ndarray:
    """Asymptotic standard errors of a least-squares fit: sqrt(diag(s^2 (J'J)^-1)), s^2 the residual variance (nan if undetermined)."""
    m, p = res.jac.shape
    if m <= p:
        return np.full(p, math.nan)
    s2 = 2 * res.cost / (m - p)
    cov = s2 * np.linalg.pinv(res.jac.T @ res.jac)
    return np.sqrt(np.maximum(np.diag(cov), 0.0))


def _ternary_int(f, lo: int, hi: int, best: int) -> int:
    """The integer in [lo, hi] minimising ``f`` by ternary search (``f`` unimodal there; ``best`` a known good point)."""
    while hi - lo > 2:
        a, b = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if f(a) <= f(b):
            hi = b
        else:
            lo = a
    return min([*range(lo, hi + 1), best], key=lambda s: (f(s), s))


def fit_sync(spec: CostSpec, log: MetricsLog, half: int) -> tuple[CostSpec, list[PartFit]]:
    """``overhead.sync_s``: the median over the fitted steps of the step's seconds outside every timed stage."""
    if log.frame["step_s"].isna().all():
        return spec, []
    rest = log.require("step_s", "the step time") - log.frame["parts_s"].to_numpy(float)
    sync = max(0.0, float(np.median(rest[:half])))
    spec = dataclasses.replace(spec, overhead=dataclasses.replace(spec.overhead, sync_s=sync))
    part = _part("sync", {"overhead.sync_s": sync}, rest, np.full(len(rest), sync), half,
                 f"{log.keys['step_s']} minus the timing_s/ stages (a constant: no R^2)")
    part.r2_fit = part.r2_held = math.nan
    return spec, [part]


def fit_cost(spec: CostSpec, log: MetricsLog, steps: list[StepSamples] | None = None, group: int = 1,
             max_num_seqs: int | None = None) -> CostFit:
    """Fit every part the log times (module docstring); the first half of the steps is fitted, the second held out.

    ``steps``: each step's samples from a rollout dump; None reconstructs them from the
    metrics with ``group`` samples per prompt.
    """
    n = len(log.frame)
    if n < 4:
        raise MetricsError(log.path, None, "step", n, "at least 4 training steps (half fitted, half held out)")
    half = n // 2
    result = CostFit(spec)
    if steps is None:
        steps = samples_from_metrics(log, group)
        result.notes.append("response lengths reconstructed from response_length/{mean,max,clip_ratio} (no rollout dump given)")
    elif len(steps) != n:
        raise MetricsError(log.path, None, "step", len(steps), f"one rollout per metrics step ({n})")
    for fitter in (fit_trainer, fit_reward, fit_sync):
        spec, parts = fitter(spec, log, half)
        result.parts += parts
    y = log.require("gen_s", "the generation time")
    spec, part, note = fit_generation(spec, steps, y, half, max_num_seqs)
    part.note = f"{log.keys['gen_s']} vs {part.note}"
    result.parts.insert(0, part)
    if note:
        result.notes.append(note)
    result.spec = spec
    return result


def toml_table(fit: CostFit) -> str:
    """The fitted keys as a ``[cost]`` table to paste into a scenario (next to its preset)."""
    lines = ["[cost]"] + ([f'preset = "{fit.spec.preset}"'] if fit.spec.preset else [])
    groups: dict[str, list[str]] = {}
    for key, value in fit.params.items():
        table, name = key.split(".")
        text = str(int(value)) if name == "max_num_seqs" else f"{value:.6g}"
        groups.setdefault(table, []).append(f"{table}.{name} = {text}")
    for table in groups.values():
        lines += table
    if fit.spec.train.use_ref:
        lines.append("train.use_ref = true")
    return "\n".join(lines) + "\n"


def update_share(spec: CostSpec) -> float:
    """The actor update's share of the trainer's seconds (the rest: old-policy log-probs and the reference pass)."""
    t = spec.train
    update = t.ppo_epochs * (6.0 + 2.0 * t.grad_ckpt)
    return update / (2.0 * (1 + t.use_ref) + update)


def match_step_time(spec: CostSpec, steps: list[tuple], step_s: float, update_s: float) -> CostSpec:
    """``spec`` with ``train.mfu`` and ``rollout.t_fix_ms`` set so that these steps average ``update_s`` seconds of
    actor update and ``step_s`` seconds in all (a published run's mean step time and its update's part).

    ``steps``: each step's ``(P, slot, length, wave, keep)``, the arguments of ``ledger.step_times``.  The update is
    proportional to 1 / MFU; the rest of the step rises with ``t_fix`` (every decode iteration pays it), found by bisection.
    """
    def mean(s: CostSpec, column: str) -> float:
        return float(np.mean([step_times(s, *st)[column] for st in steps]))

    at_full = dataclasses.replace(spec, train=dataclasses.replace(spec.train, mfu=1.0))
    mfu = mean(at_full, "train_s") * update_share(spec) / update_s
    if not 0 < mfu <= 1:
        raise ValueError(f"an update of {update_s} s needs an MFU of {mfu:.3g}, outside (0, 1]")
    spec = dataclasses.replace(spec, train=dataclasses.replace(spec.train, mfu=mfu))
    rest = step_s - update_s

    def gap(t_fix_ms: float) -> float:
        s = dataclasses.replace(spec, rollout=dataclasses.replace(spec.rollout, t_fix_ms=t_fix_ms))
        return float(np.mean([(r := step_times(s, *st))["step_s"] - r["train_s"] * update_share(s) for st in steps])) - rest

    if gap(0.0) > 0:
        raise ValueError(f"the steps take more than {rest} s besides the update even with t_fix = 0")
    hi = 1.0
    while gap(hi) < 0:
        hi *= 2
    t_fix = brentq(gap, 0.0, hi, xtol=1e-9)
    return dataclasses.replace(spec, rollout=dataclasses.replace(spec.rollout, t_fix_ms=t_fix))
