"""Retention: purge a session's participant-level data, keep its aggregates and texts.

A purge runs in two phases, neither holding the database for long:

1. **freeze**: the session's archive document is read (a read transaction: SQLite's WAL lets
   every writer go on), each activity's part is kept without its per-participant rows
   (results, options, texts), and one short write stores it and marks the session purged.
   From then on exports come from the frozen parts: same results, no participants.
2. **delete**: the kinds' purge hooks, the session's client acks and its participants are
   deleted `BATCH` rows per transaction, with a pause between transactions so that other
   writers (the server, while the purge runs in the archive worker) get their turn.

A purge interrupted in phase 2 (a crash, a restart) leaves a session marked purged with rows
left: purging it again finishes the work. A session is purged only once it has ended and an
archive of it was exported after its end, unless the organiser says otherwise (`force`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DB

from live import validation
from live.acks import ClientAck
from live.archive import kinds
from live.archive.document import archive_state, session_document
from live.archive.model import ArchiveSettings, ArchiveState
from live.errors import DomainError
from live.pulse.model import PulseHand, PulseMark, PulseReaction
from live.sessions.model import Activity, LiveSession, Participant
from live.store import utcnow

MAX_RETENTION_DAYS = 3650
BATCH = 500  # rows per delete transaction (a few milliseconds each)
FREEZE_TRIES = 3

Progress = Callable[[DB, int], None]  # (db of the batch's transaction, rows in the batch)


def state_for(db: DB, session_id: int) -> ArchiveState:
    """The archive record of a session, created on first use."""
    state = archive_state(db, session_id)
    if state is None:
        state = ArchiveState(session_id=session_id)
        db.add(state)
        db.flush()
    return state


def mark_exported(db: DB, session_id: int) -> None:
    """Record that the organiser exported the session's archive (a purge then needs no `force`)."""
    state_for(db, session_id).last_exported_at = utcnow()


def exported_since_end(state: ArchiveState | None, live_session: LiveSession) -> bool:
    """Whether an archive was exported after the session ended (so it holds everything)."""
    if state is None or state.last_exported_at is None:
        return False
    if state.imported_at is not None:
        return True  # an imported session is a copy of an archive
    return live_session.ended_at is None or state.last_exported_at >= live_session.ended_at


def check(db: DB, live_session: LiveSession, force: bool = False) -> None:
    """Refuse a purge the organiser should not do now (DomainError with the reason)."""
    state = archive_state(db, live_session.id)
    if live_session.state != "ended":
        raise DomainError("purge_not_ended")
    if state is not None and state.purged_at is not None:
        if not rows_left(db, live_session.id):
            raise DomainError("already_purged")
        return  # frozen by a purge that did not finish: finishing it needs nothing more
    if not force and not exported_since_end(state, live_session):
        raise DomainError("purge_export_first")


def rows_left(db: DB, session_id: int) -> bool:
    """Whether a session still has participants or client acks (a purge left unfinished)."""
    return (db.scalar(select(Participant.id).where(Participant.session_id == session_id).limit(1)) is not None
            or db.scalar(select(ClientAck.id).where(ClientAck.session_id == session_id).limit(1)) is not None)


def purge(store, session_id: int, force: bool = False, batch: int = BATCH,
          progress: Progress | None = None, pause: Callable[[float], None] | None = None) -> int:
    """Purge a session's participant-level data; the rows deleted or detached.

    `pause(seconds_the_last_transaction_took)` runs between two transactions (the worker
    sleeps as long, so that it holds the database at most half the time).
    """
    freeze(store, session_id, force)
    return delete_rows(store, session_id, batch, progress, pause)


def freeze(store, session_id: int, force: bool = False) -> None:
    """Phase 1: keep each activity's aggregates and texts, mark the session purged."""
    for _ in range(FREEZE_TRIES):
        with store.read() as db:
            live_session = _session(db, session_id)
            check(db, live_session, force)
            state = archive_state(db, session_id)
            if state is not None and state.purged_at is not None:
                return  # frozen by an earlier purge that did not finish: phase 2 only
            seen = _marker(db, live_session)
            doc = session_document(db, live_session)
            frozen = dict((state.frozen or {}) if state else {})
            for activity_doc in doc["activities"]:
                stripped = kinds.part_for(activity_doc["kind"]).strip(activity_doc)
                frozen[activity_doc["ref"]] = {k: v for k, v in stripped.items() if k not in _ACTIVITY_FIELDS}
        with store.write() as db:
            live_session = _session(db, session_id)
            check(db, live_session, force)
            if _marker(db, live_session) != seen:
                continue  # a moderator changed something meanwhile: read again
            state = state_for(db, session_id)
            state.frozen = frozen
            state.participant_count = doc["session"]["participant_count"]
            state.purged_at = utcnow()
            live_session.version += 1
            return
    raise DomainError("changed_meanwhile")


