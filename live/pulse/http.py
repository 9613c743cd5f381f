"""Plain forms of the room's pulse: a participant's pace (no JavaScript), the facilitator's switch."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from live.i18n import message
from live.pulse import operations
from live.sessions import effects
from live.sessions import service as sessions
from live.sessions.access import participant_form_write, staff_session

bp = Blueprint("pulse", __name__)


@bp.post("/j/<code>/pace")
def pace(code: str):
    """Store a participant's pace sent by the plain form (the same rules as the socket event)."""
    choice = request.form.get("pace")
    done, problem = participant_form_write(
        code, lambda db, live_session, _activity, person: operations.pace(db, live_session, person, choice),
        with_activity=False)
    if problem is not None:
        flash(message(problem.code, **problem.params), "error")
    else:
        if done:  # (session id, None, (stored, effects)); None: the form was a replay
            effects.apply(done[2][1])
        flash(message("pace_saved"), "ok")
    return redirect(url_for("sessions.participant", code=code) + "#pulse")


@bp.post("/f/<token>/pulse")
def switch(token: str):
    """The console's switch without JavaScript: the same as the socket event."""
    session_id = staff_session(token, "facilitator")
    effects.write_or_flash(lambda db: operations.switch(db, sessions.get_session(db, session_id),
                                                        request.form.get("on")))
    return redirect(url_for("sessions.console", token=token) + "#pulse")
