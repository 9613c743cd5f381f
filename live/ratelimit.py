"""Flood control shared by both doors: socket events and the plain-form fallbacks.

A participant is limited as a person, not per socket: several tabs, several phones with the
same cookie, a new socket opened after being cut off, or a script alternating sockets and form
posts all draw on one budget: `RATE_LIMIT_PER_10S` actions at once, refilled at that many per
10 seconds (a token bucket). Staff sockets are limited each on its own.

Refusing costs O(1): one dictionary entry per key, no list of past events to filter (the
moving window of the `limits` library kept one and filtered it again on every event: 20,000
tiny events froze the server for seconds). A key refused `FLOOD_STRIKES` times in a row is
flooding: its socket is disconnected (`live.realtime`), and so is any new socket of the same
participant at its first refused event, until the budget has refilled.

New participants are also limited per client address (`JOIN_RATE_PER_MINUTE`, see
`allow_join`): a script cannot mint fresh participants, each with a fresh budget, from one
address. The counts live in this process's memory: with several processes (see
docs/deployment.md) each one counts what it receives.
"""

from __future__ import annotations

import time

from flask import current_app

WINDOW_SECONDS = 10
FLOOD_STRIKES = 20  # refusals in a row after which a socket is cut off
PRUNE_ABOVE = 20000  # keys kept before the full (idle) buckets are forgotten


class Buckets:
    """Token buckets by key: `capacity` actions at once, refilled at `capacity / period` a second."""

    def __init__(self):
        self.state: dict[str, list[float]] = {}  # key -> [tokens, last refill, refusals in a row]

    def hit(self, key: str, capacity: float, period: float, now: float | None = None) -> bool:
        """Take one token of `key`; False (and one more strike) when there is none."""
        now = time.monotonic() if now is None else now
        entry = self.state.get(key)
        if entry is None:
            if len(self.state) >= PRUNE_ABOVE:
                self.prune(capacity, period, now)
            entry = self.state[key] = [capacity, now, 0.0]
        tokens = min(capacity, entry[0] + (now - entry[1]) * capacity / period)
        entry[1] = now
        if tokens >= 1:
            entry[0], entry[2] = tokens - 1, 0.0
            return True
        entry[0], entry[2] = tokens, entry[2] + 1
        return False

    def strikes(self, key: str) -> int:
        """How many times in a row `key` was refused."""
        entry = self.state.get(key)
        return int(entry[2]) if entry else 0

    def prune(self, capacity: float, period: float, now: float) -> None:
        """Forget the keys whose bucket has refilled (they would start full anyway)."""
        self.state = {key: entry for key, entry in self.state.items()
                      if entry[0] + (now - entry[1]) * capacity / period < capacity}


def _buckets(app, name: str) -> Buckets:
    buckets = app.extensions.get(name)
    if buckets is None:
        buckets = app.extensions[name] = Buckets()
    return buckets


def allow(key: str) -> bool:
    """Count one action of `key` (e.g. "p42" for participant 42); False once over the limit."""
    app = current_app._get_current_object()
    capacity = max(1, int(app.config["RATE_LIMIT_PER_10S"]))
    return _buckets(app, "palabre.rate_limits").hit(key, capacity, WINDOW_SECONDS)


def flooding(key: str) -> bool:
    """Whether `key` keeps sending while refused: its socket is to be cut off."""
    return _buckets(current_app, "palabre.rate_limits").strikes(key) >= FLOOD_STRIKES


def allow_join(address: str | None) -> bool:
    """Count one new participant from `address`; False past `JOIN_RATE_PER_MINUTE` (0: no limit).

    At a venue each phone has its own address on the Wi-Fi; behind a reverse proxy every phone
    has the proxy's, so raise the limit there (or set 0)."""
    app = current_app._get_current_object()
    per_minute = int(app.config.get("JOIN_RATE_PER_MINUTE", 0) or 0)
    if per_minute <= 0:
        return True
    return _buckets(app, "palabre.join_limits").hit(f"a{address}", per_minute, 60)


def allow_reaction(participant_id: int) -> bool:
    """Count one quick reaction (the room's pulse) of a participant, in a bucket of its own:
    `REACTION_RATE_PER_10S` at once, refilled at that many per 10 seconds."""
    app = current_app._get_current_object()
    capacity = max(1, int(app.config.get("REACTION_RATE_PER_10S", 5)))
    buckets = _buckets(app, "palabre.reaction_limits")
    return buckets.hit(participant_key(participant_id), capacity, WINDOW_SECONDS)


def participant_key(participant_id: int) -> str:
    """The key under which one participant's actions are counted, whatever the door."""
    return f"p{participant_id}"