def delete_rows(store, session_id: int, batch: int = BATCH, progress: Progress | None = None,
                pause: Callable[[float], None] | None = None) -> int:
    """Phase 2: delete the per-participant rows, `batch` per short transaction."""
    with store.read() as db:
        activities = [(a.id, a.kind) for a in db.scalars(
            select(Activity).where(Activity.session_id == session_id).order_by(Activity.position))]
    steps = []
    for activity_id, kind in activities:
        hook = kinds.part_for(kind).purge
        if hook is not None:
            steps.append(lambda db, limit, hook=hook, ref=_ActivityRef(activity_id): hook(db, ref, limit))
    for table in (ClientAck, PulseMark, PulseHand, PulseReaction, Participant):
        steps.append(lambda db, limit, table=table: _delete_batch(db, table, session_id, limit))
    total = 0
    for step in steps:
        while True:
            started = time.perf_counter()
            with store.write() as db:
                count = step(db, batch)
                if progress is not None and count:
                    progress(db, count)
            total += count
            if count < batch:
                break
            if pause is not None:
                pause(time.perf_counter() - started)
    return total


@dataclass(frozen=True)
class _ActivityRef:
    """What a kind's purge hook reads of an activity: its id."""

    id: int


def _delete_batch(db: DB, table, session_id: int, limit: int) -> int:
    ids = list(db.scalars(select(table.id).where(table.session_id == session_id).limit(limit)))
    if ids:
        db.execute(delete(table).where(table.id.in_(ids)))
    return len(ids)


def _session(db: DB, session_id: int) -> LiveSession:
    from live.sessions import service

    return service.get_session(db, session_id)


def _marker(db: DB, live_session: LiveSession) -> tuple:
    """What changes when anything of the session that a purge freezes changes."""
    from live.boards.model import Item, ModerationEntry

    activity_ids = select(Activity.id).where(Activity.session_id == live_session.id)
    return (live_session.version,
            tuple(db.scalars(select(Activity.version).where(Activity.session_id == live_session.id)
                             .order_by(Activity.id))),
            db.scalar(select(func.max(ModerationEntry.id)).where(ModerationEntry.activity_id.in_(activity_ids))),
            db.scalar(select(func.max(Item.updated_at)).where(Item.activity_id.in_(activity_ids))))


# --- retention -------------------------------------------------------------------------------

def get_retention(db: DB) -> int | None:
    """Days after which participant-level data of ended sessions is purged (None: kept)."""
    settings = db.get(ArchiveSettings, 1)
    return settings.retention_days if settings else None


def set_retention(db: DB, days: object) -> None:
    """Set (or clear with None/"") the default retention in days. Purges nothing by itself."""
    if days in (None, ""):
        value = None
    else:
        value = validation.integer(days, "bad_retention", 0, MAX_RETENTION_DAYS)
    settings = db.get(ArchiveSettings, 1)
    if settings is None:
        db.add(ArchiveSettings(id=1, retention_days=value))
    else:
        settings.retention_days = value


def expired_sessions(db: DB, now=None) -> list[int]:
    """Ended sessions past the retention period whose participant data is (partly) still there."""
    days = get_retention(db)
    if days is None:
        return []
    limit = (now or utcnow()) - timedelta(days=days)
    done = select(ArchiveState.session_id).where(ArchiveState.purged_at.is_not(None))
    candidates = db.scalars(select(LiveSession.id).where(
        LiveSession.state == "ended", LiveSession.ended_at <= limit).order_by(LiveSession.id))
    finished = set(db.scalars(done))
    return [sid for sid in candidates if sid not in finished or rows_left(db, sid)]


@dataclass
class Due:
    """Sessions past the retention period: those that may be purged, those not exported yet."""

    exported: list[int] = field(default_factory=list)
    not_exported: list[int] = field(default_factory=list)


def due_sessions(db: DB, now=None) -> Due:
    """The sessions the retention would purge now, split by whether they were exported."""
    due = Due()
    for session_id in expired_sessions(db, now):
        live_session = db.get(LiveSession, session_id)
        state = archive_state(db, session_id)
        ready = exported_since_end(state, live_session) or (state is not None and state.purged_at is not None)
        (due.exported if ready else due.not_exported).append(session_id)
    return due


def apply_retention(store, now=None, include_unexported: bool = False, batch: int = BATCH,
                    progress: Progress | None = None, pause: Callable[[float], None] | None = None,
                    on_session: Callable[[int], None] | None = None) -> tuple[list[int], list[int]]:
    """Purge the sessions past the retention period; (purged, skipped because not exported).

    Sessions never exported since they ended are skipped unless `include_unexported`.
    """
    with store.read() as db:
        due = due_sessions(db, now)
    todo = due.exported + (due.not_exported if include_unexported else [])
    skipped = [] if include_unexported else due.not_exported
    purged = []
    for session_id in sorted(todo):
        if on_session is not None:
            on_session(session_id)
        try:
            purge(store, session_id, force=include_unexported, batch=batch, progress=progress, pause=pause)
        except DomainError:
            skipped.append(session_id)  # changed meanwhile (reopened, deleted): left as it is
            continue
        purged.append(session_id)
    return purged, skipped


_ACTIVITY_FIELDS = {"ref", "position", "kind", "type", "prompt", "settings", "state", "revealed",
                    "created_at", "opened_at", "closed_at", "timer"}
