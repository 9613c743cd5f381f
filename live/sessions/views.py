"""Snapshots: what each role may see of a session, as plain data with a version number."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session as DB

from live import activities, realtime
from live.sessions import service
from live.sessions import timer as timer_service
from live.sessions.model import Activity, LiveSession
from live.store import utcnow

STAFF = ("facilitator", "moderator")

# Parts of a session that are not activities (the room's pulse): name -> (view, lifetime).
# view(db, session_id, role, participant_id) -> dict goes into every snapshot under `name` and
# is pushed as the event `name` to the staff rooms (`push.mark_part`); lifetime: for how many
# seconds after a change it keeps changing by itself (marks expiring) and is pushed again.
_PARTS: dict[str, tuple[Callable[..., dict], float]] = {}


def register_part(name: str, view: Callable[..., dict], lifetime: float = 0.0) -> None:
    """Add a part to every session's snapshot (a feature registers it when loaded)."""
    _PARTS[name] = (view, lifetime)


def part(db: DB, name: str, session_id: int, role: str, participant_id: int | None = None) -> dict:
    """One registered part as `role` sees it."""
    return _PARTS[name][0](db, session_id, role, participant_id)


def part_lifetime(name: str) -> float:
    """For how long after a change a part is pushed again (0: only on changes)."""
    return _PARTS[name][1] if name in _PARTS else 0.0


def activity_view(db: DB, activity: Activity, role: str) -> dict:
    """One activity as `role` sees it: results only for staff, or once revealed."""
    hooks = activities.hooks_for(activity.kind)
    include_results = activity.revealed or role in STAFF
    data = {
        "id": activity.id, "kind": activity.kind, "type": activity.type,
        "prompt": activity.prompt, "state": activity.state, "revealed": activity.revealed,
        "position": activity.position, "version": activity.version,
        "answers": hooks.answer_count(db, activity),
    }
    timer = timer_service.view(activity)
    if timer is not None:  # (no key without one: a phone's first load is counted in bytes)
        data["timer"] = timer
    if hooks.view_for_role is not None:
        data.update(hooks.view_for_role(db, activity, include_results, role))
    else:
        data.update(hooks.view(db, activity, include_results))
    if hooks.counts is not None:
        data.update(hooks.counts(db, activity))
    return data


def snapshot(db: DB, session: LiveSession, role: str, participant_id: int | None = None) -> dict:
    """Everything `role` may see of the session now; a client replaces its state with it."""
    current = None
    if session.current_activity_id is not None:
        activity = db.get(Activity, session.current_activity_id)
        if activity is not None:
            current = activity_view(db, activity, role)
            if participant_id is not None:
                current["mine"] = activities.hooks_for(activity.kind).mine(db, activity, participant_id)
    data = {
        "version": session.version,
        "role": role,
        "session": {
            "id": session.id, "title": session.title, "kind": session.kind,
            "state": session.state, "code": session.join_code, "locale": session.locale,
            "event": session.event.title,
        },
        "participants": service.participant_count(db, session),
        "current": current,
    }
    if role != "participant":
        data["connected"] = realtime.connected_count(session.id)
    if current is not None and "timer" in current:
        data["now"] = timer_service.millis(utcnow())  # the server's clock: timers count down from it
    for name, (view, _lifetime) in _PARTS.items():
        data[name] = view(db, session.id, role, participant_id)
    if role in STAFF:
        data["agenda"] = [activity_view(db, a, role) for a in session.activities]
    return data


def presence(db: DB, session: LiveSession) -> dict:
    """The session's live counts: participants joined, and connected now (on every process)."""
    return {"session": session.id, "participants": service.participant_count(db, session),
            "connected": realtime.connected_count(session.id)}


def aggregates(db: DB, activity_id: int) -> dict | None:
    """The live counts of one activity (and its results) for the coalesced pushes."""
    activity = db.get(Activity, activity_id)
    if activity is None:
        return None
    hooks = activities.hooks_for(activity.kind)
    data = {
        "activity": activity.id, "version": activity.version, "revealed": activity.revealed,
        "state": activity.state, "answers": hooks.answer_count(db, activity),
        "participants": service.participant_count(db, activity.session),
        "results": hooks.results(db, activity),
    }
    if hooks.counts is not None:
        data.update(hooks.counts(db, activity))
    return data
