"""Events, sessions, joining, the agenda and the lifecycle of activities. No Flask, no sockets."""

from __future__ import annotations

import secrets
from datetime import date
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DB

from live import activities, validation
from live.errors import DomainError, NotFound, is_id
from live.sessions import capabilities, doorcodes, lifecycle
from live.sessions.model import (
    SESSION_KINDS,
    Activity,
    Event,
    LiveSession,
    Participant,
    TimelineEntry,
)
from live.store import first_row, lock_row, utcnow

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read aloud or from a screen is typed right.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
ROLES = ("participant", "facilitator", "moderator", "screen")


def _date(value: object) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DomainError("bad_date") from None


def record(db: DB, session: LiveSession, action: str, actor: str, activity: Activity | None = None,
           **detail) -> None:
    """Add a timeline entry and bump the session's version (what clients see changed)."""
    db.add(TimelineEntry(session_id=session.id, activity_id=activity.id if activity else None,
                         action=action, actor=actor, detail=detail or None, at=utcnow()))
    session.version += 1


# --- events and sessions -------------------------------------------------------------

def create_event(db: DB, title: object, place: object = None, when: object = None) -> Event:
    """Create an event that will group sessions."""
    event = Event(title=validation.text(title, "title", validation.TITLE_LENGTH),
                  place=validation.optional_text(place, "place", validation.PLACE_LENGTH),
                  date=_date(when))
    db.add(event)
    db.flush()
    return event


def list_events(db: DB) -> list[Event]:
    """Every event, newest first."""
    return list(db.scalars(select(Event).order_by(Event.id.desc())))


def get_event(db: DB, event_id: object) -> Event:
    """The event with this id, or NotFound."""
    event = db.get(Event, event_id) if is_id(event_id) else None
    if event is None:
        raise NotFound("event_not_found")
    return event


def _new_code(db: DB) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.scalar(select(LiveSession.id).where(LiveSession.join_code == code)) is None:
            return code


def create_session(db: DB, event: Event, kind: object, title: object, place: object = None,
                   when: object = None, locale: object = "fr") -> LiveSession:
    """Create a session with its join code and its three capability tokens."""
    if kind not in SESSION_KINDS:
        raise DomainError("bad_session_kind")
    session = LiveSession(
        event_id=event.id, kind=kind, title=validation.text(title, "title", validation.TITLE_LENGTH),
        place=validation.optional_text(place, "place", validation.PLACE_LENGTH),
        date=_date(when) or event.date,
        locale=locale if locale in ("fr", "en") else "fr",
        join_code=_new_code(db),
    )
    db.add(session)
    db.flush()
    capabilities.issue_all(db, session)
    return session


def normalise_code(code: object) -> str:
    """A join code as typed (spaces, dashes, lower case) in canonical form."""
    if not isinstance(code, str):
        return ""
    return "".join(ch for ch in code.upper() if ch.isalnum())[:CODE_LENGTH * 2]


# Built once (every socket's connect runs them: building a statement cost as much as running it).
_BY_CODE = select(LiveSession).where(LiveSession.join_code == bindparam("code"))
_PARTICIPANT = select(Participant).where(Participant.session_id == bindparam("session"),
                                         Participant.device_key == bindparam("key"))


class Phone(NamedTuple):
    """Who a phone is in a session, read in one query without loading any object."""

    session_id: int
    version: int  # the session's state version (a snapshot built for it is current)
    participant_id: int | None  # None: this device has not joined yet


# One query, columns only: the session of a join code and this device's participant in it. A
# reconnection (and a returning phone's page) needs nothing else to be identified; loading the
# session and the participant as objects cost most of the connect handler.
_PHONE = select(LiveSession.id, LiveSession.state, LiveSession.version, Participant.id).outerjoin(
    Participant, and_(Participant.session_id == LiveSession.id,
                      Participant.device_key == bindparam("key"))).where(
    LiveSession.join_code == bindparam("code"))


