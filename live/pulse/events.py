"""Socket.IO handlers of the room's pulse: a participant's pace, the facilitator's switch."""

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
    return service.summary(db, session_id)


views.register_part("pulse", _view, lifetime=service.WINDOW)


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
