"""``simbench replay LOG --format verl|trl|history|table``: allocators against a real log's outcomes."""
from __future__ import annotations

import tomllib
from pathlib import Path

from simbench import registry
from simbench.core.config import ConfigError
from simbench.core.outputs import report_dir
from simbench.core.paths import output_dir
from simbench.core.store import command_line, read_manifest, write_manifest
from simbench.core.study import run_study
from simbench.core.sweep import SweepCell
from simbench.worlds import load_scenario
from simbench.worlds.replay import FORMATS, bundled, read_log
from simbench.worlds.replay.replay_run import replay_scenario, shortfall_notes
from simbench.worlds.replay.world import ReplayRun, log_digest
from simbench.worlds.rl.scenario import BudgetSpec, StrategySpec


def add_log_arguments(p) -> None:
    """Arguments shared by ``replay`` and ``validate``: the log and how to read it."""
    p.add_argument("log", help="log file or directory, or 'bundled:one_shot_rlvr' for the shipped log")
    p.add_argument("--format", choices=FORMATS, default="history", help="log format (default: history)")
    p.add_argument("--n", type=int, help="samples per group (history: required unless bundled; others: expected size)")
    p.add_argument("--variable-groups", action="store_true", help="allow groups of different sizes")
    p.add_argument("--reward-field", help="verl: reward field (default 'score'); trl: reward column")
    p.add_argument("--tokens-field", help="verl/trl: field with the response's token count (default: estimate chars/4)")
    p.add_argument("--columns", help="table: mapping canon=file_column,... (canon: step,prompt,reward,group,sample,tokens)")
    p.add_argument("--threshold", type=float,
                   help="count reward >= THRESHOLD as a pass, for continuous rewards (default: rewards must be 0 or 1)")
    p.add_argument("--skip-bad-lines", action="store_true", help="count and report bad lines instead of stopping")


def load_log(args):
    """Read the log named on the command line; return (table, report)."""
    if args.n is not None and args.n < 1:
        raise ConfigError("--n", args.n, "an integer >= 1 (samples per group)")
    history = args.format == "history" or args.log.startswith("bundled:")
    if args.threshold is not None and history:
        raise ConfigError("--threshold", args.threshold, "only for verl, trl and table logs (a history holds 0/1 counts)")
    if args.log.startswith("bundled:"):
        return bundled(args.log.split(":", 1)[1])
    opts = {"skip_bad_lines": args.skip_bad_lines}
    if args.format == "history":
        if args.n is None:
            raise ConfigError("--n", None, "the number of samples per group of a history log (e.g. --n 8)")
        opts["n"] = args.n
    else:
        opts.update(threshold=args.threshold, expect_n=args.n, variable_groups=args.variable_groups)
    if args.format == "verl":
        opts.update(reward_field=args.reward_field or "score", tokens_field=args.tokens_field)
    elif args.format == "trl":
        opts.update(reward_column=args.reward_field, tokens_column=args.tokens_field)
    elif args.format == "table" and args.columns:
        try:
            opts["columns"] = dict(kv.split("=", 1) for kv in args.columns.split(","))
        except ValueError:
            raise ConfigError("--columns", args.columns, "canon=column pairs separated by commas") from None
    return read_log(args.log, args.format, **opts)


def parse_allocator(text: str) -> dict:
    """``kind`` or ``kind:key=value,key=value`` (values in TOML syntax) -> a role table."""
    kind, _, rest = text.partition(":")
    spec = {"kind": kind}
    for item in filter(None, rest.split(",")):
        try:
            spec.update(tomllib.loads(item))
        except tomllib.TOMLDecodeError:
            raise ConfigError("--allocator", text, "kind:key=value,... with TOML values, e.g. dapo:n=8") from None
    return spec


