"""The write queue: socket events are written in short group commits, never one fsync per vote.

A burst of 200 votes used to run 200 transactions back to back on the event loop (each a few
milliseconds of work and an fsync), freezing every other client for up to seconds. Now each
handler queues its work and waits cooperatively; one background task takes up to
`MAX_BATCH` items, runs each in its own savepoint (a refused item never spoils the others),
commits once, wakes the waiting handlers — who ack only then: acknowledged = stored — and
yields to the event loop before the next batch. No transaction is held across a yield.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from live.errors import DomainError
from live.store import storage_problem

log = logging.getLogger(__name__)
MAX_BATCH = 16


class _Job:
    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work, done):
        self.work = work
        self.done = done
        self.result = None
        self.error: BaseException | None = None


class WriteQueue:
    """Serializes write jobs into short group commits on one background task."""

    def __init__(self, app, store, socketio, max_batch: int = MAX_BATCH):
        self.app = app
        self.store = store
        self.socketio = socketio
        self.max_batch = max_batch
        self.jobs: deque[_Job] = deque()
        self.draining = False
        self.closed = False
        self.expiry = None

    def run(self, work: Callable):
        """Run `work(db)` in the next group commit; return its result once committed (or raise)."""
        if self.closed:
            raise DomainError("server_stopping")  # nothing stored; the client tries again later
        job = _Job(work, self.socketio.server.eio.create_event())
        self.jobs.append(job)
        if not self.draining:
            self.draining = True
            self.socketio.start_background_task(self._drain)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def queued(self) -> int:
        """How many writes wait for their group commit."""
        return len(self.jobs) + (1 if self.draining else 0)

    def close(self, timeout: float) -> int:
        """Refuse new writes; wait (cooperatively, at most `timeout` s) for the queued ones to commit.

        Returns how many were still unfinished (their clients get no ack: nothing is lost that
        was acknowledged).
        """
        self.closed = True
        deadline = time.monotonic() + timeout
        while (self.jobs or self.draining) and time.monotonic() < deadline:
            self.socketio.sleep(0.01)
        return len(self.jobs) + (1 if self.draining else 0)

    def _drain(self) -> None:
        # The jobs are handler code: they may read the app's config (an app context is needed).
        try:
            with self.app.app_context():
                self._drain_all()
        finally:
            self.draining = False
            if self.jobs:  # a job arrived between the last check and the flag
                self.draining = True
                self.socketio.start_background_task(self._drain)

    def _drain_all(self) -> None:
        while self.jobs:
            batch = [self.jobs.popleft() for _ in range(min(self.max_batch, len(self.jobs)))]
            self._commit(batch)
            for job in batch:
                job.done.set()
            self.socketio.sleep(0)  # let the loop breathe between batches
        self._expire_acks()

    def _expire_acks(self) -> None:
        """Now and then, delete acks too old for any replay (`live.acks`)."""
        from live.acks import Expiry

        if self.expiry is None:
            self.expiry = Expiry(self.app.config)
        if self.expiry.due():
            try:
                self.expiry.run(self.store)
            except Exception:  # noqa: BLE001 - expiry can wait for the next pass
                log.exception("expiring client acks failed")

    def _commit(self, batch: list[_Job]) -> None:
        try:
            with self.store.write() as db:
                for job in batch:
                    try:
                        with db.begin_nested():
                            job.result = job.work(db)
                    except Exception as exc:  # noqa: BLE001 - handed to the waiting handler
                        if storage_problem(exc):
                            # The database is full or locked: SQLite may have rolled back more
                            # than this job. The whole group commit is given up (nothing of it
                            # stored, every client told); the next one starts afresh.
                            raise
                        job.error = exc
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is stored
            problem = storage_problem(exc)
            if problem:  # locked or full for now: one line, the clients are told (no traceback)
                log.warning("group commit of %d write(s) not stored: %s", len(batch), problem)
            else:
                log.exception("group commit failed")
            for job in batch:
                job.result, job.error = None, exc
