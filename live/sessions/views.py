"""Snapshots: what each role may see of a session, as plain data with a version number."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app
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
# name -> mine(db, session_id, participant_id, shared view) -> a participant's own view of the
# part (the shared view is what every phone sees; `mine` adds what is this participant's).
_PART_MINE: dict[str, Callable[..., dict]] = {}

# A phone's snapshot is built from a view shared by every phone of the session (built once per
# state version, reused for SHARED_SECONDS at most or until a change in this process) plus its
# own parts (its vote, its items, its pace), read for it alone: 5,000 phones reconnecting after
# a restart cost 5,000 small reads, not 5,000 snapshots.
SHARED_SECONDS = 1.0
SHARED_KEPT = 256  # shared views kept (sessions x roles) before the oldest are forgotten


def register_part(name: str, view: Callable[..., dict], lifetime: float = 0.0,
                  mine: Callable[..., dict] | None = None) -> None:
    """Add a part to every session's snapshot (a feature registers it when loaded).

    `view(db, session_id, role, None)` must hold nothing private to one participant: it is
    shared by every phone; `mine(db, session_id, participant_id, shared)` gives one
    participant's own view of the part."""
    _PARTS[name] = (view, lifetime)
    if mine is not None:
        _PART_MINE[name] = mine


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
    """Everything `role` may see of the session now; a client replaces its state with it.

    A participant's is the view every phone shares (`shared_view`) plus its own parts: its
    answer (`current.mine`) and its own view of each session part."""
    if participant_id is None or role != "participant":
        return _personal(db, session.id, _build(db, session, role, participant_id), participant_id)
    return _personal(db, session.id, shared_view(db, session, role), participant_id)


def phone_snapshot(db: DB, session_id: int, version: int, participant_id: int) -> dict:
    """A participant's snapshot when its session's state version is known (read with its
    identity, `service.phone_identity`): the session is loaded only if the shared view of that
    version must be built."""
    entry = _shared_cache().get((session_id, "participant"))
    if entry is not None and entry[0] == version and time.monotonic() - entry[1] < SHARED_SECONDS:
        return _personal(db, session_id, entry[2], participant_id)
    return snapshot(db, service.get_session(db, session_id), "participant", participant_id)


def shared_view(db: DB, session: LiveSession, role: str) -> dict:
    """What every socket of `role` sees of the session: built once per state version and
    reused (never holding anything of one participant: their parts are added per socket).
    Fresh after any change made in this process; at most SHARED_SECONDS old otherwise (a
    change made by another process behind a message queue)."""
    cache = _shared_cache()
    key = (session.id, role)
    now = time.monotonic()
    entry = cache.get(key)
    if entry is not None and entry[0] == session.version and now - entry[1] < SHARED_SECONDS:
        return entry[2]
    data = _build(db, session, role, None)
    if len(cache) >= SHARED_KEPT:
        cache.clear()
    cache[key] = (session.version, now, data)
    return data


def forget_shared(session_id: int) -> None:
    """Something every phone sees of the session changed here: the next snapshot is built anew."""
    cache = _shared_cache()
    for key in [k for k in cache if k[0] == session_id]:
        cache.pop(key, None)


def _shared_cache() -> dict:
    return current_app.extensions.setdefault("palabre.shared_views", {})


def _build(db: DB, session: LiveSession, role: str, participant_id: int | None) -> dict:
    current = None
    if session.current_activity_id is not None:
        activity = db.get(Activity, session.current_activity_id)
        if activity is not None:
            current = activity_view(db, activity, role)
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
    for name, (view, _lifetime) in _PARTS.items():
        data[name] = view(db, session.id, role, participant_id if name not in _PART_MINE else None)
    if role in STAFF:
        data["agenda"] = [activity_view(db, a, role) for a in session.activities]
    return data


def _personal(db: DB, session_id: int, shared: dict, participant_id: int | None) -> dict:
    """A copy of `shared` with the clock and, for a participant, its own parts."""
    data = dict(shared)
    current = shared["current"]
    if current is not None and participant_id is not None:  # (the shared view gives the kind)
        data["current"] = {**current, "mine": activities.hooks_for(current["kind"]).mine(
            db, service.activity_ref(db, current["id"]), participant_id)}
    if current is not None and "timer" in current:
        data["now"] = timer_service.millis(utcnow())  # the server's clock: timers count down from it
    if participant_id is not None:
        for name, mine in _PART_MINE.items():
            data[name] = mine(db, session_id, participant_id, shared[name])
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
