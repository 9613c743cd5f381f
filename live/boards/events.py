"""Socket.IO handlers of idea walls and Q&A: contribute, vote, moderate, drive the display."""

from __future__ import annotations

from live import realtime
from live.boards import service
from live.sessions import push
from live.sessions import service as sessions
from live.sessions.model import Activity, Participant

STAFF = ("facilitator", "moderator")


def _board(ctx, payload):
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    activity = sessions.get_activity(ctx.db, live_session, payload.get("activity"))
    service.require_board(activity)
    return live_session, activity


def _participant(ctx):
    return ctx.db.get(Participant, ctx.conn.participant_id)


def _after_change(ctx, live_session, activity, published: bool) -> None:
    """Published content changed: a state push; otherwise only the coalesced counters."""
    if published:
        ctx.after(lambda: push.push_state(live_session.id))
    ctx.after(lambda: push.mark_dirty(live_session.id, activity.id))


@realtime.handler("board_post", roles=("participant",))
def on_post(ctx, payload):
    """A participant sends an idea or a question; the ack means it is stored."""
    live_session, activity = _board(ctx, payload)
    person = _participant(ctx)
    item = service.post(ctx.db, live_session, activity, person, payload.get("text"),
                        payload.get("column", 0), payload.get("name"), payload["cid"])
    _after_change(ctx, live_session, activity, item.status == "visible")
    return {"item": item.id, "status": item.status,
            "mine": service.mine(ctx.db, activity, person.id)}


@realtime.handler("board_edit", roles=("participant",))
def on_edit(ctx, payload):
    """The author rewrites their item while no moderator has reviewed it."""
    live_session, activity = _board(ctx, payload)
    person = _participant(ctx)
    item = service.edit_own(ctx.db, live_session, activity, person, payload.get("item"),
                            payload.get("text"))
    _after_change(ctx, live_session, activity, True)
    return {"item": item.id, "status": item.status,
            "mine": service.mine(ctx.db, activity, person.id)}


@realtime.handler("board_withdraw", roles=("participant",))
def on_withdraw(ctx, payload):
    """The author takes back their unreviewed item."""
    live_session, activity = _board(ctx, payload)
    person = _participant(ctx)
    # Its voters get their dots back: tell them (and the author's other tabs), as a hide does.
    people = service.people_concerned(ctx.db, activity, [payload.get("item")])
    service.withdraw(ctx.db, live_session, activity, person, payload.get("item"))
    _after_change(ctx, live_session, activity, True)
    ctx.after(lambda: tell_authors(live_session.id, activity.id, people))
    return {"mine": service.mine(ctx.db, activity, person.id)}


@realtime.handler("board_vote", roles=("participant",))
def on_vote(ctx, payload):
    """Spend a dot (`"take": true` takes one back); the ack carries the dots left."""
    live_session, activity = _board(ctx, payload)
    person = _participant(ctx)
    operation = service.unvote if payload.get("take") is True else service.vote
    operation(ctx.db, live_session, activity, person, payload.get("item"))
    ctx.after(lambda: push.mark_dirty(live_session.id, activity.id))
    return {"mine": service.mine(ctx.db, activity, person.id)}


def tell_authors(session_id: int, activity_id: int, people: set[int]) -> None:
    """Send the authors (and refunded voters) of moderated items their fresh `mine`, to their
    own room only: a phone learns at once that its pending idea was approved or rejected."""
    if not people:
        return
    with realtime.store().read() as db:
        activity = db.get(Activity, activity_id)
        if activity is None:
            return
        mine = {pid: service.mine(db, activity, pid) for pid in people}
    for pid, data in mine.items():
        realtime.emit_to_participant(session_id, pid, "board_mine",
                                     {"activity": activity_id, "mine": data})


def _refs_ids(payload) -> list:
    refs = payload.get("items") if isinstance(payload.get("items"), list) else []
    return [r.get("id") for r in [*refs, payload.get("into")] if isinstance(r, dict)]


@realtime.handler("board_moderate", roles=STAFF)
def on_moderate(ctx, payload):
    """Approve, reject, hide, edit, merge, move, pin, highlight, answer one or several items."""
    live_session, activity = _board(ctx, payload)
    people = service.people_concerned(ctx.db, activity, _refs_ids(payload))
    items, refused = service.moderate_or_trace(
        ctx.db, live_session, activity, payload.get("action"), payload.get("items"),
        ctx.conn.role, payload.get("by"), payload.get("text"), payload.get("column"),
        payload.get("into"))
    if refused is not None:  # nothing done but the log's trace of the attempt
        ctx.after(lambda: push.mark_dirty(live_session.id, activity.id))
        return realtime.error(refused.code, ctx.conn, refused.state, **refused.params)
    _after_change(ctx, live_session, activity, True)
    ctx.after(lambda: tell_authors(live_session.id, activity.id, people))
    ctx.db.flush()
    return {"items": [service.moderation_item(ctx.db, item) for item in items]}


@realtime.handler("board_display", roles=STAFF)
def on_display(ctx, payload):
    """Sort order and spotlight (facilitator); the question being answered (both)."""
    live_session, activity = _board(ctx, payload)
    changes = {k: payload[k] for k in ("sort", "spotlight", "current") if k in payload}
    service.set_display(ctx.db, live_session, activity, ctx.conn.role, changes, ctx.conn.role,
                        payload.get("by"))
    ctx.after(lambda: push.push_state(live_session.id))
    return {"version": activity.version}


@realtime.handler("board_settings", roles=("facilitator",))
def on_settings(ctx, payload):
    """Change a board's settings (moderation, budget, signing, visibility, columns)."""
    live_session, activity = _board(ctx, payload)
    service.update_settings(ctx.db, live_session, activity, payload.get("settings"))
    ctx.after(lambda: push.push_state(live_session.id))
    return {"settings": activity.settings}


@realtime.handler("board_moderation", roles=STAFF, write=False)
def on_moderation(ctx, payload):
    """The moderator console's data: queue, published, removed, duplicates, log."""
    _, activity = _board(ctx, payload)
    return {"board": service.moderation_view(ctx.db, activity)}
