"""What a user does with the room's pulse; each returns its result and its `Effects`."""

from __future__ import annotations

from sqlalchemy.orm import Session as DB

from live.pulse import service
from live.sessions.effects import Effects
from live.sessions.model import LiveSession, Participant


def switch(db: DB, session: LiveSession, on: object) -> tuple[bool, Effects]:
    """The facilitator switches the widget on or off: every room gets a fresh snapshot."""
    return service.switch(db, session, on), Effects(session.id).changed_state().changed_pulse()


def pace(db: DB, session: LiveSession, participant: Participant, raw: object) -> tuple[str, Effects]:
    """A participant's pace choice: the staff's average is pushed (coalesced)."""
    return service.mark_pace(db, session, participant, raw), Effects(session.id).changed_pulse()
