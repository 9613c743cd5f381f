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
while a slow item never holds everyone. While writes keep coming one by one (a room changing
its votes), the task first waits a few milliseconds for the others (`_gather`), so that they
share a commit too. No transaction is held across a yield.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from live.errors import DomainError
from live.store import (
    AGENDA_READS,
    AGENDA_TABLES,
    DEFERRED,
    DeferredRows,
    agenda_generation,
    rows_savepoint,
    storage_problem,
    write_rows,
)

log = logging.getLogger(__name__)
# Writes taken by one group commit at most. A burst of 5,000 votes took ~80 commits of 64, each
# with its fixed cost (the acks' read, the statements, the unit of work, the commit); 256 a
# commit, still bounded by BATCH_SECONDS, cut the burst's server CPU per vote by 4-43 %
# (median 20 %) and its last ack by 0.15-1.5 s (docs/performance.md, 1 December).
MAX_BATCH = 256
BATCH_SECONDS = 0.025  # work run by one group commit before it commits (WRITE_BATCH_SECONDS)
GATHER = 0.005  # seconds a busy queue waits for more writes before a group commit (WRITE_GATHER)
BUSY = 0.1  # seconds since the last commit within which the queue counts as busy
# A group commit of this many writes or more is a crowd (a burst, not a steady stream: 4,000
# phones changing their votes make commits of 10-12 votes, docs/performance.md); the queue
# counts as crowded for CROWD_MEMORY seconds after it, even while it is empty between two
# reads of the sockets.
CROWD = 64
CROWD_MEMORY = 0.5


class _Job:
    __slots__ = ("work", "done", "result", "error", "key", "batched")

    def __init__(self, work, done, key=None, batched: bool = False):
        self.work = work
        self.done = done
        self.key = key  # (actor, client id) whose prior ack the work looks up, if any
        self.batched = batched  # it only reads, checks and defers its rows (`_Group`)
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
        self.busy_at = time.monotonic()  # when a write last came or was committed
        self.commits = 0  # group commits run (benchmarks: writes per commit)
        self.committed_at = float("-inf")  # when the last group commit ended
        self.crowded_at = float("-inf")  # when a group commit last took CROWD writes or more
        self.batch_seconds = float(app.config.get("WRITE_BATCH_SECONDS", BATCH_SECONDS))
        # What the last group commit of votes read of the agenda (SQLite only: see `_Kept`).
        self.kept = _Kept() if store.engine.dialect.name == "sqlite" else None

    def run(self, work: Callable, key: tuple[str, str] | None = None, batched: bool = False):
        """Run `work(db)` in the next group commit; return its result once committed (or raise).

        `key`: the (actor, client id) whose ack `work` looks up (`acks.previous`), read with the
        others of its group commit in one query. `batched`: `work` writes nothing itself but
        rows deferred with `store.write_row` (and its ack, `acks.remember`): they are stored
        with those of the other batched writes, one statement per table (`_Group`)."""
        if self.closed:
            raise DomainError("server_stopping")  # nothing stored; the client tries again later
        job = _Job(work, self.socketio.server.eio.create_event(), key, batched)
        self.jobs.append(job)
        self.busy_at = time.monotonic()
        if not self.draining:
            self.draining = True
            self.socketio.start_background_task(self._drain)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def idle_for(self) -> float:
        """Seconds since the last write came or was committed (0 while writes wait)."""
        if self.jobs or self.draining:
            return 0.0
        return time.monotonic() - self.busy_at

    def queued(self) -> int:
        """How many writes wait for their group commit (the one under way included)."""
        return len(self.jobs) + self.in_flight

    def crowded(self) -> bool:
        """Whether a group commit took `CROWD` writes or more within the last `CROWD_MEMORY`
        seconds: a burst under way, though the queue may be empty for a moment (the event loop
        reading the next votes from the sockets)."""
        return time.monotonic() - self.crowded_at < CROWD_MEMORY

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
            self._gather()
            batch: list[_Job] = []  # taken once the write lock is (`_take`)
            try:
                ran = self._commit(batch)
            finally:
                self.in_flight = 0
            self.jobs.extendleft(reversed(batch[ran:]))  # over its time: in the next commit
            self.committed_at = time.monotonic()
            if len(batch) >= CROWD:
                self.crowded_at = self.committed_at
            for job in batch[:ran]:
                job.done.set()
            self.socketio.sleep(0)  # let the loop breathe between batches
        self.busy_at = time.monotonic()
        self._expire_acks()

    def _gather(self) -> None:
        """Writes that come one by one (a room changing its votes, ~1,300 a second) were each a
        group commit of its own: ~1 ms of CPU for what every commit costs whatever its size
        (the unit of work, the acks' read, the session's and the poll's, the statements, the
        commit) against ~0.2 ms per vote in a burst's commits, and one process could not keep
        up. While the queue is busy (a commit ended within `BUSY` s) and not full, it waits
        `WRITE_GATHER` s (5 ms) for the writes arriving meanwhile, which share the commit; a
        write in a quiet room is committed at once. Nobody is acked before the commit."""
        gather = float(self.app.config.get("WRITE_GATHER", GATHER))
        if gather <= 0 or len(self.jobs) >= self.max_batch:
            return
        if time.monotonic() - self.committed_at > BUSY:
            return
        self.socketio.sleep(gather)

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
        """Run the jobs of `batch` in one transaction until `batch_seconds` have passed (one at
        least); commit. Returns how many were run (the others wait for the next commit)."""
        ran = 0
        try:
            with self.store.write() as db:
                ran = self._take(batch)
                group = _Group(db, batch, self.kept)
                for index, job in enumerate(batch):
                    if index and time.perf_counter() - group.start > self.batch_seconds:
                        ran = index
                        break
                    group.run(job)
                group.settle()
            self.commits += 1
            if self.kept is not None:
                self.kept.keep(group)
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is stored
            if self.kept is not None:
                self.kept.forget()
            if not batch:  # the write lock was not had: the jobs it was for are told
                ran = self._take(batch)
            problem = storage_problem(exc)
            if problem:  # locked or full for now: one line, the clients are told (no traceback)
                log.warning("group commit of %d write(s) not stored: %s", len(batch), problem)
            else:
                log.exception("group commit failed")
            for job in batch[:ran]:
                job.result, job.error = None, exc
        return ran

    def _take(self, batch: list[_Job]) -> int:
        """Fill `batch` from the queue (at most `max_batch`); how many. Taken once the write
        lock is had: with two processes on one SQLite file, the writes that arrive while this
        one waits for the other's commit join this commit instead of waiting for the next
        (and its own wait for the lock)."""
        batch.extend(self.jobs.popleft() for _ in range(min(self.max_batch, len(self.jobs))))
        self.in_flight = len(batch)
        return len(batch)


