"""How many BLAS threads a simbench process uses: one per process unless the user asks otherwise.

simbench runs one unit per process; a multi-threaded BLAS in each process
oversubscribes the cores (on a shared 2-core machine a 65k-element ``np.dot``
took 12 ms with OpenBLAS's default two threads and 0.013 ms with one).
"""
from __future__ import annotations

import contextlib
import os

from simbench.core.config import ConfigError

ENV = "SIMBENCH_BLAS_THREADS"
ALLOWED = "an integer >= 0 (BLAS threads per process; 0: the BLAS libraries' own default)"
# what BLAS libraries read when they load: a library loaded after the limit (e.g. scipy's OpenBLAS) obeys it too
LOAD_TIME_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def blas_threads(option: int | None = None) -> int:
    """BLAS threads per process: ``option`` (``--blas-threads``) if given, else ``$SIMBENCH_BLAS_THREADS``, else 1."""
    if option is not None:
        if option < 0:
            raise ConfigError("--blas-threads", option, ALLOWED, "command line")
        return option
    text = os.environ.get(ENV, "").strip()
    if not text:
        return 1
    if not text.isdigit():
        raise ConfigError(ENV, text, ALLOWED, "environment")
    return int(text)


def limit_blas(threads: int):
    """Limit this process's BLAS libraries to ``threads`` threads (0: no limit), for good (a worker's lifetime).

    The libraries already loaded are limited at once (threadpoolctl); the variables they read
    when loading are set for those loaded later and for child processes.  Returns the limiter.
    """
    import numpy  # noqa: F401 (loads numpy's BLAS, so that the limit reaches it now)
    from threadpoolctl import threadpool_limits

    os.environ[ENV] = str(threads)
    if threads:
        os.environ.update(dict.fromkeys(LOAD_TIME_VARS, str(threads)))
    return threadpool_limits(limits=threads or None, user_api="blas")


@contextlib.contextmanager
def blas_limit(threads: int):
    """Within: ``limit_blas(threads)``; after: the previous limits and variables (a library loaded meanwhile keeps the limit)."""
    saved = {var: os.environ.get(var) for var in (ENV, *LOAD_TIME_VARS)}
    limiter = limit_blas(threads)
    try:
        yield
    finally:
        limiter.restore_original_limits()
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
