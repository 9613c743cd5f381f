"""Flood control shared by both doors: socket events and the plain-form fallbacks.

A participant is limited as a person, not per socket: several tabs, several phones with the
same cookie, or a script alternating sockets and form posts all draw on one budget of
`RATE_LIMIT_PER_10S` actions per 10 seconds (a moving window, from the `limits` library).
Staff sockets are limited each on its own. The counts live in this process's memory: with
several processes (see docs/deployment.md) each one counts what it receives.
"""

from __future__ import annotations

from flask import current_app
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

WINDOW_SECONDS = 10


def _limiter(app) -> MovingWindowRateLimiter:
    limiter = app.extensions.get("palabre.rate_limits")
    if limiter is None:
        limiter = app.extensions["palabre.rate_limits"] = MovingWindowRateLimiter(MemoryStorage())
    return limiter


def allow(key: str) -> bool:
    """Count one action of `key` (e.g. "p42" for participant 42); False once over the limit."""
    app = current_app._get_current_object()
    budget = RateLimitItemPerSecond(max(1, int(app.config["RATE_LIMIT_PER_10S"])), WINDOW_SECONDS)
    return _limiter(app).hit(budget, "actions", key)


def participant_key(participant_id: int) -> str:
    """The key under which one participant's actions are counted, whatever the door."""
    return f"p{participant_id}"