_HELD = "palabre.writer.held"  # in a group commit's `db.info`: what its jobs loaded


@event.listens_for(Session, "loaded_as_persistent")
def _hold(db, instance) -> None:
    """Keep what a group commit loads for its whole length (see `_Group`). One listener for
    every session, not one per group commit: that one (a lambda holding the group, which held
    the session) made each group commit cyclic garbage of some 300 objects (its session, its
    event dispatch, its rows), freed only by the garbage collector - 20-30 objects per vote in
    a steady stream of votes, and a listener set up per commit."""
    held = db.info.get(_HELD)
    if held is not None:
        held.append(instance)


class _Group:
    """One group commit under way: its unit of work, and the rows its batched writes deferred.

    A job run on its own (`batched` false) gets a savepoint: refused, it spoils nothing of the
    others. A batched job (a vote) only reads, checks and defers its rows (`store.write_row`,
    its ack as the guard: `acks.remember`); the rows of consecutive batched jobs are stored
    together, one multi-row statement per table (`settle`), before the next job run on its own
    and before the commit. A row refused there is retried alone: only its own job fails."""

    def __init__(self, db, batch: list[_Job], kept: _Kept | None = None):
        from live import acks

        self.db = db
        self.start = time.perf_counter()
        self.pending: list[tuple[_Job, DeferredRows]] = []
        self.pending_keys: set = set()
        self.alone = False  # a job ran on its own (it may have changed anything)
        # The session's identity map holds objects weakly: a live session or a poll read by one
        # job would be dropped once that job returns, and read again by the next (a query per
        # vote). The group commit keeps what its jobs loaded.
        self.held: list = []
        db.info[_HELD] = self.held  # (`_hold`: one listener for every session, no cycle)
        if kept is not None:
            kept.bring(db)
        acks.prefetch(db, [job.key for job in batch if job.key is not None])

    def run(self, job: _Job) -> None:
        """Run one job (its result or error is set on it)."""
        if not job.batched or job.key in self.pending_keys:  # it may read what is pending
            self.settle()
        if job.batched:
            self._run_batched(job)
        else:
            self._run_alone(job)

    def _run_alone(self, job: _Job) -> None:
        from live import acks

        self.alone = True
        try:
            with self.db.begin_nested():
                job.result = job.work(self.db)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting handler
            if storage_problem(exc):
                # The database is full or locked: SQLite may have rolled back more than this
                # job. The whole group commit is given up (nothing of it stored, every client
                # told); the next one starts afresh.
                raise
            acks.forget_unstored(self.db, job.key)
            job.error = exc

    def _run_batched(self, job: _Job) -> None:
        from live import acks

        rows = self.db.info[DEFERRED] = DeferredRows()
        try:
            job.result = job.work(self.db)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting handler
            if storage_problem(exc) or self.db.new or self.db.dirty or self.db.deleted:
                raise  # it wrote outside its deferred rows: the group commit is given up
            acks.forget_unstored(self.db, job.key)
            job.error = exc
            return
        finally:
            del self.db.info[DEFERRED]
        if rows.guard is not None or rows.rows:
            self.pending.append((job, rows))
            self.pending_keys.add(job.key)

    def settle(self) -> None:
        """Store the pending rows: one statement per table for all of them; if that fails, each
        write's rows alone (a refused row fails its own write only)."""
        if not self.pending:
            return
        pending, self.pending, self.pending_keys = self.pending, [], set()
        try:
            with rows_savepoint(self.db):
                conflicted = _store_rows(self.db, pending)
        except Exception as exc:  # noqa: BLE001 - retried write by write
            if storage_problem(exc):
                raise
            conflicted = self._store_one_by_one(pending)
        for job in conflicted:  # another process answered its client id: answered the same
            from live import acks

            acks.read_again(self.db, job.key)
            job.result, job.error = None, None
            self._run_alone(job)

    def _store_one_by_one(self, pending: list[tuple[_Job, DeferredRows]]) -> list[_Job]:
        from live import acks

        conflicted = []
        for job, rows in pending:
            try:
                with rows_savepoint(self.db):
                    conflicted += _store_rows(self.db, [(job, rows)])
            except Exception as exc:  # noqa: BLE001 - handed to the waiting handler
                if storage_problem(exc):
                    raise
                acks.forget_unstored(self.db, job.key)
                job.result, job.error = None, exc
        return conflicted


