"""The server's timer loop: an activity whose timer reached its deadline closes itself.

Once a second, one read asks which timers with auto-close have passed their deadline
(`timer.due`: an indexed query, nothing when none); each closes in its own write
(`operations.timer_ended`) and every room gets its snapshot. The deadline is in the database,
so a timer that ended while the server was down closes as soon as it is back. With several
processes each runs the loop; the row is locked and the auto-close spent by the first.
"""

from __future__ import annotations

from live.loops import Loop, guarded
from live.realtime import socketio
from live.sessions import effects, operations
from live.sessions import timer as timer_service
from live.store import app_store, utcnow


class Deadlines:
    """Closes the activities whose timer ended (a background loop of the app)."""

    def __init__(self, app):
        self.app = app
        self.ticks = 0
        self.loop = Loop("timers", socketio, self._tick, lambda: app.config.get("TIMER_INTERVAL", 1.0))

    def start(self) -> None:
        """Start watching (the server does, before serving)."""
        self.loop.start()

    def stop(self) -> None:
        """Stop for good (shutdown)."""
        self.loop.stop()

    def _tick(self) -> None:
        try:
            with self.app.app_context():
                now = utcnow()
                with app_store().read() as db:
                    due = timer_service.due(db, now)
                for activity_id in due:
                    guarded("timers", self._expire, activity_id, now)
        finally:
            self.ticks += 1

    def _expire(self, activity_id: int, now) -> None:
        with app_store().write() as db:
            _session, changed = operations.timer_ended(db, activity_id, now)
        effects.apply(changed)
