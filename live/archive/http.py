"""Archive routes: downloads (facilitator, organiser), past sessions, import, purge, retention.

Every archive is built in the archive worker process (`live.archive.worker`): the request
waits for it cooperatively and the event loop keeps serving phones meanwhile. Purges and the
retention run there too, as jobs whose progress the Archives page shows (`live.archive.jobs`).

A download (GET) records nothing. Exporting is the organiser's deliberate act: the "Export"
buttons of the Archives page (POST) build the same ZIP and record the export, which a purge
without `force` requires (made after the session ended).
"""

from __future__ import annotations

import os
import tempfile

import click
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from live import validation
from live.archive import jobs, retention, worker
from live.archive.importer import MAX_UPLOAD
from live.archive.model import ArchiveJob, ArchiveState
from live.errors import DomainError
from live.i18n import message
from live.security import upload_limit
from live.sessions import service
from live.sessions.access import staff_session
from live.sessions.model import LiveSession, Participant
from live.web import store, write_or_flash

bp = Blueprint("archive", __name__)

# The uploaded archive plus the rest of the form.
IMPORT_BODY_LIMIT = MAX_UPLOAD + 1024 * 1024

REPORT_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")


def _in_process() -> bool:
    return worker.in_process(current_app.config)


def _zip_response(data: bytes, name: str) -> Response:
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _session_download(session_id: int, record: bool = False) -> Response:
    with store().read() as db:
        try:
            service.get_session(db, session_id)
        except DomainError:
            abort(404)
    data, name = worker.run(_in_process(), worker.session_zip, store().url, session_id)
    if record:
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


@bp.post("/admin/archive/sessions/<int:session_id>/export")
def session_export(session_id: int):
    """The organiser exports a session: the archive is downloaded and the export recorded."""
    return _session_download(session_id, record=True)


@bp.get("/admin/events/<int:event_id>/archive.zip")
def event_download(event_id: int):
    """The organiser downloads an event's archive: every session plus a synthesis."""
    return _event_download(event_id)


@bp.post("/admin/archive/events/<int:event_id>/export")
def event_export(event_id: int):
    """The organiser exports an event: its archive is downloaded, each session's export recorded."""
    return _event_download(event_id, record=True)


OPEN_FORMATS = {"md": "text/markdown; charset=utf-8",
                "ods": "application/vnd.oasis.opendocument.spreadsheet"}


