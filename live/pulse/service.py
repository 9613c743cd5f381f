"""The room's pulse (no Flask): the facilitator's switch, participants' pace, the live average.

Each participant's latest pace mark counts while it is younger than `WINDOW` seconds; every mark
is kept (the archive's timeline). The average runs from -1 (too slow) to 1 (too fast).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from live import validation
from live.errors import DomainError
from live.pulse.model import PulseMark, PulseSetting
from live.sessions.model import LiveSession, Participant
from live.store import utcnow

WINDOW = 180  # seconds a participant's latest choice counts
NAMES = {value: name for name, value in validation.PACES.items()}


def enabled(db: DB, session_id: int) -> bool:
    """Whether the facilitator switched the pulse on in this session."""
    return bool(db.scalar(select(PulseSetting.enabled).where(PulseSetting.session_id == session_id)))


def switch(db: DB, session: LiveSession, on: object) -> bool:
    """Switch the pulse widget on or off; refused once the session has ended."""
    if session.state == "ended":
        raise DomainError("session_ended")
    wanted = validation.boolean(on)
    setting = db.get(PulseSetting, session.id)
    if setting is None:
        setting = PulseSetting(session_id=session.id, enabled=wanted)
        db.add(setting)
    setting.enabled = wanted
    session.version += 1  # every room's snapshot changes (the widget shows or hides)
    return wanted


def mark_pace(db: DB, session: LiveSession, participant: Participant, raw: object,
              now: datetime | None = None) -> str:
    """Store a participant's pace choice (its latest counts); refused unless the pulse is on."""
    value = validation.pace(raw)
    if session.state == "ended":
        raise DomainError("session_ended")
    if not enabled(db, session.id):
        raise DomainError("pulse_off")
    db.add(PulseMark(session_id=session.id, participant_id=participant.id, kind="pace", value=value,
                     at=now or utcnow()))
    return NAMES[value]


def _latest(db: DB, session_id: int, now: datetime) -> dict[int, int]:
    """Each participant's latest pace within the window: participant id -> value."""
    rows = db.execute(select(PulseMark.participant_id, PulseMark.value)
                      .where(PulseMark.session_id == session_id,
                             PulseMark.at >= now - timedelta(seconds=WINDOW))
                      .order_by(PulseMark.at, PulseMark.id))
    return {participant: value for participant, value in rows}


def summary(db: DB, session_id: int, now: datetime | None = None) -> dict:
    """What the staff see: on or off, how many chose each pace lately, and their average."""
    latest = _latest(db, session_id, now or utcnow())
    counts = {name: 0 for name in validation.PACES}
    for value in latest.values():
        counts[NAMES[value]] += 1
    average = round(sum(latest.values()) / len(latest), 2) if latest else None
    return {"session": session_id, "on": enabled(db, session_id), "window": WINDOW,
            "counts": counts, "voters": len(latest), "average": average}


def mine(db: DB, session_id: int, participant_id: int, now: datetime | None = None) -> str | None:
    """A participant's latest pace if it still counts (its page shows it checked)."""
    value = db.scalar(select(PulseMark.value)
                      .where(PulseMark.session_id == session_id, PulseMark.participant_id == participant_id,
                             PulseMark.at >= (now or utcnow()) - timedelta(seconds=WINDOW))
                      .order_by(PulseMark.at.desc(), PulseMark.id.desc()).limit(1))
    return None if value is None else NAMES[value]


def participant_view(db: DB, session_id: int, participant_id: int | None) -> dict:
    """What a phone sees of the pulse: whether it is on, and its own latest choice."""
    on = enabled(db, session_id)
    return {"on": on, "mine": mine(db, session_id, participant_id) if on and participant_id else None}


def timeline(db: DB, session_id: int) -> list[dict]:
    """Every pace mark of the session in order (the archive's timeline)."""
    rows = db.execute(select(PulseMark).where(PulseMark.session_id == session_id)
                      .order_by(PulseMark.at, PulseMark.id)).scalars()
    return [{"at": mark.at, "participant": mark.participant_id, "kind": mark.kind,
             "pace": NAMES[mark.value]} for mark in rows]
