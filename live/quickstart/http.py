"""The console's ready-made activities (one click: added, on screen and open)."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from live.quickstart import operations
from live.sessions import effects
from live.sessions import service as sessions
from live.sessions.access import staff_session

bp = Blueprint("quickstart", __name__)


@bp.post("/f/<token>/presets")
def add_preset(token: str):
    """Add the ready-made activity of the button pressed, launched unless the box is unticked."""
    session_id = staff_session(token, "facilitator")
    launch = request.form.get("launch") == "on"

    def run(db):
        live_session = sessions.get_session(db, session_id)
        activity, changed = operations.add_preset(db, live_session, request.form.get("preset"),
                                                  request.form.get("prompt"), launch)
        return activity.id, changed

    activity_id = effects.write_or_flash(run)
    return redirect(url_for("sessions.console", token=token) + (f"#a{activity_id}" if activity_id else ""))
