"""What the facilitator and participants do to a session, for both doors: each operation returns
its result and its `Effects` (a command or an agenda change: every room gets a fresh snapshot;
a new participant: the coalesced count)."""

from __future__ import annotations

from live import ratelimit
from live.errors import DomainError
from live.sessions import service
from live.sessions import timer as timer_service
from live.sessions.effects import Effects
from live.sessions.model import LiveSession


def join(db, session: LiveSession, device_key: str, address: str | None = None, door_code=None):
    """The participant of this device, created on first join: (participant, effects).

    A new participant counts against its client `address`'s joins (`ratelimit.allow_join`)."""
    new = service.find_participant(db, session, device_key) is None
    if new and address is not None and not ratelimit.allow_join(address):
        raise DomainError("rate_limited")  # nothing created
    person = service.join(db, session, device_key, door_code)
    changed = Effects(session.id)
    return person, changed.participant_joined() if new else changed


def command(db, session: LiveSession, action: object, activity_id: object):
    """A facilitator command (show, open, close, reveal, hide, reset, end...; lifecycle.py)."""
    activity = service.apply_command(db, session, action, activity_id)
    changed = Effects(session.id).changed_state()
    return activity, changed.command_on(activity) if activity is not None else changed


def move(db, session: LiveSession, activity_id: object, offset: int):
    """Move an activity up (-1) or down (+1) the agenda."""
    service.move_activity(db, session, service.get_activity(db, session, activity_id), offset)
    return None, Effects(session.id).changed_state()


def delete(db, session: LiveSession, activity_id: object):
    """Delete an activity that has no answers."""
    service.delete_activity(db, session, service.get_activity(db, session, activity_id))
    return None, Effects(session.id).changed_state()


def agenda_changed(session: LiveSession, result=None):
    """(result, effects) of a change to the agenda made by a feature (an activity added, edited)."""
    return result, Effects(session.id).changed_state()


def timer(db, session: LiveSession, activity_id: object, action: object, seconds: object = None,
          autoclose: object = None):
    """The facilitator's timer of an activity: start (seconds, autoclose), pause, resume, add, stop."""
    activity = service.get_activity(db, session, activity_id)
    timer_service.command(db, session, activity, action, seconds, autoclose)
    return activity, Effects(session.id).changed_state()


def timer_ended(db, activity_id: int, now):
    """A timer reached its deadline: its activity closes (the server's loop, not a client)."""
    session = timer_service.expire(db, activity_id, now)
    return session, Effects(session.id).changed_state() if session is not None else None
