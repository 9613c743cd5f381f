"""The room's pulse (no Flask): the facilitator's switch, participants' pace, the live average,
raised hands (a queue) and quick reactions.

Each participant's latest pace mark counts while it is younger than `WINDOW` seconds; every mark
is kept (the archive's timeline). The average runs from -1 (too slow) to 1 (too fast). A raised
hand waits in the queue (in the order raised) until its participant lowers it or the facilitator
marks it spoken or clears the queue; each gets a ticket number, the one the facilitator calls
(participants are anonymous). Reactions count on the console for `REACT_WINDOW` seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session as DB

from live import validation
from live.errors import DomainError
from live.pulse.model import PulseHand, PulseMark, PulseReaction, PulseSetting
from live.sessions.model import LiveSession, Participant
from live.store import lock_row, utcnow

WINDOW = 180  # seconds a participant's latest choice counts
REACT_WINDOW = 120  # seconds a reaction counts on the console
QUEUE_SHOWN = 50  # raised hands listed to the staff (the count is always whole)
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
    _live(db, session)
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


def summary(db: DB, session_id: int, now: datetime | None = None, role: str = "facilitator") -> dict:
    """What the staff see: on or off, how many chose each pace lately and their average, the
    raised hands (the queue in order; the screen gets only their number), the reactions of the
    last `REACT_WINDOW` seconds and since the start (a screen animates what is new)."""
    now = now or utcnow()
    latest = _latest(db, session_id, now)
    counts = {name: 0 for name in validation.PACES}
    for value in latest.values():
        counts[NAMES[value]] += 1
    average = round(sum(latest.values()) / len(latest), 2) if latest else None
    waiting = queue(db, session_id)
    data = {"session": session_id, "on": enabled(db, session_id), "window": WINDOW,
            "counts": counts, "voters": len(latest), "average": average, "gauge": gauge(average),
            "hands": len(waiting), "react_window": REACT_WINDOW, **reaction_counts(db, session_id, now)}
    if role != "screen":
        data["queue"] = waiting[:QUEUE_SHOWN]
    return data


def gauge(average: float | None) -> str | None:
    """The pace in words a room reads from afar: fast, bit_fast, ok, bit_slow, slow (None: no
    choice counts). Within 0.2 of 0 it suits the room; from 0.6 on it is too fast (or slow)."""
    if average is None:
        return None
    side = "fast" if average > 0 else "slow"
    return "ok" if abs(average) < 0.2 else side if abs(average) >= 0.6 else f"bit_{side}"


def mine(db: DB, session_id: int, participant_id: int, now: datetime | None = None) -> str | None:
    """A participant's latest pace if it still counts (its page shows it checked)."""
    value = db.scalar(select(PulseMark.value)
                      .where(PulseMark.session_id == session_id, PulseMark.participant_id == participant_id,
                             PulseMark.at >= (now or utcnow()) - timedelta(seconds=WINDOW))
                      .order_by(PulseMark.at.desc(), PulseMark.id.desc()).limit(1))
    return None if value is None else NAMES[value]


def participant_view(db: DB, session_id: int, participant_id: int | None) -> dict:
    """What a phone sees of the pulse: whether it is on, its own latest choice and its hand."""
    on = enabled(db, session_id)
    own = on and participant_id
    return {"on": on, "mine": mine(db, session_id, participant_id) if own else None,
            "hand": my_hand(db, session_id, participant_id) if own else None}


def timeline(db: DB, session_id: int) -> list[dict]:
    """Every pace mark of the session in order (the archive's timeline)."""
    rows = db.execute(select(PulseMark).where(PulseMark.session_id == session_id)
                      .order_by(PulseMark.at, PulseMark.id)).scalars()
    return [{"at": mark.at, "participant": mark.participant_id, "kind": mark.kind,
             "pace": NAMES[mark.value]} for mark in rows]


def _live(db: DB, session: LiveSession) -> None:
    if session.state == "ended":
        raise DomainError("session_ended")
    if not enabled(db, session.id):
        raise DomainError("pulse_off")


# --- raised hands ---------------------------------------------------------------------------

def _open_hands(session_id: int):
    return (select(PulseHand).where(PulseHand.session_id == session_id, PulseHand.ended_at.is_(None))
            .order_by(PulseHand.raised_at, PulseHand.id))


def queue(db: DB, session_id: int) -> list[dict]:
    """The raised hands in the order they were raised: ticket, optional name, since when."""
    return [{"hand": h.id, "ticket": h.ticket, "name": h.name, "since": h.raised_at.isoformat()}
            for h in db.scalars(_open_hands(session_id))]


def waiting_people(db: DB, session_id: int) -> set[int]:
    """The participants whose hand is up (their place changes when the queue moves)."""
    return set(db.scalars(select(PulseHand.participant_id).where(
        PulseHand.session_id == session_id, PulseHand.ended_at.is_(None))))


