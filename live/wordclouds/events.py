"""Socket.IO handlers of word clouds: send and withdraw entries, moderate groups."""

from __future__ import annotations

import time

from flask import current_app

from live import realtime
from live.errors import DomainError
from live.sessions import service as sessions
from live.sessions.model import Participant
from live.wordclouds import images, service


def _activity(ctx, payload):
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    return live_session, sessions.get_activity(ctx.db, live_session, payload.get("activity"))


def _changed(ctx, live_session, activity, state: bool = False) -> None:
    session_id, activity_id = live_session.id, activity.id
    ctx.after(lambda: realtime.mark_dirty(session_id, activity_id))
    ctx.after(lambda: images.schedule(session_id, activity_id))
    if state:
        ctx.after(lambda: realtime.push_state(session_id))


def _slow_down(participant_id: int) -> None:
    """A participant floods (many sockets, or a script): refuse beyond the word rate."""
    _recent: dict[int, list[float]] = current_app.extensions.setdefault("palabre.word_rate", {})
    now = time.monotonic()
    recent = [t for t in _recent.get(participant_id, ()) if now - t < 10.0]
    if len(recent) >= current_app.config["WORDCLOUD_RATE_PER_10S"]:
        _recent[participant_id] = recent
        raise DomainError("words_too_fast")
    recent.append(now)
    _recent[participant_id] = recent
    if len(_recent) > 10000:  # forget the quiet ones
        for key in [k for k, times in _recent.items() if now - times[-1] >= 10.0]:
            del _recent[key]


@realtime.handler("word:add", roles=("participant",))
def on_add(ctx, payload):
    """A participant sends one entry; the ack carries their entries."""
    _slow_down(ctx.conn.participant_id)
    live_session, activity = _activity(ctx, payload)
    participant = ctx.db.get(Participant, ctx.conn.participant_id)
    entry = service.add_entry(ctx.db, live_session, activity, participant, payload.get("text"),
                              payload["cid"])
    _changed(ctx, live_session, activity)
    return {"activity": activity.id, "entry": {"id": entry.id, "text": entry.text},
            "mine": service.my_entries(ctx.db, activity, participant.id)}


@realtime.handler("word:withdraw", roles=("participant",))
def on_withdraw(ctx, payload):
    """A participant takes back one of their entries."""
    _slow_down(ctx.conn.participant_id)
    live_session, activity = _activity(ctx, payload)
    participant = ctx.db.get(Participant, ctx.conn.participant_id)
    service.withdraw_entry(ctx.db, activity, participant, payload.get("entry"))
    _changed(ctx, live_session, activity)
    return {"activity": activity.id, "mine": service.my_entries(ctx.db, activity, participant.id)}


@realtime.handler("word:moderate", roles=("moderator", "facilitator"))
def on_moderate(ctx, payload):
    """Hide, restore, merge, unmerge, release or hold a group of the cloud."""
    live_session, activity = _activity(ctx, payload)
    service.moderate(ctx.db, live_session, activity, payload.get("action"), payload.get("key"),
                     payload.get("into"), actor=ctx.conn.role)
    _changed(ctx, live_session, activity, state=True)
    return {"activity": activity.id, "groups": [g.as_dict() for g in service.groups(ctx.db, activity)]}


@realtime.handler("word:groups", roles=("moderator", "facilitator"), write=False)
def on_groups(ctx, payload):
    """Every group as the cloud counts it, with its moderation state (for the moderator console)."""
    _, activity = _activity(ctx, payload)
    service._require_cloud(activity)
    return {"activity": activity.id, "groups": [g.as_dict() for g in service.groups(ctx.db, activity)]}