def add_parser(sub):
    p = sub.add_parser("replay", help="run allocators against a real rollout log's outcomes")
    add_log_arguments(p)
    p.add_argument("--allocator", action="append", help="allocator kind[:key=value,...] (repeat; default: uniform:n=8 and dapo:n=8)")
    p.add_argument("--scenario", help="take strategies and budget from this scenario TOML instead")
    p.add_argument("--batch", type=int, help="prompts per replay step (default: median prompts per log step)")
    p.add_argument("--seeds", type=int, default=3, help="seeds (prompt and sample orders), default 3")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--step-budget", type=float, help="samples per step (default: unlimited)")
    p.add_argument("--out", help="output directory (default: reports/replay-<log name>/)")
    return p


# the replay scenario's keys that come from command-line options
OPTION_OF = {"engine.batch_prompts": "--batch", "budget.per_step": "--step-budget", "seeds": "--seeds", "seed": "--seed"}


def check_options(args) -> None:
    """Options that need no log, checked before reading it."""
    for option, value, low in (("--seeds", args.seeds, 1), ("--seed", args.seed, 0), ("--batch", args.batch, 1)):
        if value is not None and value < low:
            raise ConfigError(option, value, f"an integer >= {low}")
    if args.step_budget is not None and not args.step_budget >= 1:
        raise ConfigError("--step-budget", args.step_budget, "a number of samples >= 1 (default: unlimited)")
    if args.scenario and (args.allocator or args.step_budget is not None):
        raise ConfigError("--scenario", args.scenario, "either --scenario or --allocator / --step-budget, not both")


def run(args) -> int:
    check_options(args)
    if args.scenario:
        sc = load_scenario(args.scenario)
        strategies, budget = sc.strategies, sc.budget
    else:
        texts = args.allocator or ["uniform:n=8", "dapo:n=8,on_exhausted=\"train\""]
        strategies = [StrategySpec(allocator=parse_allocator(a), name=a.replace('"', "")) for a in texts]
        for text, strategy in zip(texts, strategies):  # each allocator's kind and parameters, before the log is read
            try:
                registry.make("allocator", strategy.allocator)
            except ConfigError as err:
                raise ConfigError("--allocator", text, f"{err.allowed} ({err.where} = {err.value!r})") from None
        budget = BudgetSpec(per_step=args.step_budget) if args.step_budget is not None else BudgetSpec()
    name = "replay-" + Path(args.log.split(":")[-1]).stem
    out = output_dir(args.out or Path("reports") / name)
    table, report = load_log(args)
    print(f"simbench: read {report.summary()}")
    try:
        scenario, index = replay_scenario(table, strategies, args.batch, args.seeds, args.seed, budget, name)
        print(f"simbench: replaying {scenario.engine.batch_prompts} prompts per step"
              + ("" if args.batch else " (the median per log step; change with --batch)"))
        run = ReplayRun(scenario, index, report.summary(), log_digest(table))
        command = command_line("replay")
        # like any world's units: stored, resumed; a different replay in the same --out replaces it (replay has no --force)
        df, summary = run_study([SweepCell("base", {}, run)], out, run.canonical_hash(), args.log, force=True, progress=False,
                                command=command)
    except ConfigError as err:  # a key of the replay's scenario: it came from an option or from --scenario
        if err.source not in ("<memory>", args.log):
            raise
        if args.scenario and err.where.startswith("budget."):
            raise err.in_file(args.scenario) from None
        option = OPTION_OF.get(err.where)
        raise (ConfigError(option, err.value, err.allowed) if option else err) from None
    notes = shortfall_notes(summary, index)
    if notes:  # why an allocator trained nothing: kept in the manifest, so that `simbench report` repeats them
        write_manifest(out, {**read_manifest(out), "notes": notes})
        report_dir(out)
    for _, r in summary.iterrows():
        eff = f"{r['effective_ratio']:.3f}" if r["trained_samples"] else "undefined (nothing trained, see below)"
        print(f"  {r['allocator']}: {r['samples']:.0f} samples, mixed groups {r['mixed_share']:.3f}, "
              f"effective ratio {eff}, requests truncated {r['truncated_share']:.3f}")
    for note in notes:
        print(f"simbench: note: {note}")
    return 0
