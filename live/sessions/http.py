"""Pages of a session: home and join, the participant page, the screen, the facilitator console."""

from __future__ import annotations

import logging
import math
import secrets
from typing import NamedTuple

from flask import Blueprint, Response, abort, g, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import DataError

from live import auth, footprint, realtime, validation
from live.errors import DomainError
from live.i18n import use_session_language
from live.netinfo import public_base_url
from live.qr import qr_data_uri, qr_svg
from live.sessions import access, admission, capabilities, effects, operations, screenpages, service
from live.sessions.access import staff_session
from live.sessions.effects import Effects
from live.sessions.model import LiveSession
from live.sessions.views import phone_snapshot, snapshot
from live.web import error_page, store, write_or_flash

bp = Blueprint("sessions", __name__)
log = logging.getLogger(__name__)


def join_url(code: str) -> str:
    """The address a phone opens to join (also in the QR code)."""
    from flask import current_app

    return f"{public_base_url(current_app.config, request.host_url)}/j/{code}"


@bp.before_app_request
def _participant_language():
    """A participant's page or form (/j/<code>...) speaks the session's language by default."""
    code = (request.view_args or {}).get("code")
    if code is None or not request.path.startswith("/j/"):
        return
    waiting = admission.ticket_session() if request.endpoint == "sessions.wait" else None
    if waiting is not None:  # a phone in line asks again: its ticket knows the language
        use_session_language(waiting[1] or "")
        return
    with store().read() as db:
        locale = db.scalar(select(LiveSession.locale).where(
            LiveSession.join_code == service.normalise_code(code)))
    if locale is not None:
        use_session_language(locale)


@bp.get("/")
def home():
    """The landing page: type the code shown on the screen."""
    return render_template("sessions/home.html")


@bp.get("/join")
def join_form():
    """The join form's target (works without JavaScript)."""
    code = service.normalise_code(request.args.get("code", ""))
    with store().read() as db:
        try:
            service.session_by_code(db, code)
        except DomainError as exc:
            return render_template("sessions/home.html", error=exc.code, code=code), 404
    return redirect(url_for("sessions.participant", code=code))


@bp.get("/j/<code>")
def participant(code: str):
    """The participant page: what is on screen now, the vote form, the confirmation. A phone
    that has joined gets it from one read (no write); a new device joins first, and may first
    wait in line (live/sessions/admission.py): the waiting page."""
    key = auth.device_key()
    found = _returning(code, key)
    if found is None:
        found = _first_visit(code, key)
        if not isinstance(found, Joined):
            return found  # the waiting page, the door code form, or why it cannot join
    session_id, view = found
    g.footprint_session = session_id  # this page counts in the session's footprint
    return render_template("sessions/participant.html", view=view, code=code,
                           form_cid=secrets.token_urlsafe(12), kept=access.take_kept_text(),
                           me=access.outbox_name(key))


class Joined(NamedTuple):
    """A phone in its session: the participant page's data."""

    session_id: int
    view: dict


def _returning(code: str, key: str) -> Joined | None:
    """(session id, snapshot) of a device that has joined this session, from one read; None for
    a new device or a code that cannot be joined (the join path says why)."""
    with store().read() as db:
        try:
            phone = service.phone_identity(db, code, key)
        except DomainError:
            return None
        if phone.participant_id is None:
            return None
        return Joined(phone.session_id,
                      phone_snapshot(db, phone.session_id, phone.version, phone.participant_id))


