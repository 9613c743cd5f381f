"""Socket.IO handlers of word clouds: send and withdraw entries, moderate groups.

Each handler calls one operation (`live.wordclouds.operations`, shared with the form routes)
and has its effects applied once the transaction is committed.
"""

from __future__ import annotations

from flask import current_app

from live import realtime
from live.sessions import effects
from live.sessions import service as sessions
from live.sessions.model import Participant
from live.wordclouds import operations, service


def _activity(ctx, payload):
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    return live_session, sessions.get_activity(ctx.db, live_session, payload.get("activity"))


def _after(ctx, changed: effects.Effects) -> None:
    ctx.after(lambda: effects.apply(changed))


@realtime.handler("word:add", roles=("participant",))
def on_add(ctx, payload):
    """A participant sends one entry; the ack carries their entries."""
    live_session, activity = _activity(ctx, payload)
    participant = ctx.db.get(Participant, ctx.conn.participant_id)
    entry, changed = operations.add_entry(ctx.db, live_session, activity, participant, payload.get("text"),
                                          payload["cid"], current_app.config["WORDCLOUD_RATE_PER_10S"])
    _after(ctx, changed)
    return {"activity": activity.id, "entry": {"id": entry.id, "text": entry.text},
            "mine": service.my_entries(ctx.db, activity, participant.id)}


@realtime.handler("word:withdraw", roles=("participant",))
def on_withdraw(ctx, payload):
    """A participant takes back one of their entries."""
    live_session, activity = _activity(ctx, payload)
    participant = ctx.db.get(Participant, ctx.conn.participant_id)
    _, changed = operations.withdraw_entry(ctx.db, live_session, activity, participant, payload.get("entry"),
                                           current_app.config["WORDCLOUD_RATE_PER_10S"])
    _after(ctx, changed)
    return {"activity": activity.id, "mine": service.my_entries(ctx.db, activity, participant.id)}


@realtime.handler("word:moderate", roles=("moderator", "facilitator"))
def on_moderate(ctx, payload):
    """Hide, restore, merge, unmerge, release or hold a group of the cloud."""
    live_session, activity = _activity(ctx, payload)
    _, changed = operations.moderate(ctx.db, live_session, activity, payload.get("action"),
                                     payload.get("key"), payload.get("into"), actor=ctx.conn.role)
    _after(ctx, changed)
    return {"activity": activity.id, "groups": [g.as_dict() for g in service.groups(ctx.db, activity)]}


@realtime.handler("word:groups", roles=("moderator", "facilitator"), write=False)
def on_groups(ctx, payload):
    """Every group as the cloud counts it, with its moderation state (for the moderator console)."""
    _, activity = _activity(ctx, payload)
    service._require_cloud(activity)
    return {"activity": activity.id, "groups": [g.as_dict() for g in service.groups(ctx.db, activity)]}
