"""The garbage collector's full passes, kept out of the room's busy seconds.

Python's cyclic garbage collector scans every object it tracks in a full pass (its oldest
generation): with 2,000 phones connected, 220-255 ms during which the event loop serves
nobody, 600 ms and more with 5,000. The allocations of a burst of votes set it off, so it ran
in the middle of bursts, one or two passes each: most of a burst's largest stall, and a good
share of its CPU. The server (`start`) puts the oldest generation's threshold out of reach (the
young generations are still collected as usual, a few milliseconds each) and runs the full pass
itself: once the write queue has been idle for `QUIET` seconds, at most every `EVERY` seconds,
and every `LATEST` seconds whatever happens, so that cyclic garbage never waits longer. The
objects of the start are out of its reach anyway (`runtime._freeze_startup_objects`).

The young generations keep Python's threshold: they were expensive in bursts (about 100
passes for 1,000 votes, 0.18-0.2 s of the burst's 0.32-0.39 s of CPU) only because each group
commit of the write queue left its session as cyclic garbage (`writer._hold`); a threshold of
20,000 hid it in bursts, but made each pass of a steady stream of votes a stall of 30-90 ms.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from live.loops import Loop

EVERY = 30.0  # seconds: the shortest time between two full passes
QUIET = 2.0  # seconds without a write before a full pass may run
LATEST = 120.0  # seconds: the longest time between two full passes, busy or not
CHECK = 0.5  # seconds between two looks
OUT_OF_REACH = 1_000_000  # the oldest generation's threshold while the server runs its passes


class QuietCollector:
    """Runs the garbage collector's full passes when the room is quiet (see the module)."""

    def __init__(self, socketio, idle_for: Callable[[], float]):
        self.idle_for = idle_for  # seconds since the last write (0: writing now)
        self.last = time.monotonic()
        self.passes = 0
        self.longest = 0.0  # seconds of the longest full pass
        self.thresholds: tuple[int, int, int] | None = None
        self.loop = Loop("collector", socketio, self.step, lambda: CHECK)

    def start(self) -> None:
        """Take the full passes over from the collector's own rule (idempotent)."""
        if self.thresholds is None:
            self.thresholds = gc.get_threshold()
            gc.set_threshold(self.thresholds[0], self.thresholds[1], OUT_OF_REACH)
        self.last = time.monotonic()
        self.loop.start()

    def stop(self) -> None:
        """Give the full passes back to the collector's own rule."""
        self.loop.stop()
        if self.thresholds is not None:
            gc.set_threshold(*self.thresholds)
            self.thresholds = None

    def step(self) -> bool:
        """One look: a full pass if one is due now; whether it ran."""
        since = time.monotonic() - self.last
        if since < LATEST and (since < EVERY or self.idle_for() < QUIET):
            return False
        start = time.perf_counter()
        gc.collect()
        self.longest = max(self.longest, time.perf_counter() - start)
        self.last = time.monotonic()
        self.passes += 1
        return True
