"""Plain forms of the room's pulse (no JavaScript): a participant's pace, hand and reactions;
the facilitator's switch and queue."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from live.i18n import message
from live.pulse import operations
from live.sessions import effects
from live.sessions import service as sessions
from live.sessions.access import participant_form_write, staff_session

bp = Blueprint("pulse", __name__)


def _participant_write(code: str, operation, saved) -> object:
    """Run a participant's pulse operation `operation(db, session, person)` from a plain form."""
    done, problem = participant_form_write(
        code, lambda db, live_session, _activity, person: operation(db, live_session, person),
        with_activity=False)
    if problem is not None:
        flash(message(problem.code, **problem.params), "error")
    else:
        if done:  # (session id, None, (stored, effects)); None: the form was a replay
            effects.apply(done[2][1])
        flash(message(saved(done[2][0] if done else None)), "ok")
    return redirect(url_for("sessions.participant", code=code) + "#pulse")


@bp.post("/j/<code>/pace")
def pace(code: str):
    """Store a participant's pace sent by the plain form (the same rules as the socket event)."""
    choice = request.form.get("pace")
    return _participant_write(code, lambda db, s, person: operations.pace(db, s, person, choice),
                              lambda _stored: "pace_saved")


@bp.post("/j/<code>/hand")
def hand(code: str):
    """Raise (`up=true`, optional `name`) or lower a participant's hand from the plain form."""
    up, name = request.form.get("up"), request.form.get("name")
    return _participant_write(code, lambda db, s, person: operations.hand(db, s, person, up, name),
                              lambda mine: "hand_raised" if mine else "hand_lowered")


@bp.post("/j/<code>/react")
def react(code: str):
    """A quick reaction from the plain form (its own rate limit, as on the socket)."""
    reaction = request.form.get("reaction")
    return _participant_write(code, lambda db, s, person: operations.react(db, s, person, reaction),
                              lambda _stored: "reaction_saved")


@bp.post("/f/<token>/pulse")
def switch(token: str):
    """The console's switch without JavaScript: the same as the socket event."""
    session_id = staff_session(token, "facilitator")
    effects.write_or_flash(lambda db: operations.switch(db, sessions.get_session(db, session_id),
                                                        request.form.get("on")))
    return redirect(url_for("sessions.console", token=token) + "#pulse")


@bp.post("/f/<token>/hands")
def hands(token: str):
    """The console's queue without JavaScript: `hand=<id>` has spoken, or `clear` the queue."""
    session_id = staff_session(token, "facilitator")
    if request.form.get("clear"):
        effects.write_or_flash(lambda db: operations.clear_hands(db, sessions.get_session(db, session_id)))
    else:
        effects.write_or_flash(lambda db: operations.hand_done(db, sessions.get_session(db, session_id),
                                                               request.form.get("hand")))
    return redirect(url_for("sessions.console", token=token) + "#pulse")
