"""What can be done to a word cloud, for both doors: each operation returns its result and its
`Effects` (counts pushed coalesced, the image rendered again, a snapshot when moderation
changed what rooms see).

The socket handlers (`events.py`) and the form routes (`http.py`) read their input, call one
of these inside the write transaction and apply the effects once committed.
"""

from __future__ import annotations

from live.sessions import effects
from live.sessions.effects import Effects
from live.sessions.model import Activity, LiveSession, Participant
from live.wordclouds import images, service


def add_entry(db, session: LiveSession, activity: Activity, person: Participant, text: object,
              cid: str | None, word_rate: int | None):
    """A participant sends one entry (within their cap and the word rate)."""
    entry = service.add_entry(db, session, activity, person, text, cid, word_rate)
    return entry, Effects(session.id).changed_counts(activity)


def withdraw_entry(db, session: LiveSession, activity: Activity, person: Participant, entry_id: object,
                   word_rate: int | None):
    """A participant takes back one of their entries."""
    service.withdraw_entry(db, activity, person, entry_id, word_rate)
    return None, Effects(session.id).changed_counts(activity)


def moderate(db, session: LiveSession, activity: Activity, action: object, key: object,
             into: object = None, actor: str = "moderator"):
    """Hide, restore, merge, unmerge, release or hold a group."""
    service.moderate(db, session, activity, action, key, into, actor=actor)
    return None, Effects(session.id).changed_counts(activity).changed_state()


# When a cloud's counts change, its image is rendered again (debounced) and the rooms told.
effects.on_counts("wordcloud", images.schedule)
# A cloud shown, opened, revealed...: the render workers start (if stopped) before its first entry.
effects.on_command("wordcloud", images.prepare)