@bp.post("/admin/archive/<any(sessions, events):scope>/<int:ident>/export.<fmt>")
def open_export(scope: str, ident: int, fmt: str):
    """The organiser exports a session or an event as minutes (Markdown) or a spreadsheet (ODS).
    Not a full archive: the export is not recorded for retention (the ZIP is)."""
    if fmt not in OPEN_FORMATS:
        abort(404)
    with store().read() as db:
        try:
            (service.get_event if scope == "events" else service.get_session)(db, ident)
        except DomainError:
            abort(404)
    data, name = worker.run(_in_process(), worker.open_export, store().url, scope[:-1], ident, fmt)
    response = Response(data, mimetype=OPEN_FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _event_download(event_id: int, record: bool = False) -> Response:
    with store().read() as db:
        try:
            session_ids = [s.id for s in service.get_event(db, event_id).sessions]
        except DomainError:
            abort(404)
    data, name = worker.run(_in_process(), worker.event_zip, store().url, event_id)
    if record:
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
        due = retention.due_sessions(db)
        titles = {s.id: s.title for _, sessions in rows for s in sessions}
        recent = [job for job in jobs.recent(db) if job.kind != "import"]  # imports: their own page
        return render_template("archive/index.html", rows=rows, states=states, retention_days=days,
                               max_days=retention.MAX_RETENTION_DAYS, due=due, titles=titles,
                               jobs=recent, job_status=jobs.status,
                               exported=retention.exported_since_end)


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
    """Import an archive from another Palabre instance: sessions recreated read only.

    The archive worker checks and writes it (in short transactions) while this answers at
    once with the import's page, which shows its progress and then its outcome.
    """
    from live.archive.importer import new_job

    upload = request.files.get("archive")
    data = upload.read(MAX_UPLOAD + 1) if upload else b""
    if not data:
        flash(message("import_no_file"), "error")
        return redirect(url_for("archive.index")), 303
    with store().write() as db:
        job_id = new_job(db)
    handle, path = tempfile.mkstemp(prefix="palabre-import-", suffix=".zip")  # private (0600)
    with os.fdopen(handle, "wb") as upload_file:
        upload_file.write(data)
    _hand_to_worker(job_id, worker.import_archive, store().url, job_id, path)
    return redirect(url_for("archive.import_progress", job_id=job_id)), 303


def _hand_to_worker(job_id: int, fn, *args) -> None:
    """`fn(*args)` in the archive worker (inline in in-process mode); a worker that dies under
    it fails the job (waited for in a background task, cooperatively)."""
    from live.realtime import socketio

    if _in_process():
        fn(*args)
        return
    future = worker.submit(fn, *args)
    jobs_store = store()
    logger = current_app.logger  # the task below runs outside any app context

    def watch() -> None:
        try:
            future.result()
        except Exception:  # noqa: BLE001 - the worker died: the job says so
            logger.exception("import job %s: the worker failed", job_id)
            jobs.fail(jobs_store, job_id, "import_failed")

    socketio.start_background_task(watch)


@bp.get("/admin/archive/imports/<int:job_id>")
def import_progress(job_id: int):
    """An import's progress (the page reloads itself meanwhile), then what came of it."""
    with store().read() as db:
        job = db.get(ArchiveJob, job_id)
        if job is None or job.kind != "import":
            abort(404)
        state, done, total, code = jobs.status(job), job.done, job.total, job.error
        detail = job.detail or {}
    if state == "done":
        outcome = message("imported", count=len(detail.get("sessions", [])))
    elif state in ("failed", "interrupted"):
        outcome = refusal(code or "import_failed", detail.get("params") or {})
    else:
        outcome = None
    percent = min(100, round(100 * done / total)) if total else 0
    return render_template("archive/import.html", state="running" if outcome is None else state,
                           done=min(done, total), total=total, percent=percent, outcome=outcome)


def refusal(code: str, params: dict) -> str:
    """Why an archive was refused, in the user's language (with the validator's own reason)."""
    params = dict(params)
    if code == "import_invalid":
        reason = message(params.pop("reason", ""), **params.pop("reason_params", {}))
        params["reason"] = reason.rstrip(".")
    return message(code, **params)


def _ticked(name: str) -> bool:
    try:
        return validation.boolean(request.form.get(name))
    except DomainError:
        return False


@bp.get("/admin/archive/sessions/<int:session_id>/purge")
def purge_page(session_id: int):
    """Ask the organiser to confirm a purge (and say whether the session was exported)."""
    with store().read() as db:
        try:
            live_session = service.get_session(db, session_id)
        except DomainError:
            abort(404)
        state = db.get(ArchiveState, session_id)
        participants = db.scalar(select(func.count(Participant.id))
                                 .where(Participant.session_id == session_id))
        return render_template("archive/purge.html", live_session=live_session, state=state,
                               participants=participants,
                               exported=retention.exported_since_end(state, live_session))


@bp.post("/admin/archive/sessions/<int:session_id>/purge")
def purge(session_id: int):
    """Purge a session's participant-level data, once confirmed, in the archive worker.

    Refused (nothing changes) without the `confirm` box, and for a session not exported since
    it ended unless `unexported` is ticked too.
    """
    back = redirect(url_for("archive.purge_page", session_id=session_id)), 303
    if not _ticked("confirm"):
        flash(message("confirm_needed"), "error")
        return back

    def record(db):
        retention.check(db, service.get_session(db, session_id), force=_ticked("unexported"))
        return jobs.create(db, "purge", [session_id], force=_ticked("unexported"))

    job_id = write_or_flash(record)
    if job_id is None:
        return back
    worker.submit_job(current_app._get_current_object(), job_id)
    return redirect(url_for("archive.job_page", job_id=job_id)), 303


@bp.get("/admin/archive/purges/<int:job_id>")
def job_page(job_id: int):
    """A purge's or the retention's progress (the page reloads itself meanwhile), then its outcome."""
    with store().read() as db:
        job = db.get(ArchiveJob, job_id)
        if job is None or job.kind not in ("purge", "retention"):
            abort(404)
        ids = (job.detail or {}).get("sessions", [])
        titles = dict(db.execute(select(LiveSession.id, LiveSession.title)
                                 .where(LiveSession.id.in_(ids))).all())
        return render_template("archive/job.html", job=job, job_status=jobs.status, titles=titles,
                               running=jobs.status(job) in ("queued", "running"))


@bp.post("/admin/archive/retention")
def set_retention():
    """Set the default retention (days after a session ends); applying it is a separate act."""
    if write_or_flash(lambda db: retention.set_retention(db, request.form.get("days")) or True):
        flash(message("retention_saved"), "ok")
        with store().read() as db:
            due = retention.due_sessions(db)
        count = len(due.exported) + len(due.not_exported)
        if count:
            flash(message("retention_due", count=count), "ok")
    return redirect(url_for("archive.index", _anchor="retention-title")), 303


@bp.post("/admin/archive/retention/apply")
def apply_retention():
    """Purge, once confirmed, the sessions past the retention period (in the archive worker).

    Sessions not exported since they ended are left unless `unexported` is ticked.
    """
    back = redirect(url_for("archive.index", _anchor="retention-title")), 303
    if not _ticked("confirm"):
        flash(message("confirm_needed"), "error")
        return back
    force = _ticked("unexported")

    def record(db):
        due = retention.due_sessions(db)
        todo = due.exported + (due.not_exported if force else [])
        return jobs.create(db, "retention", sorted(todo), force=force) if todo else None

    job_id = write_or_flash(record)
    if job_id is None:
        flash(message("nothing_due"), "error")
        return back
    worker.submit_job(current_app._get_current_object(), job_id)
    return redirect(url_for("archive.job_page", job_id=job_id)), 303


@bp.cli.command("apply-retention")
@click.option("--include-unexported", is_flag=True,
              help="Also purge sessions whose archive was not exported since they ended.")
def apply_retention_command(include_unexported: bool):
    """Purge participant data of sessions past the retention period (e.g. daily from cron).

    Also deletes client acks past their time (`LIVE_ACK_TTL_HOURS`).
    """
    from live import acks

    purged, skipped = retention.apply_retention(store(), include_unexported=include_unexported)
    expired = 0
    while True:
        with store().write() as db:
            count = acks.expire(db, acks.ttl(current_app.config))
        expired += count
        if count < acks.EXPIRE_BATCH:
            break
    click.echo(f"purged {len(purged)} session(s)")
    if skipped:
        click.echo(f"left {len(skipped)} session(s) never exported since they ended "
                   "(export them, or pass --include-unexported)")
    click.echo(f"expired {expired} client ack(s)")
