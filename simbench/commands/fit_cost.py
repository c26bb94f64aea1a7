"""``simbench fit-cost METRICS``: fit the cost model to a verl run's per-step metrics log (and, optionally, its rollout dump)."""
from __future__ import annotations

from pathlib import Path

from simbench.core.config import ConfigError

PRESET = "qwen2.5-1.5b-8xh100"


def add_parser(sub):
    p = sub.add_parser("fit-cost", help="fit the [cost] table to a verl metrics log (timing_s/*, response_length/*), with R^2 "
                                        "and the error on the log's held-out second half")
    p.add_argument("metrics", help="verl's metrics log: JSON lines {\"step\": s, \"data\": {...}} from trainer.logger=file")
    p.add_argument("--log", help="the run's verl rollout dump (file or directory): each sample's response length, instead of "
                                 "lengths reconstructed from response_length/{mean,max,clip_ratio}")
    p.add_argument("--tokens-field", help="with --log: field holding the response's token count (default: estimate chars/4)")
    p.add_argument("--reward-field", default="score", help="with --log: the reward field (default 'score')")
    p.add_argument("--group", type=int, default=1,
                   help="samples per prompt (verl's rollout.n) for reconstructed lengths (default 1; --log gives them)")
    p.add_argument("--max-num-seqs", type=int, help="the rollout engine's max_num_seqs, if known (default: fitted)")
    p.add_argument("--preset", default=PRESET, help=f"the model and hardware of the run (default {PRESET})")
    p.add_argument("--scenario", help="take the model and hardware from this scenario's [cost] table instead of --preset")
    p.add_argument("--out", help="write the fitted [cost] table to this TOML file")
    return p


def run(args) -> int:
    from simbench.core.report.tables import format_table
    from simbench.cost.fit import fit_cost, toml_table
    from simbench.cost.metrics_log import read_metrics

    for option, value in (("--group", args.group), ("--max-num-seqs", args.max_num_seqs)):
        if value is not None and value < 1:
            raise ConfigError(option, value, "an integer >= 1")
    spec = _start_spec(args)
    log = read_metrics(args.metrics)
    print(f"simbench: read {log.summary()}")
    steps = None
    if args.log:
        steps = _rollout_steps(args, log)
    fit = fit_cost(spec, log, steps, group=args.group, max_num_seqs=args.max_num_seqs)
    half = len(log.frame) // 2
    print(f"fitted on steps {log.frame.index[0]}..{log.frame.index[half - 1]}, held out {log.frame.index[half]}..{log.frame.index[-1]}")
    print(format_table(_table(fit)))
    for note in fit.notes:
        print(f"simbench: note: {note}")
    text = toml_table(fit)
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)
        print(f"simbench: fitted [cost] table written to {args.out}")
    return 0


def _start_spec(args):
    """The spec whose model and hardware the fit keeps: --scenario's [cost], else --preset."""
    from simbench.core.config import build
    from simbench.cost.spec import PRESETS, CostSpec

    if args.scenario:
        from simbench.worlds import load_scenario

        sc = load_scenario(args.scenario)
        if getattr(sc, "cost", None) is None:
            raise ConfigError("--scenario", args.scenario, "a scenario with a [cost] table (or use --preset)")
        return sc.cost
    if args.preset not in PRESETS:
        raise ConfigError("--preset", args.preset, f"one of {', '.join(PRESETS)}")
    return build(CostSpec, {"preset": args.preset}, "cost")


def _rollout_steps(args, log):
    """Each metrics step's samples from the rollout dump: response tokens; prompts at prompt_length/mean (a dump has no
    prompt token counts); submitted prompt by prompt (the replay table's order), a prompt's samples together as verl's
    ``repeat(interleave=True)`` submits them."""
    import numpy as np

    from simbench.cost.fit import StepSamples
    from simbench.cost.metrics_log import MetricsError
    from simbench.worlds.replay import read_log

    table, report = read_log(args.log, "verl", reward_field=args.reward_field, tokens_field=args.tokens_field, variable_groups=True)
    print(f"simbench: read {report.summary()}")
    by_step = dict(tuple(table.groupby("step")))
    P = log.require("prompt_mean", "prompt lengths")
    waves = log.frame["gen_batches"].fillna(1).to_numpy(int)
    steps = []
    for i, step in enumerate(log.frame.index):
        if step not in by_step:
            raise MetricsError(log.path, int(log.frame["line"].iloc[i]), "step", int(step),
                               f"a step the rollout dump {args.log} has (it has steps {min(by_step)}..{max(by_step)})")
        rows = by_step[step]
        prompt = np.unique(rows["prompt_id"].to_numpy(), return_inverse=True)[1]
        L = np.maximum(rows["tokens"].to_numpy(np.int64), 1)
        steps.append(StepSamples(np.full(len(L), max(1, int(round(P[i]))), np.int64), L, prompt.astype(np.int64), max(1, int(waves[i]))))
    unused = sorted(set(by_step) - set(log.frame.index))
    if unused:
        print(f"simbench: note: {len(unused)} step(s) of the rollout dump have no metrics line and are not used "
              f"({', '.join(map(str, unused[:5]))}{', ...' if len(unused) > 5 else ''})")
    return steps


def _table(fit):
    import pandas as pd

    rows = []
    for part in fit.parts:
        fitted = ", ".join(f"{k} = {v:.4g}" + (f" ± {part.se[k]:.2g}" if k in part.se else "") for k, v in part.params.items())
        rows.append({"part": part.part, "fitted": fitted or "-", "R2_fit": part.r2_fit, "R2_held_out": part.r2_held,
                     "held_out_error": part.held_error, "from": part.note})
    return pd.DataFrame(rows)
