"""Socket.IO handlers of idea walls and Q&A: contribute, vote, moderate, drive the display.

Each handler reads its payload, calls one operation (`live.boards.operations`, shared with the
form routes) and has its effects applied once the transaction is committed.
"""

from __future__ import annotations

from live import realtime
from live.boards import operations, service
from live.sessions import effects
from live.sessions import service as sessions
from live.sessions.model import Participant

STAFF = ("facilitator", "moderator")


def _board(ctx, payload):
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    activity = sessions.get_activity(ctx.db, live_session, payload.get("activity"))
    service.require_board(activity)
    return live_session, activity


def _participant(ctx):
    return ctx.db.get(Participant, ctx.conn.participant_id)


def _after(ctx, changed: effects.Effects) -> None:
    ctx.after(lambda: effects.apply(changed))


@realtime.handler("board_post", roles=("participant",))
def on_post(ctx, payload):
    """A participant sends an idea or a question; the ack means it is stored."""
    live_session, activity = _board(ctx, payload)
    person = _participant(ctx)
    item, changed = operations.post(ctx.db, live_session, activity, person, payload.get("text"),
                                    payload.get("column", 0), payload.get("name"), payload["cid"])
    _after(ctx, changed)
    return {"item": item.id, "status": item.status,
            "mine": service.mine(ctx.db, activity, person.id)}


@realtime.handler("board_edit", roles=("participant",))
def on_edit(ctx, payload):
    """The author rewrites their item while no moderator has reviewed it."""
    live_session, activity = _board(ctx, payload)
    person = _participant(ctx)
    item, changed = operations.edit_own(ctx.db, live_session, activity, person, payload.get("item"),
                                        payload.get("text"))
    _after(ctx, changed)
    return {"item": item.id, "status": item.status,
            "mine": service.mine(ctx.db, activity, person.id)}


@realtime.handler("board_withdraw", roles=("participant",))
def on_withdraw(ctx, payload):
    """The author takes back their unreviewed item (its voters are told they got their dots)."""
    live_session, activity = _board(ctx, payload)
    person = _participant(ctx)
    _, changed = operations.withdraw(ctx.db, live_session, activity, person, payload.get("item"))
    _after(ctx, changed)
    return {"mine": service.mine(ctx.db, activity, person.id)}


@realtime.handler("board_vote", roles=("participant",))
def on_vote(ctx, payload):
    """Spend a dot (`"take": true` takes one back); the ack carries the dots left."""
    live_session, activity = _board(ctx, payload)
    person = _participant(ctx)
    _, changed = operations.vote(ctx.db, live_session, activity, person, payload.get("item"),
                                 take=payload.get("take") is True)
    _after(ctx, changed)
    return {"mine": service.mine(ctx.db, activity, person.id)}


@realtime.handler("board_moderate", roles=STAFF)
def on_moderate(ctx, payload):
    """Approve, reject, hide, edit, merge, move, pin, highlight, answer one or several items."""
    live_session, activity = _board(ctx, payload)
    (items, refused), changed = operations.moderate(
        ctx.db, live_session, activity, payload.get("action"), payload.get("items"),
        ctx.conn.role, payload.get("by"), payload.get("text"), payload.get("column"),
        payload.get("into"))
    _after(ctx, changed)
    if refused is not None:  # nothing done but the log's trace of the attempt
        return realtime.error(refused.code, ctx.conn, refused.state, **refused.params)
    ctx.db.flush()
    return {"items": [service.moderation_item(ctx.db, item) for item in items]}


@realtime.handler("board_display", roles=STAFF)
def on_display(ctx, payload):
    """Sort order and spotlight (facilitator); the question being answered (both)."""
    live_session, activity = _board(ctx, payload)
    changes = {k: payload[k] for k in ("sort", "spotlight", "current") if k in payload}
    _, changed = operations.set_display(ctx.db, live_session, activity, ctx.conn.role, changes,
                                        payload.get("by"))
    _after(ctx, changed)
    return {"version": activity.version}


@realtime.handler("board_settings", roles=("facilitator",))
def on_settings(ctx, payload):
    """Change a board's settings (moderation, budget, signing, visibility, columns)."""
    live_session, activity = _board(ctx, payload)
    _, changed = operations.update_settings(ctx.db, live_session, activity, payload.get("settings"))
    _after(ctx, changed)
    return {"settings": activity.settings}


@realtime.handler("board_moderation", roles=STAFF, write=False)
def on_moderation(ctx, payload):
    """The moderator console's data: queue, published, removed, duplicates, log."""
    _, activity = _board(ctx, payload)
    return {"board": service.moderation_view(ctx.db, activity)}