def phone_identity(db: DB, code: object, device_key: str | None) -> Phone:
    """The session of this join code and this device's participant in it (None if it has not
    joined); refused as `session_by_code` is (unknown code, session ended)."""
    # In the session's transaction, on the driver's cursor: columns only, no execution around them.
    row = first_row(db, _PHONE, {"code": normalise_code(code), "key": device_key or ""})
    if row is None:
        raise NotFound("unknown_code")
    if row[1] == "ended":
        raise DomainError("session_ended")
    return Phone(row[0], row[2], row[3] if device_key else None)


def session_by_code(db: DB, code: object) -> LiveSession:
    """The session a participant joins with this code; refused if unknown or ended."""
    session = db.scalar(_BY_CODE, {"code": normalise_code(code)})
    if session is None:
        raise NotFound("unknown_code")
    if session.state == "ended":
        raise DomainError("session_ended")
    return session


def session_by_token(db: DB, token: object) -> tuple[LiveSession, str]:
    """The session and role a capability token grants, or NotFound."""
    return capabilities.lookup(db, token)
    for role, column in (("facilitator", LiveSession.facilitator_token),
                         ("moderator", LiveSession.moderator_token),
                         ("screen", LiveSession.screen_token)):
        session = db.scalar(select(LiveSession).where(column == token))
        if session is not None:
            return session, role
    raise NotFound("bad_token")


def get_session(db: DB, session_id: int) -> LiveSession:
    """The session with this id, or NotFound."""
    session = db.get(LiveSession, session_id)
    if session is None:
        raise NotFound("session_not_found")
    return session


def join(db: DB, session: LiveSession, device_key: str, door_code: object = None) -> Participant:
    """The participant for this device in this session, created on first join; in a session
    with one-time codes, a first join must claim an unused one (`door_code`)."""
    if session.state == "ended":
        raise DomainError("session_ended")
    participant = db.scalar(_PARTICIPANT, {"session": session.id, "key": device_key})
    if participant is None:
        if doorcodes.required(db, session):
            doorcodes.claim(db, session, door_code)
        participant = Participant(session_id=session.id, device_key=device_key)
        try:
            with db.begin_nested():
                db.add(participant)
                db.flush()
        except IntegrityError:
            # The same device joined through another process meanwhile (PostgreSQL runs both
            # transactions at once; the unique device key made this one wait for the other's
            # commit): the participant is the one it made.
            participant = db.scalar(_PARTICIPANT, {"session": session.id, "key": device_key})
            if participant is None:
                raise
    return participant


class ParticipantRef(NamedTuple):
    """A participant known by id only: what a vote needs of a socket identified at connect time."""

    id: int


def participant_ref(participant_id: int) -> ParticipantRef:
    """The participant with this id, neither read nor made an ORM object: a vote needs its id
    only. Reading the row cost as much as storing the vote, and an ORM object per vote (built,
    added to the unit of work, expired at its commit) a few per cent of a burst's CPU; the
    vote's foreign key still refuses an id that is not there."""
    return ParticipantRef(participant_id)


class ActivityRef:
    """An activity known by its id, read only if a column other than `id` is asked for (then
    the whole row, once): a phone's snapshot asks its kind's `mine` hook for its own answer,
    which for a poll needs the id only. Cheaper than an ORM object made detached and added to
    the session (a quarter of a reconnection's snapshot)."""

    __slots__ = ("_db", "_row", "id")

    def __init__(self, db: DB, activity_id: int):
        self._db, self._row, self.id = db, None, activity_id

    def __getattr__(self, name: str):
        if self._row is None:
            self._row = self._db.get(Activity, self.id)
            if self._row is None:
                raise NotFound("activity_not_found")
        return getattr(self._row, name)


def activity_ref(db: DB, activity_id: int) -> Activity:
    """The activity with this id, not read unless more than its id is used (`ActivityRef`)."""
    activity = db.identity_map.get(db.identity_key(Activity, activity_id))
    return activity if activity is not None else ActivityRef(db, activity_id)


