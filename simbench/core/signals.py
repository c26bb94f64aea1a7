"""SIGTERM handled like Ctrl-C, so that ``timeout``, batch schedulers and ``kill`` stop a run cleanly."""
from __future__ import annotations

import signal
import threading


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, batch schedulers, ``kill``): handled like Ctrl-C."""


class SigtermAsInterrupt:
    """Within ``with``, SIGTERM raises ``Terminated`` in the main thread, so a run stops cleanly.

    ``received`` says whether SIGTERM came (libraries such as Ray may re-raise a plain KeyboardInterrupt).
    """

    received = False

    def _raise(self, signum, frame):
        self.received = True
        raise Terminated(signum)

    def __enter__(self) -> "SigtermAsInterrupt":
        self.previous = None
        if threading.current_thread() is threading.main_thread():  # only the main thread may set handlers
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)

