"""Background loops that survive their own errors: one failed iteration is logged, the loop goes on.

The broadcaster, the heartbeat and the word-cloud renders run as background tasks for the life
of the server. An exception escaping one of them used to end it for good (live counts stopped
until a restart). Each iteration now runs through `guarded`: an exception is logged (the first
with its traceback, then at most one line every `QUIET` seconds per loop, so that a loop failing
on every tick cannot flood the log) and counted; `/healthz` shows the counts.
"""

from __future__ import annotations

import logging
import threading
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


class Loop:
    """A background task that runs `step()` every `interval()` seconds, from start() to stop().

    Its own lifecycle: idle → running (`start`, idempotent) → stopped (`stop`, for good: a
    stopped loop does not start again). The app owns its loops: `live.app.start_background`
    and `stop_background` (the server starts them, and stops them on shutdown); a loop also
    ends if another app's Socket.IO server replaces the one it started under (tests build
    many apps). Each iteration runs through `guarded`.
    """

    def __init__(self, name: str, socketio, step: Callable[[], None], interval: Callable[[], float],
                 cadence: bool = False):
        self.name = name
        self.socketio = socketio
        self.step = step
        self.interval = interval
        # cadence: a step starts every `interval` from the start of the one before (not an
        # interval after it ended), and `wake()` may run one at once; else a plain pause.
        self.cadence = cadence
        self.state = "idle"
        self._server = None
        self._finished = threading.Event()
        self._wake = None  # the event `wake()` sets (cadence loops, made when the task starts)
        self.stepped_at = float("-inf")  # monotonic time the last step started
        self.next_at = float("inf")  # `wake_in`: the next step no later than this (monotonic)

    @property
    def running(self) -> bool:
        """Whether the loop has been started and not stopped."""
        return self.state == "running"

    def start(self) -> Loop:
        """Start the task (once; never after stop)."""
        if self.state == "idle":
            self.state = "running"
            self._server = self.socketio.server
            self._finished.clear()
            if self.cadence:  # its first step comes at once
                self._wake = self.socketio.server.eio.create_event()
            self.socketio.start_background_task(self._run)
        return self

    def stop(self) -> None:
        """Ask the task to end after its current iteration; it never starts again."""
        if self.state == "idle":
            self._finished.set()
        self.state = "stopped"

    def wait_stopped(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until the task has ended."""
        return self._finished.wait(timeout)

    def _alive(self) -> bool:
        return self.state == "running" and self.socketio.server is self._server

    def wake(self) -> None:
        """Run the next step now rather than at its time (a cadence loop that is running; the
        caller decides whether it is due: the loop does not check the interval)."""
        if self._wake is not None:
            self._wake.set()

    def wake_in(self, seconds: float) -> None:
        """From a step of a cadence loop: run the next one in `seconds` if that comes before
        its time (a push slot another process holds is free then)."""
        self.next_at = min(self.next_at, time.monotonic() + seconds)

    def _pause(self) -> None:
        if not self.cadence:
            self.socketio.sleep(self.interval())
            return
        due, self.next_at = min(self.stepped_at + self.interval(), self.next_at), float("inf")
        left = due - time.monotonic()
        if left > 0:
            self._wake.wait(left)
        else:
            self.socketio.sleep(0)  # late: the next step at once, the others served first
        self._wake.clear()

    def _run(self) -> None:
        try:
            while self._alive():
                self._pause()
                if not self._alive():
                    break
                self.stepped_at = time.monotonic()
                guarded(self.name, self.step)
        finally:
            self._wake = None
            self._finished.set()
