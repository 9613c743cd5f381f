"""Retention: purge a session's participant-level data, keep its aggregates and texts.

Purging freezes each activity's archive part without its per-participant rows (results,
options, texts), then deletes the participants (and, through the kinds' purge hooks, their
answers). Exports of a purged session come from the frozen parts: same results, no
participants.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DB

from live.archive import kinds
from live.archive.document import archive_state, session_document
from live.archive.model import ArchiveSettings, ArchiveState
from live.errors import DomainError
from live.sessions.model import LiveSession, Participant
from live.store import utcnow

MAX_RETENTION_DAYS = 3650


def state_for(db: DB, session_id: int) -> ArchiveState:
    """The archive record of a session, created on first use."""
    state = archive_state(db, session_id)
    if state is None:
        state = ArchiveState(session_id=session_id)
        db.add(state)
        db.flush()
    return state


def mark_exported(db: DB, session_id: int) -> None:
    """Remember that an archive of the session was produced (purging requires one)."""
    state_for(db, session_id).last_exported_at = utcnow()


def purge(db: DB, live_session: LiveSession, require_export: bool = True) -> None:
    """Drop participant-level data of an ended session; aggregates and texts stay."""
    state = archive_state(db, live_session.id)
    if live_session.state != "ended":
        raise DomainError("purge_not_ended")
    if state is not None and state.purged_at is not None:
        raise DomainError("already_purged")
    if require_export and (state is None or state.last_exported_at is None):
        raise DomainError("purge_export_first")
    doc = session_document(db, live_session)
    frozen = dict((state.frozen or {}) if state else {})
    for activity_doc in doc["activities"]:
        part = kinds.part_for(activity_doc["kind"])
        stripped = part.strip(activity_doc)
        frozen[activity_doc["ref"]] = {k: v for k, v in stripped.items() if k not in _ACTIVITY_FIELDS}
    for activity in live_session.activities:
        part = kinds.part_for(activity.kind)
        if part.purge is not None:
            part.purge(db, activity)
    db.execute(delete(Participant).where(Participant.session_id == live_session.id))
    state = state_for(db, live_session.id)
    state.frozen = frozen
    state.participant_count = doc["session"]["participant_count"]
    state.purged_at = utcnow()
    live_session.version += 1


def get_retention(db: DB) -> int | None:
    """Days after which participant-level data of ended sessions is purged (None: kept)."""
    settings = db.get(ArchiveSettings, 1)
    return settings.retention_days if settings else None


def set_retention(db: DB, days: object) -> None:
    """Set (or clear with None/"") the default retention in days."""
    if days in (None, ""):
        value = None
    else:
        try:
            value = int(str(days).strip())
        except ValueError:
            raise DomainError("bad_retention", limit=MAX_RETENTION_DAYS) from None
        if not 0 <= value <= MAX_RETENTION_DAYS:
            raise DomainError("bad_retention", limit=MAX_RETENTION_DAYS)
    settings = db.get(ArchiveSettings, 1)
    if settings is None:
        db.add(ArchiveSettings(id=1, retention_days=value))
    else:
        settings.retention_days = value


def expired_sessions(db: DB, now=None) -> list[int]:
    """Ended sessions past the retention period whose participant data is still there."""
    days = get_retention(db)
    if days is None:
        return []
    limit = (now or utcnow()) - timedelta(days=days)
    purged = select(ArchiveState.session_id).where(ArchiveState.purged_at.is_not(None))
    return list(db.scalars(select(LiveSession.id).where(
        LiveSession.state == "ended", LiveSession.ended_at <= limit, LiveSession.id.not_in(purged))))


def apply_retention(store, now=None) -> list[int]:
    """Purge every session past the retention period (one short write per session)."""
    with store.read() as db:
        due = expired_sessions(db, now)
    for session_id in due:
        with store.write() as db:
            purge(db, db.get(LiveSession, session_id), require_export=False)
    return due


_ACTIVITY_FIELDS = {"ref", "position", "kind", "type", "prompt", "settings", "state", "revealed",
                    "created_at", "opened_at", "closed_at"}
