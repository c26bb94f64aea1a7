"""``simbench validate LOG``: fit the simulator to a real log and check it by forecasting the log's later part."""
from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from simbench.commands.replay import add_log_arguments, load_log
from simbench.core.config import ConfigError
from simbench.core.outputs import report_dir
from simbench.core.paths import output_dir
from simbench.core.store import command_line
from simbench.worlds.replay import LogError, appearance_counts
from simbench.worlds.replay.simulate import LogAlgorithm
from simbench.worlds.replay.validation import validate, validation_work


def add_parser(sub):
    p = sub.add_parser("validate", help="calibrate the simulator to a real log and write a validation report")
    add_log_arguments(p)
    p.add_argument("--batch", type=int,
                   help="prompts per step of the logged run (default: the median per log step; required for a history)")
    p.add_argument("--calib", type=int, help="calibrate on appearances 1..CALIB, forecast the rest (default: half)")
    p.add_argument("--seeds", type=int, default=8, help="seeds of the simulated curves (default 8)")
    p.add_argument("--maxfev", type=int, default=100, help="Nelder-Mead evaluations per calibration after the grid (default 100)")
    p.add_argument("--dims", default="4,16,64",
                   help="feature dimensions to profile, comma-separated (one fit each, the best wins; default 4,16,64)")
    p.add_argument("--workers", type=int, default=2,
                   help="threads simulating a candidate's seeds side by side (default 2; results do not depend on it)")
    p.add_argument("--bootstrap", default="0", metavar="B",
                   help="replicates of a cluster bootstrap over the log's prompts: refit the population and the learner "
                        "on each resample, record the fits and their 95%% intervals (default 0: none)")
    p.add_argument("--bootstrap-seed", default="0", metavar="S", help="seed of the bootstrap's resampling (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", help="output directory (default: reports/validate-<log name>/)")
    return p


def run(args) -> int:
    t0 = time.perf_counter()
    for option, value in (("--seeds", args.seeds), ("--maxfev", args.maxfev), ("--batch", args.batch), ("--calib", args.calib),
                          ("--workers", args.workers)):
        if value is not None and value < 1:
            raise ConfigError(option, value, "an integer >= 1")
    dims = _dims(args.dims)
    replicates = _count("--bootstrap", args.bootstrap, "the number of bootstrap replicates, an integer >= 0 (0: none)")
    boot_seed = _count("--bootstrap-seed", args.bootstrap_seed, "the seed of the bootstrap's resampling, an integer >= 0")
    name = "validate-" + Path(args.log.split(":")[-1]).stem
    out = output_dir(args.out or Path("reports") / name)
    table, report = load_log(args)
    print(f"simbench: read {report.summary()}")
    K, N = appearance_counts(table)
    T = K.shape[1]
    if T < 2:
        raise LogError(report.path, "file", "too few appearances per prompt", T,
                       "at least 2: validation calibrates on the first ones and forecasts the rest")
    calib = args.calib if args.calib is not None else T // 2
    if calib >= T:
        raise ConfigError("--calib", calib, f"an integer in [1, {T - 1}] (the log has {T} appearances)")
    algo = LogAlgorithm(n=_n(args, N), batch=_batch(args, report, K.shape[0]), prompts=K.shape[0])
    command = command_line("validate")
    eval_seeds = tuple(range(100, 100 + args.seeds))
    work = validation_work(T, calib, eval_seeds=eval_seeds, maxfev=args.maxfev, dims=dims, bootstrap=replicates)
    with progress_bar(work, args.quiet) as bar:
        res = validate(K, N, algo, calib, out, name, report.summary(), eval_seeds=eval_seeds, maxfev=args.maxfev,
                       command=command, dims=dims, progress=bar, workers=args.workers, bootstrap=replicates,
                       bootstrap_seed=boot_seed)
    report_dir(out)
    e = res["forecast_errors_end"]
    m = res["forecast_errors_max"]
    print(f"  forecast of appearances {calib + 1}-{T} from 1-{calib}: |error| at the end: mean pass {e['mean_pass']:.4f}, "
          f"all-correct {e['all_correct']:.4f}, all-wrong {e['all_wrong']:.4f}; max over held-out: "
          f"{m['mean_pass']:.4f}, {m['all_correct']:.4f}, {m['all_wrong']:.4f}")
    if replicates:
        print(f"  bootstrap over the log's prompts: {replicates} refits at d = {res['bootstrap']['dim']}; 95% intervals in "
              f"{out}/report.md")
    print(f"simbench: validated in {time.perf_counter() - t0:.1f} s -> {out}/report.md; "
          f"the calibrated simulator: simbench run {out}/scenario.toml")
    return 0


@contextlib.contextmanager
def progress_bar(total: int, quiet: bool):
    """A ``progress(stage, detail, units)`` callable drawing a tqdm bar on stderr (as ``simbench run`` does).

    The bar counts simulated appearances; it shows the stage, the candidate, the elapsed
    time and tqdm's estimate of the time remaining.
    """
    bar = tqdm(total=total, unit="appearance", unit_scale=True, disable=quiet, dynamic_ncols=True,
               bar_format="{desc}: {percentage:3.0f}%|{bar:20}| [{elapsed}<{remaining}]{postfix}")
    shown = [None]

    def progress(stage: str, detail: str, units: float) -> None:
        bar.set_postfix_str(detail, refresh=False)
        if stage != shown[0]:  # every stage is drawn at least once, however fast
            shown[0] = stage
            bar.set_description_str(stage, refresh=False)
            bar.update(units)
            bar.refresh()
        else:
            bar.update(units)

    try:
        yield progress
    finally:
        bar.close()


def _n(args, N: np.ndarray) -> int:
    """Samples per group: the most common group size of the log (said when not given with --n)."""
    n = int(np.bincount(N[N > 0]).argmax())
    if args.n is None:
        how = "the logged run's" if args.log.startswith("bundled:") else "the log's most common group size; change with --n"
        print(f"simbench: inferred n = {n} samples per group ({how})")
    return n


def _batch(args, report, prompts: int) -> int:
    """Prompts per training step: --batch, else the log's (the median per step), said when inferred."""
    batch = args.batch or report.batch
    if batch is None:
        raise ConfigError("--batch", None, "the logged run's prompts per training step, e.g. --batch 128 (a history "
                          "records appearances, not steps, so its batch cannot be inferred)")
    if batch > prompts:
        raise ConfigError("--batch", batch, f"at most the log's {prompts} prompts (a batch holds distinct prompts)")
    if args.batch is None:
        source = "the logged run's" if args.log.startswith("bundled:") else "the median per log step"
        print(f"simbench: inferred batch = {batch} prompts per step ({source}; change with --batch)")
    return batch


def _count(option: str, text: str, allowed: str) -> int:
    """An integer >= 0 given as ``option``'s value, or a ``ConfigError`` saying what is allowed."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(option, text, allowed)
    return value


def _dims(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.split(","))
    except ValueError:
        dims = ()
    if not dims or min(dims) < 1:
        raise ConfigError("--dims", text, "comma-separated integers >= 1, e.g. 4,16,64")
    return dims
