"""Background loops that survive their own errors: one failed iteration is logged, the loop goes on.

The broadcaster, the heartbeat and the word-cloud renders run as background tasks for the life
of the server. An exception escaping one of them used to end it for good (live counts stopped
until a restart). Each iteration now runs through `guarded`: an exception is logged (the first
with its traceback, then at most one line every `QUIET` seconds per loop, so that a loop failing
on every tick cannot flood the log) and counted; `/healthz` shows the counts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
QUIET = 10.0

errors: dict[str, int] = {}
_last_logged: dict[str, float] = {}


def guarded(name: str, step: Callable, *args) -> bool:
    """Run one iteration `step(*args)` of the loop `name`; False (logged, counted) if it raised."""
    try:
        step(*args)
        return True
    except Exception:  # noqa: BLE001 - the loop must go on for everyone else
        count = errors[name] = errors.get(name, 0) + 1
        now = time.monotonic()
        if count == 1:
            log.exception("background loop %r failed; it goes on", name)
            _last_logged[name] = now
        elif now - _last_logged.get(name, 0.0) >= QUIET:
            log.error("background loop %r failed again (%d failures so far); it goes on", name, count)
            _last_logged[name] = now
        return False


def error_counts() -> dict[str, int]:
    """How many iterations of each loop have failed since the server started."""
    return dict(errors)