def _first_visit(code: str, key: str):
    """A new device joins (the participant's one write): `Joined`, or the page to show instead
    (the waiting page, the door code form, why it cannot join)."""
    waiting, address = _at_the_door(code, key)
    if waiting is not None:
        return waiting

    def load(db):
        live_session = service.session_by_code(db, code)
        person, changed = operations.join(db, live_session, key, address)
        return (live_session.id, person.id), changed

    ids, _changed, problem = effects.write_and_apply(load)  # a new participant: the count is pushed
    if problem is not None and problem.code == "door_code_required":
        return _door_page(code, None, 200)
    if problem is not None:
        if service.normalise_code(code) != code:
            return redirect(url_for("sessions.participant", code=service.normalise_code(code)))
        # The session ended: what this phone still held is named on the page (static/js/core.js).
        outbox = f"palabre:{code}:{access.outbox_name(key)}" if problem.code == "session_ended" else None
        return render_template("sessions/home.html", error=problem.code, code=code, outbox=outbox), 404
    session_id, participant_id = ids
    with store().read() as db:
        return Joined(session_id, snapshot(db, service.get_session(db, session_id), "participant",
                                           participant_id))


def _new_device(code: str, key: str):
    """The session a device joins for the first time with this code, with its title; None if the
    device has joined already (or the code is not a session's: the join path says why)."""
    with store().read() as db:
        try:
            live_session = service.session_by_code(db, code)
        except DomainError:
            return None
        if service.find_participant(db, live_session, key) is not None:
            return None
        return live_session.id, live_session.title


def _at_the_door(code: str, key: str):
    """(the waiting page or None, the address the join counts against): a new device asks the
    admission gate; admitted, its address was counted by the gate (None: not again)."""
    address = request.remote_addr or ""
    if admission.gate() is None:
        return None, address
    found = _new_device(code, key)
    if found is None:
        return None, address
    session_id, title = found
    if admission.take_pass(session_id):
        return None, None
    outcome = admission.admit(session_id, address)
    if outcome.changed:
        effects.apply(Effects(session_id).changed_queue())
    if outcome.admitted:
        return None, None
    return _waiting_page(code, title, outcome), None


def _waiting_page(code: str, title: str, outcome):
    """The small page of a phone in line: its place, the wait, and it tries again by itself."""
    response = make_response(render_template(
        "sessions/waiting.html", code=code, title=title, retry=outcome.retry,
        text=_waiting_text(outcome)))
    response.headers["Retry-After"] = str(outcome.retry)
    response.headers["Cache-Control"] = "no-store"
    return response


def _waiting_text(outcome) -> str:
    from live.i18n import message

    if outcome.place is None:
        return message("join_queue_full")
    return message("join_queue_place", place=outcome.place, seconds=max(1, math.ceil(outcome.eta)))


@bp.get("/j/<code>/wait")
def wait(code: str):
    """The waiting page's script asks again: {go: the page} once let in, else {place, text, retry}."""
    if admission.gate() is None:
        return {"go": url_for("sessions.participant", code=service.normalise_code(code))}
    waiting = admission.ticket_session()  # in line already: no query (the page checks again)
    session_id = waiting[0] if waiting is not None else None
    if session_id is None:
        found = _new_device(code, auth.device_key())
        if found is None or admission.has_pass(found[0]):
            return {"go": url_for("sessions.participant", code=service.normalise_code(code))}
        session_id = found[0]
    outcome = admission.admit(session_id, request.remote_addr or "")
    if outcome.changed:
        effects.apply(Effects(session_id).changed_queue())
    if outcome.admitted:
        admission.give_pass(session_id)
        return {"go": url_for("sessions.participant", code=service.normalise_code(code))}
    return {"place": outcome.place, "retry": outcome.retry, "text": _waiting_text(outcome)}


def _door_page(code: str, error: str | None, status: int):
    """The form asking for a one-time voting code (a session with codes, a new device)."""
    with store().read() as db:
        title = service.session_by_code(db, code).title
    return render_template("sessions/door.html", code=code, title=title, error=error), status


