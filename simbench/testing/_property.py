"""Property tests with hypothesis imported only when they run.

``import simbench.testing`` must work without hypothesis (a test-only dependency, in the ``testing``
extra), so a contract's property tests name their strategies as functions of
``hypothesis.strategies``, built when the test is called.
"""
from __future__ import annotations

import math
from typing import Callable

# the strategies every contract shares (functions of hypothesis.strategies)
SEED = lambda st: st.integers(0, 2**32 - 1)  # noqa: E731
SAMPLE_BUDGET = lambda st: st.one_of(st.just(math.inf), st.integers(0, 1024))  # noqa: E731


def hypothesis():
    """The hypothesis module, or an ImportError saying how to get it."""
    try:
        import hypothesis as h
    except ImportError as err:
        raise ImportError("the property tests of simbench.testing need hypothesis: "
                          "pip install 'simbench[testing]' (or hypothesis itself)") from err
    return h


def property_test(max_examples: int = 25, **strategies: Callable) -> Callable:
    """Like ``@settings(...) @given(name=strategy, ...)``, each strategy a function of ``hypothesis.strategies``.

    The returned test takes only ``self``, so pytest asks for no fixtures; hypothesis is imported on the
    first call.
    """
    def decorate(fn: Callable) -> Callable:
        def test(self) -> None:
            h = hypothesis()
            built = {name: make(h.strategies) for name, make in strategies.items()}
            checks = [h.HealthCheck.too_slow, h.HealthCheck.differing_executors]
            run = h.settings(max_examples=max_examples, deadline=None, suppress_health_check=checks)(h.given(**built)(fn))
            run(self)

        test.__name__, test.__qualname__, test.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        test.__module__ = fn.__module__
        test.check = fn  # the undecorated check, to run one chosen example
        return test

    return decorate
