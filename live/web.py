"""Small helpers shared by the HTTP blueprints: capability lookups and form writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, flash, render_template

from live.errors import DomainError
from live.i18n import message
from live.sessions import service

T = TypeVar("T")


def store():
    """The application's store."""
    return current_app.extensions["palabre.store"]


def staff_session(token: str, role: str) -> int:
    """The id of the session this capability token opens for `role`, or a 404 page."""
    with store().read() as db:
        try:
            live_session, granted = service.session_by_token(db, token)
        except DomainError:
            granted = None
        if granted != role:
            abort(404, description=message("bad_token"))
        return live_session.id


def write_or_flash(fn: Callable[..., T], *after: Callable[[], None]) -> T | None:
    """Run `fn(db)` in one write; flash the error in the user's language if it is refused."""
    try:
        with store().write() as db:
            result = fn(db)
    except DomainError as exc:
        flash(message(exc.code, **exc.params), "error")
        return None
    for effect in after:
        effect()
    return result


def error_page(code: str, status: int = 400, **params):
    """An error page with a message the user can act on."""
    return render_template("error.html", message=message(code, **params)), status


def participant_form_write(code: str, fn) -> tuple[tuple | None, DomainError | None]:
    """Run a participant's plain-form action once: `fn(db, session, activity, participant)`.

    The form's hidden `cid` makes a form sent twice (a double tap, a reload) a no-op, as for
    socket events. Returns ((session_id, activity_id, outcome) or None if replayed, None) on
    success, or (None, the DomainError) when refused; nothing is stored then.
    """
    from flask import request

    from live import auth, ratelimit
    from live.sessions.model import ClientAck

    key = auth.device_key()
    cid = (request.form.get("cid") or "")[:64]

    def run(db):
        live_session = service.session_by_code(db, code)
        person = service.join(db, live_session, key)
        if not ratelimit.allow(ratelimit.participant_key(person.id)):
            raise DomainError("rate_limited")  # the same budget as the participant's sockets
        actor = f"p{person.id}"
        if cid and db.query(ClientAck.id).filter_by(actor=actor, client_id=cid).scalar():
            return None  # the same form sent twice
        activity = service.get_activity(db, live_session, request.form.get("activity", type=int))
        outcome = fn(db, live_session, activity, person)
        if cid:
            db.add(ClientAck(actor=actor, client_id=cid, event="form", response={"ok": True}))
        return live_session.id, activity.id, outcome

    try:
        with store().write() as db:
            return run(db), None
    except DomainError as exc:
        return None, exc
