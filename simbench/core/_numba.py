"""The one numba preset used by every kernel.

``cache=True`` so that tests and CI compile each kernel once per machine;
``error_model="numpy"`` so that division by zero gives inf/nan as in numpy
instead of raising inside a kernel.  There is deliberately no fallback that
silently turns acceleration off: if numba fails to import, simbench fails.
"""
from __future__ import annotations

import numba

jit = numba.njit(cache=True, error_model="numpy", nogil=True)


def _fast_generator_typeof() -> None:
    """Type a ``numpy.random.Generator`` argument without building a new numba type per call.

    numba's own rule constructs (and interns) a fresh ``NumPyRandomGeneratorType``
    each time a kernel is called with a Generator, a few microseconds per call, which
    the engine pays on every wave; the type is always the same, so hand back the one
    numba itself gives.
    """
    import numpy as np
    from numba.core.typing.typeof import typeof_impl

    gen_type = numba.typeof(np.random.default_rng(0))
    typeof_impl.register(np.random.Generator)(lambda val, c: gen_type)


_fast_generator_typeof()
