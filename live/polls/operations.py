"""What a participant does to a poll, for both doors: the operation returns its result and its
`Effects` (the poll's counts changed: pushed coalesced)."""

from __future__ import annotations

from live.polls import service
from live.sessions.effects import Effects
from live.sessions.model import Activity, LiveSession, Participant
from live.sessions.service import ParticipantRef


def vote(db, session: LiveSession, activity: Activity, person: Participant | ParticipantRef, choice: object,
         cid: str | None = None):
    """Store (or change) a participant's vote: (the stored choice, effects)."""
    stored = service.vote(db, session, activity, person, choice, cid)
    return stored, Effects(session.id).changed_counts(activity)


def add_paper(db, session: LiveSession, activity: Activity, target: object, delta: object, actor: str):
    """Staff enter votes counted on paper (or by hands) for one option: (the entry, effects)."""
    entry = service.add_paper(db, session, activity, target, delta, actor)
    return entry, Effects(session.id).changed_counts(activity)
