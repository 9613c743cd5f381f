"""What can be done to an idea wall or a Q&A, for both doors: each operation returns its result
and its `Effects` (what the rooms must be told once committed).

The socket handlers (`events.py`) and the form routes (`http.py`) only read their input, call
one of these inside the write transaction, then `effects.apply` the effects after the commit:
the same rules (in `service` and `moderation`) and the same pushes, whichever door.
"""

from __future__ import annotations

from live import realtime
from live.boards import service
from live.sessions import effects
from live.sessions.effects import Effects
from live.sessions.model import Activity, LiveSession, Participant
from live.store import app_store


def _changed(session: LiveSession, activity: Activity, published: bool) -> Effects:
    """Published content changed: a state push too; otherwise only the coalesced counters."""
    changed = Effects(session.id).changed_counts(activity)
    return changed.changed_state() if published else changed


def post(db, session: LiveSession, activity: Activity, person: Participant, text: object,
         column: object, name: object, cid: str | None = None):
    """A participant sends an idea or a question."""
    item = service.post(db, session, activity, person, text, column, name, cid)
    return item, _changed(session, activity, item.status == "visible")


def edit_own(db, session: LiveSession, activity: Activity, person: Participant, item_id: object,
             text: object):
    """The author rewrites their unreviewed item."""
    item = service.edit_own(db, session, activity, person, item_id, text)
    return item, _changed(session, activity, True)


def withdraw(db, session: LiveSession, activity: Activity, person: Participant, item_id: object):
    """The author takes back their unreviewed item; its voters get their dots back (told)."""
    people = service.people_concerned(db, activity, [item_id])
    item = service.withdraw(db, session, activity, person, item_id)
    return item, _changed(session, activity, True).tell_participants(activity, people)


def vote(db, session: LiveSession, activity: Activity, person: Participant, item_id: object,
         take: bool = False):
    """Spend a dot on an item, or take one back."""
    (service.unvote if take else service.vote)(db, session, activity, person, item_id)
    return None, Effects(session.id).changed_counts(activity)


def moderate(db, session: LiveSession, activity: Activity, action: object, refs: object, link: str,
             moderator: object = None, text: object = None, column: object = None, into: object = None):
    """A moderation action on items: ((items, None), effects), or (([], refused), effects) when
    the items changed meanwhile (only the log's trace is written; the counters are pushed)."""
    ids = [r.get("id") for r in [*(refs if isinstance(refs, list) else []), into] if isinstance(r, dict)]
    people = service.people_concerned(db, activity, ids)
    items, refused = service.moderate_or_trace(db, session, activity, action, refs, link, moderator,
                                               text, column, into)
    if refused is not None:
        return (items, refused), Effects(session.id).changed_counts(activity)
    return (items, None), _changed(session, activity, True).tell_participants(activity, people)


def set_display(db, session: LiveSession, activity: Activity, role: str, changes: dict,
                moderator: object = None):
    """Sort, spotlight, or set the question being answered."""
    service.set_display(db, session, activity, role, changes, role, moderator)
    return None, Effects(session.id).changed_state()


def update_settings(db, session: LiveSession, activity: Activity, raw: object, prompt: object = None,
                    sources: list | None = None):
    """Change a board's settings."""
    service.update_settings(db, session, activity, raw, prompt=prompt, sources=sources)
    return None, Effects(session.id).changed_state()


def tell_authors(session_id: int, activity_id: int, people: set[int]) -> None:
    """Send the authors (and refunded voters) of moderated items their fresh `mine`, each to their
    own room: a phone learns at once that its pending idea was approved or rejected."""
    with app_store().read() as db:
        activity = db.get(Activity, activity_id)
        if activity is None:
            return
        mine = {pid: service.mine(db, activity, pid) for pid in people}
    for pid, data in mine.items():
        realtime.emit_to_participant(session_id, pid, "board_mine", {"activity": activity_id, "mine": data})


for _kind in ("ideas", "questions"):
    effects.on_tell(_kind, tell_authors)
