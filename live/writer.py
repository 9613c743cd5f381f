"""The write queue: socket events are written in short group commits, never one fsync per vote.

A burst of 200 votes used to run 200 transactions back to back on the event loop (each a few
milliseconds of work and an fsync), freezing every other client for up to seconds. Now each
handler queues its work and waits cooperatively; one background task takes up to
`MAX_BATCH` items, reads the acks of all their client ids in one query (`acks.prefetch`: a
replay is answered as the first time without a query of its own), runs each item in its own
savepoint (a refused item never spoils the others), commits once, wakes the waiting handlers —
who ack only then: acknowledged = stored — and yields to the event loop before the next batch.
A batch stops taking items once it has run `BATCH_SECONDS` (the event loop is blocked meanwhile:
the rest wait for the next commit), so a burst of cheap votes shares few commits and fsyncs
while a slow item never holds everyone. No transaction is held across a yield.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy import event

from live.errors import DomainError
from live.store import storage_problem

log = logging.getLogger(__name__)
MAX_BATCH = 64
BATCH_SECONDS = 0.025  # work run by one group commit before it commits (the loop waits meanwhile)


class _Job:
    __slots__ = ("work", "done", "result", "error", "key")

    def __init__(self, work, done, key=None):
        self.work = work
        self.done = done
        self.key = key  # (actor, client id) whose prior ack the work looks up, if any
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
        self.in_flight = 0  # jobs of the group commit under way
        self.closed = False
        self.expiry = None

    def run(self, work: Callable, key: tuple[str, str] | None = None):
        """Run `work(db)` in the next group commit; return its result once committed (or raise).

        `key`: the (actor, client id) whose ack `work` looks up (`acks.previous`), read with the
        others of its group commit in one query."""
        if self.closed:
            raise DomainError("server_stopping")  # nothing stored; the client tries again later
        job = _Job(work, self.socketio.server.eio.create_event(), key)
        self.jobs.append(job)
        if not self.draining:
            self.draining = True
            self.socketio.start_background_task(self._drain)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def queued(self) -> int:
        """How many writes wait for their group commit (the one under way included)."""
        return len(self.jobs) + max(self.in_flight, 1 if self.draining else 0)

    def close(self, timeout: float) -> int:
        """Refuse new writes; wait (cooperatively, at most `timeout` s) for the queued ones to commit.

        Returns how many were still unfinished (their clients get no ack: nothing is lost that
        was acknowledged).
        """
        self.closed = True
        deadline = time.monotonic() + timeout
        while (self.jobs or self.draining) and time.monotonic() < deadline:
            self.socketio.sleep(0.01)
        return self.queued()

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
            self.in_flight = len(batch)
            try:
                ran = self._commit(batch)
            finally:
                self.in_flight = 0
            self.jobs.extendleft(reversed(batch[ran:]))  # over its time: in the next commit
            for job in batch[:ran]:
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

    def _commit(self, batch: list[_Job]) -> int:
        """Run the jobs of `batch` in one transaction until BATCH_SECONDS have passed (one at
        least); commit. Returns how many were run (the others wait for the next commit)."""
        from live import acks

        ran = len(batch)
        try:
            with self.store.write() as db:
                start = time.perf_counter()
                # The session's identity map holds objects weakly: a live session or a poll read
                # by one job would be dropped once that job returns, and read again by the next
                # (a query per vote). The group commit keeps what its jobs loaded.
                held: list = []
                event.listen(db, "loaded_as_persistent", lambda _db, instance: held.append(instance))
                acks.prefetch(db, [job.key for job in batch if job.key is not None])
                for index, job in enumerate(batch):
                    if index and time.perf_counter() - start > BATCH_SECONDS:
                        ran = index
                        break
                    try:
                        with db.begin_nested():
                            job.result = job.work(db)
                    except Exception as exc:  # noqa: BLE001 - handed to the waiting handler
                        if storage_problem(exc):
                            # The database is full or locked: SQLite may have rolled back more
                            # than this job. The whole group commit is given up (nothing of it
                            # stored, every client told); the next one starts afresh.
                            raise
                        acks.forget_unstored(db, job.key)
                        job.error = exc
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is stored
            problem = storage_problem(exc)
            if problem:  # locked or full for now: one line, the clients are told (no traceback)
                log.warning("group commit of %d write(s) not stored: %s", len(batch), problem)
            else:
                log.exception("group commit failed")
            for job in batch[:ran]:
                job.result, job.error = None, exc
        return ran
