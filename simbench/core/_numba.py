"""The one numba preset used by every kernel.

``cache=True`` so that tests and CI compile each kernel once per machine;
``error_model="numpy"`` so that division by zero gives inf/nan as in numpy
instead of raising inside a kernel.  There is deliberately no fallback that
silently turns acceleration off: if numba fails to import, simbench fails.
"""
from __future__ import annotations

import numba

jit = numba.njit(cache=True, error_model="numpy", nogil=True)
