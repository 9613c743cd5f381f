"""Socket.IO handler of polls: a participant votes."""

from __future__ import annotations

from live import realtime
from live.polls import operations
from live.sessions import effects
from live.sessions import service as sessions


@realtime.handler("vote", roles=("participant",), batched=True)
def on_vote(ctx, payload):
    """Store a participant's vote; the ack means it is on disk."""
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    activity = sessions.get_activity(ctx.db, live_session, payload.get("activity"))
    participant = sessions.participant_ref(ctx.conn.participant_id)
    stored, changed = operations.vote(ctx.db, live_session, activity, participant, payload.get("choice"),
                                      payload["cid"])
    ctx.after(lambda: effects.apply(changed))
    return {"activity": activity.id, "choice": stored}


@realtime.handler("paper", roles=("facilitator", "moderator"))
def on_paper(ctx, payload):
    """Staff add votes counted on paper or by a show of hands (`count` < 0: a correction)."""
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    activity = sessions.get_activity(ctx.db, live_session, payload.get("activity"))
    entry, changed = operations.add_paper(ctx.db, live_session, activity, payload.get("option"),
                                          payload.get("count"), ctx.conn.role)
    ctx.after(lambda: effects.apply(changed))
    return {"activity": activity.id, "entry": entry.id, "total": entry.total_after}