@bp.post("/j/<code>/door")
def door(code: str):
    """A new participant enters the one-time code handed at the door (works without JavaScript)."""
    key = auth.device_key()
    typed = request.form.get("door_code", "")

    def load(db):
        live_session = service.session_by_code(db, code)
        person, changed = operations.join(db, live_session, key, request.remote_addr or "", typed)
        return person.id, changed

    _ids, _changed, problem = effects.write_and_apply(load)
    if problem is None:
        return redirect(url_for("sessions.participant", code=code)), 303
    if problem.code.startswith("door_code") or problem.code == "rate_limited":
        return _door_page(code, problem.code, 429 if problem.code == "rate_limited" else 403)
    return render_template("sessions/home.html", error=problem.code, code=code), 404


@bp.get("/j/<code>/qr.svg")
def join_qr(code: str):
    """The QR code of the join link."""
    with store().read() as db:
        try:
            live_session = service.session_by_code(db, code)
        except DomainError:
            abort(404)
        url = join_url(live_session.join_code)
    return Response(qr_svg(url), mimetype="image/svg+xml")


@bp.get("/screen/<token>")
def screen(token: str):
    """The projected screen: join banner, or the current activity and its results."""
    session_id = staff_session(token, "screen")
    with store().read() as db:
        live_session = service.get_session(db, session_id)
        use_session_language(live_session.locale, cookie=None)  # the room's language, not the browser's
        view = snapshot(db, live_session, "screen")
    # Without JavaScript the server pages long content; the refresh turns the pages (docs/screen.md).
    pg = screenpages.paginate(view, request.args.get("page", 1, type=int) or 1)
    refresh = "5"
    if pg and pg["total"] > 1:
        refresh = f"8; url={url_for('sessions.screen', token=token, page=pg['n'] % pg['total'] + 1)}"
    return render_template("sessions/screen.html", view=view, token=token, pg=pg, refresh=refresh,
                           join_url=join_url(view["session"]["code"]))


@bp.get("/f/<token>")
def console(token: str):
    """The facilitator console: agenda, live counts, controls."""
    session_id = staff_session(token, "facilitator")
    with store().read() as db:
        live_session = service.get_session(db, session_id)
        view = snapshot(db, live_session, "facilitator")
        links = _links(live_session)
        served = footprint.console_line(db, session_id, view["participants"])
    return render_template("sessions/console.html", view=view, token=token, links=links, served=served,
                           join_url=join_url(view["session"]["code"]),
                           screen_qr=qr_data_uri(links["screen"]) if links.get("screen") else None)


@bp.get("/f/<token>/footprint")
def console_footprint(token: str):
    """The console's footprint line, fetched again every few seconds (live/footprint.py)."""
    session_id = staff_session(token, "facilitator")
    with store().read() as db:  # in the console's language, as the page
        people = service.participant_count(db, service.get_session(db, session_id))
        return {"text": footprint.console_line(db, session_id, people)}


@bp.get("/f/<token>/qr.svg")
def console_qr(token: str):
    """The QR code of the facilitator's own link, to carry on from a phone."""
    staff_session(token, "facilitator")
    from flask import current_app

    url = f"{public_base_url(current_app.config, request.host_url)}/f/{token}"
    return Response(qr_svg(url), mimetype="image/svg+xml")


@bp.post("/f/<token>/command")
def console_command(token: str):
    """A console button without JavaScript: same command as the socket event."""
    session_id = staff_session(token, "facilitator")
    action = request.form.get("action")
    activity = request.form.get("activity", type=int)
    if action == "end" and request.form.get("confirmed") != "yes":
        # Ending cannot be undone: without the script's confirm(), this page asks first.
        with store().read() as db:
            title = service.get_session(db, session_id).title
        return render_template("sessions/end.html", token=token, title=title)

    effects.write_or_flash(lambda db: operations.command(db, service.get_session(db, session_id), action,
                                                         activity))
    return redirect(url_for("sessions.console", token=token) + (f"#a{activity}" if activity else ""))


