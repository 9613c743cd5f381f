"""Socket.IO handlers of the room's pulse: a participant's pace, hand and reactions; the
facilitator's switch and queue."""

from __future__ import annotations

from live import realtime
from live.pulse import operations, service
from live.sessions import effects, views
from live.sessions import service as sessions
from live.sessions.model import Participant


def _view(db, session_id: int, role: str, participant_id: int | None) -> dict:
    """The pulse in a snapshot: the summary for staff and screen, on/off and one's own for a phone."""
    if role == "participant":
        return service.participant_view(db, session_id, participant_id)
    return service.summary(db, session_id, role=role)


def _mine(db, session_id: int, participant_id: int, shared: dict) -> dict:
    """A phone's pulse: the shared view while off; when on, its own (its choice, its hand)."""
    return service.participant_view(db, session_id, participant_id) if shared.get("on") else shared


views.register_part("pulse", _view, lifetime=service.WINDOW, mine=_mine)


@realtime.handler("pace", roles=("participant",))
def on_pace(ctx, payload):
    """A participant says the pace is too fast, OK or too slow; the ack means it is stored."""
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    participant = ctx.db.get(Participant, ctx.conn.participant_id)
    stored, changed = operations.pace(ctx.db, live_session, participant, payload.get("pace"))
    ctx.after(lambda: effects.apply(changed))
    return {"pace": stored}


@realtime.handler("pulse_switch", roles=("facilitator",))
def on_switch(ctx, payload):
    """The facilitator switches the pulse widget on or off for this session."""
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    on, changed = operations.switch(ctx.db, live_session, payload.get("on"))
    ctx.after(lambda: effects.apply(changed))
    return {"on": on}


def _participant(ctx):
    return sessions.get_session(ctx.db, ctx.conn.session_id), ctx.db.get(Participant, ctx.conn.participant_id)


@realtime.handler("hand", roles=("participant",))
def on_hand(ctx, payload):
    """A participant raises (`up`: true, with an optional `name`) or lowers their hand."""
    live_session, participant = _participant(ctx)
    mine, changed = operations.hand(ctx.db, live_session, participant, payload.get("up"), payload.get("name"))
    ctx.after(lambda: effects.apply(changed))
    return {"hand": mine}


@realtime.handler("react", roles=("participant",))
def on_react(ctx, payload):
    """A quick reaction (one of `validation.REACTIONS`), within its own rate limit."""
    live_session, participant = _participant(ctx)
    stored, changed = operations.react(ctx.db, live_session, participant, payload.get("reaction"))
    ctx.after(lambda: effects.apply(changed))
    return {"reaction": stored}


@realtime.handler("hand_done", roles=("facilitator",))
def on_hand_done(ctx, payload):
    """The facilitator marks the hand `hand` as having spoken."""
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    _none, changed = operations.hand_done(ctx.db, live_session, payload.get("hand"))
    ctx.after(lambda: effects.apply(changed))
    return {}


@realtime.handler("hands_clear", roles=("facilitator",))
def on_hands_clear(ctx, payload):
    """The facilitator clears the queue of raised hands."""
    live_session = sessions.get_session(ctx.db, ctx.conn.session_id)
    cleared, changed = operations.clear_hands(ctx.db, live_session)
    ctx.after(lambda: effects.apply(changed))
    return {"cleared": cleared}
