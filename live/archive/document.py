"""session.json: the whole session as plain data, with pseudonymous participant ids."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from live import footprint
from live.archive import kinds
from live.archive import pulse as archived_pulse
from live.archive.model import ArchiveState
from live.archive.timefmt import date_text, time_text
from live.sessions import doorcodes
from live.sessions.model import Activity, LiveSession, Participant, TimelineEntry
from live.store import utcnow

SCHEMA_VERSION = 1
FORMAT = "palabre-session-archive"
# Fields of an activity document that every kind has; the rest is the kind's own part.
ACTIVITY_FIELDS = ("ref", "position", "kind", "type", "prompt", "settings", "state", "revealed",
                   "created_at", "opened_at", "closed_at", "timer")


def timer_document(activity: Activity) -> dict | None:
    """An activity's timer as it stood (live/sessions/timer.py), or None: its deadline while it
    ran, the seconds left while paused, its whole length, whether it was to close the activity."""
    if activity.timer_ends_at is None and activity.timer_left is None:
        return None
    return {"duration": activity.timer_duration, "ends_at": time_text(activity.timer_ends_at),
            "left": activity.timer_left, "autoclose": bool(activity.timer_autoclose)}


def archive_state(db: DB, session_id: int) -> ArchiveState | None:
    """The archive's record of a session, if any."""
    return db.get(ArchiveState, session_id)


def activity_refs(live_session: LiveSession) -> dict[int, str]:
    """Archive references of the agenda: "a1", "a2"... in agenda order."""
    return {a.id: f"a{i}" for i, a in enumerate(live_session.activities, start=1)}


def session_document(db: DB, live_session: LiveSession, on_activity=None) -> dict:
    """Everything about one session, ready for json.dumps (see docs/archive.schema.json).

    `on_activity(doc)`, if given, is called with each activity's document as soon as it is
    read (exports start drawing its charts while the next activities are read).
    """
    state = archive_state(db, live_session.id)
    participants = [] if state is not None and state.purged_at is not None else list(db.scalars(
        select(Participant).where(Participant.session_id == live_session.id)
        .order_by(Participant.joined_at, Participant.id)))
    refs = kinds.Refs({p.id: f"p{i}" for i, p in enumerate(participants, start=1)})
    activity_ref = activity_refs(live_session)
    frozen = (state.frozen or {}) if state else {}
    activities = []
    for activity in live_session.activities:
        ref = activity_ref[activity.id]
        doc = {
            "ref": ref, "position": activity.position, "kind": activity.kind, "type": activity.type,
            "prompt": activity.prompt, "settings": activity.settings or {}, "state": activity.state,
            "revealed": activity.revealed, "created_at": time_text(activity.created_at),
            "opened_at": time_text(activity.opened_at), "closed_at": time_text(activity.closed_at),
            "timer": timer_document(activity),
        }
        part = frozen.get(ref)
        if part is None:
            part = kinds.part_for(activity.kind).export(db, activity, refs)
        doc.update(part)
        activities.append(doc)
        if on_activity is not None:
            on_activity(doc)
    timeline = _timeline(db, live_session.id, activity_ref)
    imported = bool(state and state.imported_at)
    purged_at = state.purged_at if state else None
    event = live_session.event
    doc = {
        "schema_version": SCHEMA_VERSION,
        "export": {"format": FORMAT, "generator": "Palabre", "exported_at": time_text(utcnow()),
                   "read_only": imported},
        "event": {"title": event.title, "place": event.place, "date": date_text(event.date)},
        "session": {
            "kind": live_session.kind, "title": live_session.title, "place": live_session.place,
            "date": date_text(live_session.date), "locale": live_session.locale,
            "state": (state.original_state if imported else live_session.state),
            "created_at": time_text(live_session.created_at),
            "started_at": time_text(live_session.started_at),
            "ended_at": time_text(state.original_ended_at if imported else live_session.ended_at),
            "purged_at": time_text(purged_at),
            "participant_count": (state.participant_count if purged_at else len(participants)),
        },
        "participants": [{"id": refs.participants[p.id], "joined_at": time_text(p.joined_at),
                          "display_name": p.display_name} for p in participants],
        "activities": activities,
        "timeline": timeline,
        **archived_pulse.document_part(db, live_session.id, refs),
    }
    doc["footprint"] = footprint.document(db, live_session.id, doc["session"]["participant_count"])
    return _with_door_codes(db, live_session.id, doc)


def _timeline(db: DB, session_id: int, activity_ref: dict) -> list[dict]:
    """The session's timeline, oldest first, activities named by their archive reference."""
    return [{"at": time_text(t.at), "action": t.action, "actor": t.actor,
             "activity": activity_ref.get(t.activity_id), "detail": t.detail}
            for t in db.scalars(select(TimelineEntry).where(
                TimelineEntry.session_id == session_id).order_by(TimelineEntry.at, TimelineEntry.id))]


def _with_door_codes(db: DB, session_id: int, doc: dict) -> dict:
    """One-time voting codes, when some were issued: how many, never which nor who."""
    codes = doorcodes.counts(db, session_id)
    if codes["issued"]:
        doc["session"]["door_codes"] = {k: codes[k] for k in ("issued", "used", "revoked", "unused")}
    return doc


def without_export_metadata(doc: dict) -> dict:
    """The document minus what changes from one export to the next (for comparisons)."""
    return {k: v for k, v in doc.items() if k != "export"}


def load_session(db: DB, session_id: int) -> LiveSession:
    """The session, or NotFound."""
    from live.sessions import service

    return service.get_session(db, session_id)


def sessions_of_event(db: DB, event_id: int) -> list[LiveSession]:
    """The sessions of an event in creation order."""
    return list(db.scalars(select(LiveSession).where(LiveSession.event_id == event_id)
                           .order_by(LiveSession.id)))


def answer_counts(doc: dict) -> dict[str, int]:
    """How many participants answered each activity (from its results)."""
    return {a["ref"]: (a.get("results") or {}).get("total", 0) or 0 for a in doc["activities"]}


__all__ = ["Activity", "SCHEMA_VERSION", "FORMAT", "session_document", "without_export_metadata"]
