"""Run units (cell x strategy x seed) in-process, over a process pool, or as Ray tasks.

Units are independent and seeded from their cell's scenario (never from their
position or the worker that runs them), so results are identical for any
number of workers and either executor.  The parent process writes each
finished unit to the store, so an interrupted run loses only units in flight.

Workers never outlive the parent: they leave Ctrl-C and SIGTERM to it (it
stops them and exits cleanly) and die with it if it is killed outright.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import pandas as pd
from tqdm.auto import tqdm

from simbench.core.config import ConfigError
from simbench.core.store import Store, Unit
from simbench.core.threads import blas_limit, blas_threads, limit_blas
from simbench.worlds import world_of


def units_of(cell: str, scenario, extra: dict, seeds: int | None = None) -> list[tuple[Unit, object, dict]]:
    """Every unit of one cell, as its world lists them: (Unit, the cell's scenario, extra columns for its rows)."""
    return [
        (Unit(cell, s, scenario.strategies[s].label, k), scenario, extra)
        for s, k in world_of(scenario).units(scenario, seeds)
    ]


def run_unit(scenario, strategy_index: int, seed: int, extra: dict) -> list[dict]:
    """The rows of one unit, with the cell's extra columns (e.g. swept parameters) first.

    A file the scenario reads must still hold what it held at load time: the store's identity of
    the scenario covers those contents, so a file edited mid-run is an error, not a silent mix.
    """
    scenario.check_files()
    rows = world_of(scenario).run_unit(scenario, strategy_index, seed)
    return [{**extra, **row} for row in rows] if extra else rows


def _work(args):
    unit, scenario, extra = args
    return unit, run_unit(scenario, unit.strategy_index, unit.seed, extra)


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(main_pid: int, use_prctl: bool = True) -> None:
    """Make this process die as soon as its parent does.

    On Linux the kernel sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere a daemon thread polls ``os.getppid()`` and exits once the process is re-parented.
    """
    parent = os.getppid()
    armed = False
    if use_prctl and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    if parent != main_pid and not _alive(main_pid):  # the parent died before the guard was armed
        os._exit(1)
    if not armed:
        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="simbench-parent-watch").start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


def _worker_init(main_pid: int, threads: int) -> None:
    # the parent decides when to stop: it catches Ctrl-C and SIGTERM and then kills the workers,
    # so that a signal sent to the whole process group does not leave half the pool running
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent(main_pid)
    limit_blas(threads)  # the workers share the cores: one BLAS thread each unless asked otherwise


def worker_pool(workers: int, threads: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that leave signals to this one, die with it and use ``threads`` BLAS threads each."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(os.getpid(), threads))


def _ray_work(item, threads: int):
    limit_blas(threads)  # a Ray worker runs many tasks, perhaps of other drivers: set the limit for each
    return _work(item)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers now: their units are lost anyway, and nothing they hold needs closing."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError):
            proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _local(todo, workers, threads, on_done):
    if workers == 1:
        with blas_limit(threads):
            for item in todo:
                on_done(*_work(item))
        return
    pool = worker_pool(workers, threads)
    try:
        pending = {pool.submit(_work, item) for item in todo}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                on_done(*fut.result())
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def _ray(todo, address, threads, on_done):
    try:
        import ray
    except ImportError:  # pragma: no cover - depends on the extra
        raise ConfigError("--executor", "ray", "'local', or install Ray: pip install -e \".[ray]\"") from None
    started = not ray.is_initialized()
    if started:
        on_term = signal.getsignal(signal.SIGTERM)
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False) if address else ray.init(include_dashboard=False, log_to_driver=False)
        except ConnectionError as err:
            raise ConfigError("--address", address, f"the address of a running Ray cluster ({err})") from None
        if on_term is not None:  # ray.init's own SIGTERM handlers exit at once; keep the caller's (a clean stop)
            signal.signal(signal.SIGTERM, on_term)
    remote = ray.remote(_ray_work)
    pending = []
    try:
        pending = [remote.remote(item, threads) for item in todo]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            on_done(*ray.get(ready[0]))
    except BaseException:
        for ref in pending:  # on an existing cluster, tasks of an interrupted run must not keep running
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()


def execute(todo: list[tuple[Unit, object, dict]], store: Store | None = None, *, executor: str = "local",
            workers: int = 1, address: str | None = None, progress: bool = True, desc: str = "",
            blas: int | None = None) -> dict[Unit, list[dict]]:
    """Run the units not yet in ``store``; write each as it finishes.

    Every process that runs units uses ``blas`` BLAS threads (default: ``simbench.core.threads.blas_threads()``,
    i.e. ``$SIMBENCH_BLAS_THREADS`` or 1; 0: the library's default).
    Returns the rows of the units run now, by unit (empty for skipped ones).
    """
    threads = blas_threads(blas)
    done = store.done() if store is not None else set()
    # seed-major submission interleaves slow and fast strategies, so workers finish together;
    # the order of submission never changes results (each unit is seeded by itself)
    remaining = sorted((item for item in todo if item[0].key not in done), key=lambda it: (it[0].seed, it[0].cell, it[0].strategy_index))
    results: dict[Unit, list[dict]] = {}
    bar = tqdm(total=len(todo), initial=len(todo) - len(remaining), unit="unit", desc=desc, disable=not progress)

    def on_done(unit: Unit, rows: list[dict]) -> None:
        if store is not None:
            store.write_unit(unit, rows)
        else:
            results[unit] = rows
        bar.update(1)

    if store is not None:
        store.write_manifest(started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), units_total=len(todo), finished=None)
    try:
        if executor == "ray":
            _ray(remaining, address, threads, on_done)
        elif executor == "local":
            _local(remaining, max(1, min(workers, len(remaining) or 1, os.cpu_count() or 1)), threads, on_done)
        else:
            raise ValueError(f"executor {executor!r} is invalid: 'local' or 'ray'")
    finally:
        bar.close()
        if store is not None:
            store.write_manifest()
    if store is not None:
        store.write_manifest(finished=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    return results


def run_scenario(scenario, seeds: int | None = None, workers: int = 1, progress: bool = True,
                 executor: str = "local", address: str | None = None) -> pd.DataFrame:
    """Run all units of a scenario in memory; one row per strategy x seed x step, in canonical order."""
    todo = units_of("base", scenario, {}, seeds)
    results = execute(todo, None, executor=executor, workers=workers, address=address, progress=progress, desc=scenario.name)
    return pd.DataFrame([row for unit, _, _ in todo for row in results[unit]])
