"""Organiser pages: events and their sessions, with each session's links and QR code."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from live import auth, validation
from live.errors import DomainError
from live.i18n import message
from live.quickstart import presets
from live.security import limiter
from live.sessions import capabilities, doorcodes, service
from live.sessions.http import _links
from live.web import store, write_or_flash

bp = Blueprint("admin", __name__, url_prefix="/admin")


def bp_password_set() -> bool:
    """True when an organiser password is configured."""
    return bool(auth.admin_password())


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               deduct_when=lambda response: response.status_code == 401)
def login():
    """The organiser password form (only when a password is set); failed attempts throttled."""
    if not bp_password_set():
        return redirect(url_for("admin.index"))
    error = None
    if request.method == "POST":
        if auth.check_password(request.form.get("password", "")):
            auth.sign_in()
            return redirect(url_for("admin.index"))
        error = message("wrong_password")
    return render_template("admin/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    """End this browser's organiser session."""
    auth.sign_out()
    if bp_password_set():
        return redirect(url_for("admin.login")), 303
    return redirect(url_for("sessions.home")), 303


@bp.get("/")
def index():
    """Every event with its sessions; forms to create them."""
    with store().read() as db:
        events = service.list_events(db)
        rows = [(event, list(event.sessions)) for event in events]
        return render_template("admin/index.html", rows=rows)


@bp.post("/events")
def create_event():
    """Create an event."""
    write_or_flash(lambda db: service.create_event(
        db, request.form.get("title", ""), request.form.get("place"), request.form.get("date")))
    return redirect(url_for("admin.index"))


@bp.post("/start")
def start_now():
    """"Start a session now": a workshop titled with today's date and time, in the user's
    language, in today's event (made the first time); straight to its console."""
    now = datetime.now().astimezone()  # the organiser's clock (the laptop's)
    day = format_date(now.date(), "long")
    event_title = _("Sessions of %(date)s", date=day)
    session_title = _("Session of %(date)s, %(time)s", date=day, time=now.strftime("%H:%M"))
    locale = str(get_locale() or "fr")

    def run(db):
        live_session = presets.start_now(db, event_title, session_title, locale, now.date())
        return capabilities.current_tokens(live_session)["facilitator"]

    token = write_or_flash(run)
    if token is None:
        return redirect(url_for("admin.index")), 303
    return redirect(url_for("sessions.console", token=token)), 303


@bp.post("/events/<int:event_id>/sessions")
def create_session(event_id: int):
    """Create a session in an event."""
    def run(db):
        event = service.get_event(db, event_id)
        return service.create_session(db, event, request.form.get("kind"), request.form.get("title", ""),
                                      request.form.get("place"), request.form.get("date"),
                                      request.form.get("locale", "fr")).id

    session_id = write_or_flash(run)
    if session_id:
        return redirect(url_for("admin.session_page", session_id=session_id))
    return redirect(url_for("admin.index"))


@bp.get("/sessions/<int:session_id>")
def session_page(session_id: int):
    """A session's join code, QR code and capability links."""
    with store().read() as db:
        try:
            live_session = service.get_session(db, session_id)
        except Exception:  # noqa: BLE001
            abort(404)
        return render_template("admin/session.html", live_session=live_session,
                               event=live_session.event, links=_links(live_session),
                               door_codes=doorcodes.listing(db, live_session),
                               code_counts=doorcodes.counts(db, live_session.id))


@bp.post("/sessions/<int:session_id>/links/<role>")
def rotate_link(session_id: int, role: str):
    """Issue a new capability link for a session; the page then shows it."""
    from live.sessions.http import rotate

    with store().read() as db:
        try:
            service.get_session(db, session_id)
        except DomainError:
            abort(404)
    rotate(session_id, role)
    return redirect(url_for("admin.session_page", session_id=session_id) + "#links-title"), 303


@bp.post("/sessions/<int:session_id>/cards.pdf")
def table_card(session_id: int):
    """The session's table card (PDF, A4): join QR code, address and code, and the venue's
    Wi-Fi when typed in the form. The Wi-Fi name and password go into this PDF only: never
    stored, never logged (a form post, so not in the address either), never cached."""
    try:
        wifi = validation.wifi(request.form.get("ssid"), request.form.get("password"))
    except DomainError as exc:
        flash(message(exc.code), "error")
        return redirect(url_for("admin.session_page", session_id=session_id) + "#cards-title"), 303
    with store().read() as db:
        try:
            live_session = service.get_session(db, session_id)
        except DomainError:
            abort(404)
        title, code, join = live_session.title, live_session.join_code, _links(live_session)["join"]
    from live.sessions import cards  # reportlab: loaded by the first card printed, not by every server

    pdf = cards.table_card(title, join, code, cards.Wifi(*wifi) if wifi else None)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="palabre-{code}-card.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _codes_page(session_id: int):
    return redirect(url_for("admin.session_page", session_id=session_id) + "#codes-title"), 303


@bp.post("/sessions/<int:session_id>/codes")
def issue_codes(session_id: int):
    """Issue one-time voting codes: from now on a new participant needs one to join."""
    count = validation.form_identifier(request.form.get("count", ""))
    write_or_flash(lambda db: doorcodes.issue(db, service.get_session(db, session_id), count))
    return _codes_page(session_id)


@bp.post("/sessions/<int:session_id>/codes/<int:number>/revoke")
def revoke_code(session_id: int, number: int):
    """Revoke one unused code (lost, or its person left): it admits nobody any more."""
    write_or_flash(lambda db: doorcodes.revoke(db, service.get_session(db, session_id), number))
    return _codes_page(session_id)


@bp.get("/sessions/<int:session_id>/codes.pdf")
def codes_sheet(session_id: int):
    """The unused codes as a sheet of cut-outs (PDF, A4)."""
    with store().read() as db:
        try:
            live_session = service.get_session(db, session_id)
        except DomainError:
            abort(404)
        codes = [(row["number"], row["code"]) for row in doorcodes.listing(db, live_session)
                 if row["state"] == "unused" and row["code"]]
        title, code, join = live_session.title, live_session.join_code, _links(live_session)["join"]
    from live.sessions import cards

    response = Response(cards.codes_sheet(title, join, codes), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="palabre-{code}-codes.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