@bp.post("/f/<token>/timer")
def console_timer(token: str):
    """The timer's buttons without JavaScript: same operation as the `timer` socket event."""
    session_id = staff_session(token, "facilitator")
    form = request.form
    activity = form.get("activity", type=int)
    action = form.get("action")

    def run(db):
        seconds = validation.timer_minutes(form.get("minutes")) if action == "start" else None
        return operations.timer(db, service.get_session(db, session_id), activity, action, seconds,
                                form.get("autoclose"))

    effects.write_or_flash(run)
    return redirect(url_for("sessions.console", token=token, timer=1) + "#timer-form")


@bp.post("/f/<token>/activities/<int:activity_id>/move")
def move(token: str, activity_id: int):
    """Move an activity up or down the agenda."""
    session_id = staff_session(token, "facilitator")
    offset = -1 if request.form.get("direction") == "up" else 1

    effects.write_or_flash(lambda db: operations.move(db, service.get_session(db, session_id), activity_id,
                                                      offset))
    return redirect(url_for("sessions.console", token=token))


@bp.post("/f/<token>/activities/<int:activity_id>/delete")
def delete(token: str, activity_id: int):
    """Delete an activity that has no answers."""
    session_id = staff_session(token, "facilitator")

    effects.write_or_flash(lambda db: operations.delete(db, service.get_session(db, session_id), activity_id))
    return redirect(url_for("sessions.console", token=token))


@bp.post("/f/<token>/links/<role>")
def rotate_link(token: str, role: str):
    """Issue a new screen, moderator or facilitator link: the old one stops working at once."""
    session_id = staff_session(token, "facilitator")
    new_token = rotate(session_id, role)
    if new_token is None:
        return redirect(url_for("sessions.console", token=token)), 303
    # A new facilitator link: this console moves to it (the old address is dead).
    return redirect(url_for("sessions.console", token=new_token if role == "facilitator" else token)
                    + "#links-title"), 303


def rotate(session_id: int, role: str) -> str | None:
    """Rotate a role's link, cut the sockets open with the old one, tell the user."""
    from flask import flash

    from live.i18n import message

    if role not in capabilities.ROLES:
        abort(404)
    new_token = write_or_flash(lambda db: capabilities.issue(db, service.get_session(db, session_id), role))
    if new_token is not None:
        realtime.disconnect_role(session_id, role)
        flash(message("link_rotated"), "ok")
    return new_token


@bp.get("/m/<token>")
def moderator(token: str):
    """The moderator console."""
    session_id = staff_session(token, "moderator")
    with store().read() as db:
        view = snapshot(db, service.get_session(db, session_id), "moderator")
    return render_template("sessions/moderator.html", view=view, token=token)


def _links(live_session) -> dict:
    """The session's links; a capability link is None when it cannot be shown (see
    live/sessions/capabilities.py): issuing a new one shows it."""
    from flask import current_app

    base = public_base_url(current_app.config, request.host_url)
    tokens = capabilities.current_tokens(live_session)
    paths = {"facilitator": "f", "moderator": "m", "screen": "screen"}
    links = {"join": f"{base}/j/{live_session.join_code}"}
    for role, token in tokens.items():
        links[role] = f"{base}/{paths[role]}/{token}" if token else None
    return links


@bp.app_errorhandler(404)
def not_found(exc):
    """A 404 page in the user's language."""
    description = getattr(exc, "description", None)
    if description and not str(description).startswith("The requested URL"):
        return render_template("error.html", message=description), 404
    return error_page("not_found_page", 404)


@bp.app_errorhandler(OverflowError)
@bp.app_errorhandler(DataError)
def number_out_of_range(exc):
    """A number no column can hold reached the database (an id of 10^20 in a form...): the
    request is malformed. Nothing was written (the write rolled back); one log line, no traceback."""
    log.warning("%s %s refused: %s", request.method, request.path, exc.__class__.__name__)
    return error_page("bad_payload", 400)


@bp.app_errorhandler(403)
def forbidden(exc):
    """A 403 page in the user's language."""
    return render_template("error.html", message=getattr(exc, "description", "")), 403
