"""Child processes that die with the test run, even when pytest is SIGKILLed (Linux)."""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Callable
from typing import Any

_LIBC: Any = None
if sys.platform == "linux":
    with contextlib.suppress(OSError, AttributeError):
        _LIBC = ctypes.CDLL(None)
        _LIBC.prctl  # noqa: B018 (fails if missing)

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that sends ``sig`` to the child when its parent thread ends.

    None off Linux, or off the main thread: the signal fires when the *thread* that
    started the child ends, so a short-lived thread would take its child with it.
    """
    if _LIBC is None or threading.current_thread() is not threading.main_thread():
        return None
    return lambda: _LIBC.prctl(PR_SET_PDEATHSIG, int(sig))