def find_participant(db: DB, session: LiveSession, device_key: str | None) -> Participant | None:
    """The participant for this device, if it has joined."""
    if not device_key:
        return None
    return db.scalar(_PARTICIPANT, {"session": session.id, "key": device_key})


def set_display_name(db: DB, participant: Participant, name: object) -> None:
    """Give (or clear) the participant's display name."""
    participant.display_name = validation.optional_text(name, "name", validation.NAME_LENGTH)


def participant_count(db: DB, session: LiveSession) -> int:
    """How many devices have joined the session."""
    return db.scalar(select(func.count(Participant.id)).where(
        Participant.session_id == session.id)) or 0


def end_session(db: DB, session: LiveSession, actor: str) -> None:
    """End the session: nothing can be answered any more, the code stops working."""
    ended = lifecycle.session_move(session, "end")
    for activity in session.activities:
        if lifecycle.can(lifecycle.ACTIVITY_TRANSITIONS, activity.state, "close"):
            _close(db, session, activity, actor)
    session.state = ended
    session.ended_at = utcnow()
    record(db, session, "session_ended", actor)


# --- the agenda ------------------------------------------------------------------------

def get_activity(db: DB, session: LiveSession, activity_id: object) -> Activity:
    """An activity of this session, or NotFound (ids of other sessions are not found)."""
    activity = db.get(Activity, activity_id) if is_id(activity_id) else None
    if activity is None or activity.session_id != session.id:
        raise NotFound("activity_not_found")
    return activity


def add_activity(db: DB, session: LiveSession, kind: str, prompt: object, settings: dict,
                 type_: str | None = None) -> Activity:
    """Append an activity to the agenda (features validate their own settings first)."""
    if session.state == "ended":
        raise DomainError("session_ended")
    # One new activity of a session at a time: without the lock, two activities added in the
    # same instant by two processes took the same place, and the agenda's order was undefined (no
    # constraint refuses it: moving an activity swaps two places).
    lock_row(db, LiveSession, session.id)
    position = db.scalar(select(func.coalesce(func.max(Activity.position), 0)).where(
        Activity.session_id == session.id)) + 1
    activity = Activity(session_id=session.id, position=position, kind=kind, type=type_,
                        prompt=validation.text(prompt, "prompt", validation.PROMPT_LENGTH), settings=settings)
    db.add(activity)
    db.flush()
    record(db, session, "activity_added", "facilitator", activity)
    return activity


def require_editable(db: DB, activity: Activity) -> None:
    """Refuse to change an activity's definition once it has answers (reset it first)."""
    if activities.hooks_for(activity.kind).answer_count(db, activity):
        raise DomainError("has_answers")


def move_activity(db: DB, session: LiveSession, activity: Activity, offset: int) -> None:
    """Move an activity up (-1) or down (+1) in the agenda."""
    agenda = list(session.activities)
    index = agenda.index(activity)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(agenda):
        raise DomainError("cannot_move")
    agenda[index], agenda[target] = agenda[target], agenda[index]
    for position, item in enumerate(agenda, start=1):
        item.position = position
    record(db, session, "agenda_reordered", "facilitator", activity)


def delete_activity(db: DB, session: LiveSession, activity: Activity) -> None:
    """Remove an activity that has no answers and is not open."""
    if activity.state == "open":
        raise DomainError("close_first")
    require_editable(db, activity)
    if session.current_activity_id == activity.id:
        session.current_activity_id = None
    record(db, session, "activity_deleted", "facilitator", None, prompt=activity.prompt)
    db.delete(activity)
    db.flush()
    for position, item in enumerate(
            db.scalars(select(Activity).where(Activity.session_id == session.id)
                       .order_by(Activity.position)), start=1):
        item.position = position


# --- lifecycle (the states and transitions: live/sessions/lifecycle.py) ----------------------

def _start(session: LiveSession) -> None:
    if lifecycle.can(lifecycle.SESSION_TRANSITIONS, session.state, "start"):
        session.state = lifecycle.session_move(session, "start")
        session.started_at = utcnow()


