"""Command-line room, stopping: every way a run can be stopped stops all of it.

Ctrl-C raises KeyboardInterrupt; SIGTERM and SIGHUP (a scheduler's pre-emption, `timeout`, a CI
cancel, a closed terminal) raise `Stopped`, a KeyboardInterrupt, so one path handles all three:
the pool ends its workers, finished units stay cached, the stored result is left as it was.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a scheduler's pre-emption, `timeout`, a CI cancel, a closed terminal),
    handled as Ctrl-C is: the workers end, finished units stay cached, nothing half-written."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def stopped_by(exc: BaseException) -> str:
    return signal.Signals(exc.signum).name if isinstance(exc, Stopped) else "Ctrl-C"


def exit_code(exc: BaseException) -> int:
    return 128 + (exc.signum if isinstance(exc, Stopped) else signal.SIGINT)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Stopped` in the main thread for as long as the block runs."""

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signum)

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
