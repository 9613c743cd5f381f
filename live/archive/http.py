"""Archive routes: downloads (facilitator, organiser), past sessions, import, retention.

Every archive is built in the archive worker process (`live.archive.worker`): the request
waits for it cooperatively and the event loop keeps serving phones meanwhile.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from live import auth
from live.archive import retention, worker
from live.archive.importer import MAX_UPLOAD
from live.archive.model import ArchiveState
from live.errors import DomainError
from live.i18n import message
from live.security import upload_limit
from live.sessions import service
from live.sessions.access import staff_session
from live.web import store, write_or_flash

bp = Blueprint("archive", __name__)

# The uploaded archive plus the rest of the form.
IMPORT_BODY_LIMIT = MAX_UPLOAD + 1024 * 1024

REPORT_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")


@bp.before_request
def _guard():
    if request.path.startswith("/admin/"):
        return auth.organiser_guard()
    return None


def _in_process() -> bool:
    return worker.in_process(current_app.config)


def _zip_response(data: bytes, name: str) -> Response:
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _session_download(session_id: int) -> Response:
    with store().read() as db:
        try:
            service.get_session(db, session_id)
        except DomainError:
            abort(404)
    data, name = worker.run(_in_process(), worker.session_zip, store().url, session_id)
    with store().write() as db:
        retention.mark_exported(db, session_id)
    return _zip_response(data, name)


@bp.get("/f/<token>/archive.zip")
def facilitator_download(token: str):
    """The facilitator downloads the session's archive (during or after the session)."""
    return _session_download(staff_session(token, "facilitator"))


@bp.get("/admin/sessions/<int:session_id>/archive.zip")
def session_download(session_id: int):
    """The organiser downloads a session's archive."""
    return _session_download(session_id)


@bp.get("/admin/events/<int:event_id>/archive.zip")
def event_download(event_id: int):
    """The organiser downloads an event's archive: every session plus a synthesis."""
    with store().read() as db:
        try:
            session_ids = [s.id for s in service.get_event(db, event_id).sessions]
        except DomainError:
            abort(404)
    data, name = worker.run(_in_process(), worker.event_zip, store().url, event_id)
    with store().write() as db:
        for session_id in session_ids:
            retention.mark_exported(db, session_id)
    return _zip_response(data, name)


@bp.get("/admin/archive")
def index():
    """Past sessions and events, imported ones, import form and retention setting."""
    with store().read() as db:
        states = {s.session_id: s for s in db.query(ArchiveState)}
        rows = [(event, list(event.sessions)) for event in service.list_events(db)]
        days = retention.get_retention(db)
        return render_template("archive/index.html", rows=rows, states=states, retention_days=days,
                               max_days=retention.MAX_RETENTION_DAYS)


@bp.get("/admin/archive/sessions/<int:session_id>")
def report(session_id: int):
    """The read-only view of a session's results: its report, as in the archive."""
    with store().read() as db:
        try:
            service.get_session(db, session_id)
        except DomainError:
            abort(404)
    html = worker.run(_in_process(), worker.session_report, store().url, session_id)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response


@bp.post("/admin/archive/import")
@upload_limit(IMPORT_BODY_LIMIT)
def import_archive():
    """Import an archive from another Palabre instance: sessions recreated read only."""
    from live.archive.importer import ImportRefused, create_sessions

    upload = request.files.get("archive")
    data = upload.read(MAX_UPLOAD + 1) if upload else b""
    if not data:
        flash(message("import_no_file"), "error")
        return redirect(url_for("archive.index")), 303
    checked = worker.run(_in_process(), worker.read_archive, data)
    if "error" in checked:
        flash(refusal(checked["error"], checked["params"]), "error")
        return redirect(url_for("archive.index")), 303
    try:
        with store().write() as db:
            ids = create_sessions(db, checked["docs"])
    except ImportRefused as exc:
        flash(refusal(exc.code, exc.params), "error")
        return redirect(url_for("archive.index")), 303
    flash(message("imported", count=len(ids)), "ok")
    return redirect(url_for("archive.index")), 303


def refusal(code: str, params: dict) -> str:
    """Why an archive was refused, in the user's language (with the validator's own reason)."""
    params = dict(params)
    if code == "import_invalid":
        reason = message(params.pop("reason", ""), **params.pop("reason_params", {}))
        params["reason"] = reason.rstrip(".")
    return message(code, **params)


@bp.post("/admin/archive/sessions/<int:session_id>/purge")
def purge(session_id: int):
    """Purge a session's participant-level data (after its archive was downloaded)."""
    if write_or_flash(lambda db: retention.purge(db, service.get_session(db, session_id)) or True):
        flash(message("purged"), "ok")
    return redirect(url_for("archive.index")), 303


@bp.post("/admin/archive/retention")
def set_retention():
    """Set the default retention (days after a session ends) and apply it now."""
    if write_or_flash(lambda db: retention.set_retention(db, request.form.get("days")) or True):
        retention.apply_retention(store())
        flash(message("retention_saved"), "ok")
    return redirect(url_for("archive.index")), 303


@bp.cli.command("apply-retention")
def apply_retention_command():
    """Purge participant data of sessions past the retention period (e.g. from cron)."""
    import click

    purged = retention.apply_retention(store())
    click.echo(f"purged {len(purged)} session(s)")