class _Kept:
    """What group commits of votes read again and again (the live session, the poll, its option
    ids), kept from one commit to the next while the agenda's generation stays the same.

    A group commit of 24 votes read them once each (three queries through the ORM): about a
    fifth of its CPU, inside SQLite's write lock (`python -m bench groupcommit`). Now it reads
    the generation (`store.Generation`: triggers move it in the very transaction that changes
    one of those rows, in any process) once the write lock is had: unchanged, the objects of
    the last commit are put back in this one's unit of work, as loaded then, and its agenda
    reads (`store.agenda_reads`); changed, nothing is brought and what the jobs read is read.
    Kept only after a commit made of batched jobs alone (a vote only reads and defers rows; a
    job run on its own may have changed anything: nothing is kept after it), never after a
    failed commit, and never an object with an expired attribute."""

    __slots__ = ("generation", "objects", "reads")

    def __init__(self):
        self.forget()

    def forget(self) -> None:
        self.generation: int | None = None
        self.objects: tuple = ()
        self.reads: dict = {}

    def bring(self, db) -> None:
        """At the start of a group commit, its write lock had."""
        generation = agenda_generation(db)
        if generation is None or generation != self.generation:
            self.forget()
            self.generation = generation
            return
        for instance in self.objects:
            db.add(instance)  # detached since the last commit: back, as loaded, without a query
        db.info[AGENDA_READS] = dict(self.reads)

    def keep(self, group: _Group) -> None:
        """After a group commit, committed."""
        if group.alone or self.generation is None:
            self.forget()
            return
        seen, objects = set(), []
        for instance in (*self.objects, *group.held):
            if (id(instance) not in seen and type(instance).__table__.name in AGENDA_TABLES
                    and not inspect(instance).expired_attributes):
                seen.add(id(instance))
                objects.append(instance)
        self.objects = tuple(objects)
        self.reads = dict(group.db.info.get(AGENDA_READS, {}))


def _store_rows(db, pending: list[tuple[_Job, DeferredRows]]) -> list[_Job]:
    """Insert the guards, then the rows of the writes whose guard was stored, one statement per
    table (per round of distinct unique keys). Returns the jobs whose guard conflicted."""
    guards: dict = {}
    for _job, rows in pending:
        if rows.guard is not None:
            guards.setdefault(rows.guard[0], []).append(rows.guard[1])
    stored = set()
    for statement, values in guards.items():
        stored.update(write_rows(db, statement, values))  # tuples (actor, client id)
    conflicted = [job for job, rows in pending if rows.guard is not None and rows.guard[2] not in stored]
    kept = [rows for job, rows in pending if job not in conflicted]
    for statement, values in _rounds(kept):
        write_rows(db, statement, values)
    return conflicted


def _rounds(kept: list[DeferredRows]) -> list[tuple]:
    """(statement, rows) in order; a unique key's nth row goes in the statement's nth round (an
    upsert cannot touch one row twice in one statement)."""
    rounds: dict = {}  # statement -> [{unique key: row}, ...]
    for rows in kept:
        for statement, unique, row in rows.rows:
            per_round = rounds.setdefault(statement, [])
            key = object() if unique is None else unique
            for taken in per_round:
                if key not in taken:
                    taken[key] = row
                    break
            else:
                per_round.append({key: row})
    return [(statement, list(values.values())) for statement, per_round in rounds.items()
            for values in per_round]