def show(db: DB, session: LiveSession, activity: Activity | None, actor: str) -> None:
    """Put an activity on the screen (and on every phone), or the join banner with None."""
    lifecycle.require_active(session)
    session.current_activity_id = activity.id if activity else None
    _start(session)
    record(db, session, "on_screen" if activity else "banner", actor, activity)


def open_activity(db: DB, session: LiveSession, activity: Activity, actor: str) -> None:
    """Open an activity for answers (a closed one may be reopened)."""
    lifecycle.require_active(session)
    activity.state = lifecycle.activity_move(activity, "open")
    activity.opened_at = activity.opened_at or utcnow()
    activity.closed_at = None
    activity.version += 1
    _start(session)
    record(db, session, "opened", actor, activity)


def _close(db: DB, session: LiveSession, activity: Activity, actor: str) -> None:
    activity.state = lifecycle.activity_move(activity, "close")
    activity.closed_at = utcnow()
    activity.version += 1
    record(db, session, "closed", actor, activity)


def close_activity(db: DB, session: LiveSession, activity: Activity, actor: str) -> None:
    """Stop accepting answers."""
    _close(db, session, activity, actor)


def reveal(db: DB, session: LiveSession, activity: Activity, reveal_it: bool, actor: str) -> None:
    """Show (True) or hide (False) an activity's results on the screen and the phones."""
    if activity.revealed == reveal_it:
        raise DomainError("already_revealed" if reveal_it else "already_hidden")
    activity.revealed = reveal_it
    activity.version += 1
    record(db, session, "revealed" if reveal_it else "hidden", actor, activity)


def reset(db: DB, session: LiveSession, activity: Activity, actor: str) -> None:
    """Delete every answer and put the activity back to draft, results hidden.

    Only from where there is something to undo: open, closed, or a draft whose results show.
    """
    lifecycle.require_active(session)
    draft = lifecycle.activity_move(activity, "reset")
    activities.hooks_for(activity.kind).reset(db, activity)
    activity.state = draft
    activity.revealed = False
    activity.opened_at = None
    activity.closed_at = None
    # Its timer goes too (live/sessions/timer.py).
    activity.timer_ends_at = activity.timer_left = activity.timer_duration = None
    activity.timer_autoclose = False
    activity.version += 1
    record(db, session, "reset", actor, activity)


def show_and_open(db: DB, session: LiveSession, activity: Activity, actor: str) -> None:
    """Put an activity on screen and open it (the console's button for one not on screen)."""
    show(db, session, activity, actor)
    if activity.state != "open":
        open_activity(db, session, activity, actor)


# The facilitator's commands on one activity; "banner" and "end" name none.
ACTIVITY_COMMANDS = {
    "show": show,
    "open": open_activity,
    "show_open": show_and_open,
    "close": close_activity,
    "reveal": lambda db, session, activity, actor: reveal(db, session, activity, True, actor),
    "hide": lambda db, session, activity, actor: reveal(db, session, activity, False, actor),
    "reset": reset,
}
COMMANDS = (*ACTIVITY_COMMANDS, "banner", "end")


def apply_command(db: DB, session: LiveSession, action: object, activity_id: object,
                  actor: str = "facilitator") -> Activity | None:
    """Run one facilitator command (show, banner, open, close, reveal, hide, reset, end), or
    one that a kind of activity registered (`KindHooks.commands`: a word cloud's freeze).

    The states each command may start from are in `live/sessions/lifecycle.py`."""
    if not isinstance(action, str) or (action not in COMMANDS and action not in activities.kind_commands()):
        raise DomainError("bad_command")
    if action == "banner":
        show(db, session, None, actor)
        return None
    if action == "end":
        end_session(db, session, actor)
        return None
    activity = get_activity(db, session, activity_id)
    command = ACTIVITY_COMMANDS.get(action) or activities.hooks_for(activity.kind).commands.get(action)
    if command is None:  # a command of another kind of activity (a word cloud's freeze...)
        raise DomainError("bad_command")
    command(db, session, activity, actor)
    return activity
