"""What a user does with the room's pulse; each returns its result and its `Effects`.

A change of the hands' queue also tells each participant whose place changed their own fresh
pulse view (`tell_hands`, registered with `effects.on_tell_part`): a phone sees its place move.
"""

from __future__ import annotations

from sqlalchemy.orm import Session as DB

from live import ratelimit, realtime, validation
from live.errors import DomainError
from live.pulse import service
from live.sessions import effects
from live.sessions.effects import Effects
from live.sessions.model import LiveSession, Participant
from live.store import app_store


def switch(db: DB, session: LiveSession, on: object) -> tuple[bool, Effects]:
    """The facilitator switches the widget on or off: every room gets a fresh snapshot.
    Switching it off lowers every raised hand (outcome "cleared"): switched on again, the queue
    starts empty, and each phone whose hand was up is told."""
    wanted = service.switch(db, session, on)
    changed = Effects(session.id).changed_state().changed_pulse()
    if not wanted:
        people = service.clear_hands(db, session)
        if people:
            changed.tell_part("pulse", people)
    return wanted, changed


def pace(db: DB, session: LiveSession, participant: Participant, raw: object) -> tuple[str, Effects]:
    """A participant's pace choice: the staff's average is pushed (coalesced)."""
    return service.mark_pace(db, session, participant, raw), Effects(session.id).changed_pulse()


def hand(db: DB, session: LiveSession, participant: Participant, up: object,
         name: object = None) -> tuple[dict | None, Effects]:
    """A participant raises (`up` true) or lowers their hand: their ticket and place, or None."""
    before = service.waiting_people(db, session.id)
    if validation.boolean(up):
        mine = service.raise_hand(db, session, participant, name)
    else:
        service.lower_hand(db, session, participant)
        mine = None
    return mine, _queue_moved(db, session, before | {participant.id})


def hand_done(db: DB, session: LiveSession, hand_id: object) -> tuple[None, Effects]:
    """The facilitator marks a raised hand as having spoken: the others move up."""
    before = service.waiting_people(db, session.id)
    service.hand_done(db, session, hand_id)
    return None, _queue_moved(db, session, before)


def clear_hands(db: DB, session: LiveSession) -> tuple[int, Effects]:
    """The facilitator clears the queue: how many hands were lowered."""
    people = service.clear_hands(db, session)
    return len(people), _queue_moved(db, session, people)


def react(db: DB, session: LiveSession, participant: Participant, raw: object) -> tuple[str, Effects]:
    """A quick reaction, within the participant's own reaction budget (a token bucket)."""
    if not ratelimit.allow_reaction(participant.id):
        raise DomainError("reactions_too_fast")
    return service.react(db, session, participant, raw), Effects(session.id).changed_pulse()


def _queue_moved(db: DB, session: LiveSession, people: set[int]) -> Effects:
    """The staff's queue is pushed (coalesced); these participants, and those still waiting,
    are told their place."""
    everyone = people | service.waiting_people(db, session.id)
    return Effects(session.id).changed_pulse().tell_part("pulse", everyone)


def tell_hands(session_id: int, people: set[int]) -> None:
    """Send each of these participants their own pulse view (their hand's place), to their room."""
    with app_store().read() as db:
        views = {pid: service.participant_view(db, session_id, pid) for pid in people}
    for pid, data in views.items():
        realtime.emit_to_participant(session_id, pid, "pulse", data)


effects.on_tell_part("pulse", tell_hands)
