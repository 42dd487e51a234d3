"""A compile counter for program-count assertions (no wall-clock: counts XLA backend compiles)."""

from __future__ import annotations

import contextlib
import threading

import jax

_EVENT = "/jax/core/compile/backend_compile_duration"
_active: list = []
_lock = threading.Lock()
_installed = [False]


class _Count:
    def __init__(self):
        self.n = 0


def _listener(event, duration, **kwargs):
    if event == _EVENT:
        with _lock:
            for c in _active:
                c.n += 1


@contextlib.contextmanager
def count_compiles():
    """``with count_compiles() as c: ...`` — ``c.n`` XLA programs compiled inside the block."""
    if not _installed[0]:
        jax.monitoring.register_event_duration_secs_listener(_listener)
        _installed[0] = True
    c = _Count()
    _active.append(c)
    try:
        yield c
    finally:
        _active.remove(c)