def my_hand(db: DB, session_id: int, participant_id: int) -> dict | None:
    """A participant's raised hand: its ticket and its place in the queue (1: next), or None."""
    for place, hand in enumerate(db.scalars(_open_hands(session_id)), start=1):
        if hand.participant_id == participant_id:
            return {"ticket": hand.ticket, "place": place}
    return None


def raise_hand(db: DB, session: LiveSession, participant: Participant, name: object = None,
               now: datetime | None = None) -> dict:
    """Raise a participant's hand (again: the same place); its ticket and place."""
    name = validation.hand_name(name)
    _live(db, session)
    hand = db.scalar(select(PulseHand).where(PulseHand.session_id == session.id,
                                             PulseHand.participant_id == participant.id,
                                             PulseHand.ended_at.is_(None)))
    if hand is None:
        # One new hand of a session at a time: without the lock, hands raised in the same
        # instant through two processes read the same last ticket and all but one were refused
        # by its unique number.
        lock_row(db, LiveSession, session.id)
        last = db.scalar(select(func.max(PulseHand.ticket)).where(PulseHand.session_id == session.id))
        db.add(PulseHand(session_id=session.id, participant_id=participant.id, ticket=(last or 0) + 1,
                         name=name, raised_at=now or utcnow()))
        db.flush()
    elif name is not None:
        hand.name = name
    return my_hand(db, session.id, participant.id)


def lower_hand(db: DB, session: LiveSession, participant: Participant, now: datetime | None = None) -> None:
    """A participant lowers their hand (nothing happens if it was not up)."""
    if session.state == "ended":
        raise DomainError("session_ended")
    db.execute(update(PulseHand).where(PulseHand.session_id == session.id,
                                       PulseHand.participant_id == participant.id,
                                       PulseHand.ended_at.is_(None))
               .values(ended_at=now or utcnow(), outcome="lowered"))


def hand_done(db: DB, session: LiveSession, hand_id: object, now: datetime | None = None) -> int:
    """The facilitator marks a raised hand as having spoken; the participant it was."""
    if session.state == "ended":
        raise DomainError("session_ended")
    hand = db.get(PulseHand, validation.integer(hand_id, "hand_gone", 1, 2**31 - 1))
    if hand is None or hand.session_id != session.id or hand.ended_at is not None:
        raise DomainError("hand_gone")
    hand.ended_at, hand.outcome = now or utcnow(), "spoke"
    return hand.participant_id


def clear_hands(db: DB, session: LiveSession, now: datetime | None = None) -> set[int]:
    """The facilitator clears the queue; the participants whose hand was up."""
    if session.state == "ended":
        raise DomainError("session_ended")
    people = waiting_people(db, session.id)
    db.execute(update(PulseHand).where(PulseHand.session_id == session.id, PulseHand.ended_at.is_(None))
               .values(ended_at=now or utcnow(), outcome="cleared"))
    return people


def hands_timeline(db: DB, session_id: int) -> list[dict]:
    """Every hand of the session in the order raised (the archive's timeline)."""
    return [{"participant": h.participant_id, "ticket": h.ticket, "name": h.name, "raised_at": h.raised_at,
             "ended_at": h.ended_at, "outcome": h.outcome}
            for h in db.scalars(select(PulseHand).where(PulseHand.session_id == session_id)
                                .order_by(PulseHand.raised_at, PulseHand.id))]


# --- quick reactions ------------------------------------------------------------------------

def react(db: DB, session: LiveSession, participant: Participant, raw: object,
          now: datetime | None = None) -> str:
    """Store a participant's quick reaction (its rate is limited by the door's caller)."""
    name = validation.reaction(raw)
    _live(db, session)
    db.add(PulseReaction(session_id=session.id, participant_id=participant.id, reaction=name,
                         at=now or utcnow()))
    return name


def reaction_counts(db: DB, session_id: int, now: datetime) -> dict:
    """Reactions of the last `REACT_WINDOW` seconds (`reactions`) and since the start (`reacted`)."""
    since = now - timedelta(seconds=REACT_WINDOW)
    recent = {name: 0 for name in validation.REACTIONS}
    total = dict(recent)
    rows = db.execute(select(PulseReaction.reaction, func.count(),
                             func.sum(case((PulseReaction.at >= since, 1), else_=0)))
                      .where(PulseReaction.session_id == session_id).group_by(PulseReaction.reaction))
    for name, count, fresh in rows:
        total[name], recent[name] = count, int(fresh or 0)
    return {"reactions": recent, "reacted": total}


def reactions_timeline(db: DB, session_id: int) -> list[dict]:
    """Every reaction of the session in order (the archive's timeline)."""
    return [{"at": r.at, "participant": r.participant_id, "reaction": r.reaction}
            for r in db.scalars(select(PulseReaction).where(PulseReaction.session_id == session_id)
                                .order_by(PulseReaction.at, PulseReaction.id))]
