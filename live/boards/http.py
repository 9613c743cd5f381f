"""Board forms: posting, voting and withdrawing without JavaScript; the facilitator's and
moderators' board controls."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from live import auth, realtime
from live.boards import service
from live.boards.model import BOARD_KINDS
from live.errors import DomainError
from live.i18n import message
from live.sessions import service as sessions
from live.sessions.model import ClientAck
from live.web import staff_session, store, write_or_flash

bp = Blueprint("boards", __name__)


def _participant_write(code: str, fn):
    """Run `fn(db, session, activity, person)` for the form's participant, once per form id."""
    key = auth.device_key()
    cid = (request.form.get("cid") or "")[:64]

    def run(db):
        live_session = sessions.session_by_code(db, code)
        person = sessions.join(db, live_session, key)
        actor = f"p{person.id}"
        if cid and db.query(ClientAck.id).filter_by(actor=actor, client_id=cid).scalar():
            return None  # the same form sent twice
        activity = sessions.get_activity(db, live_session, request.form.get("activity", type=int))
        service.require_board(activity)
        outcome = fn(db, live_session, activity, person)
        if cid:
            db.add(ClientAck(actor=actor, client_id=cid, response={"ok": True}))
        return live_session.id, activity.id, outcome

    try:
        with store().write() as db:
            return run(db), None
    except DomainError as exc:
        return None, exc


def _back(code: str, done, problem, ok_code: str | None, published: bool = True):
    if problem is not None:
        flash(message(problem.code, **problem.params), "error")
    else:
        if done:
            session_id, activity_id, _ = done
            if published:
                realtime.push_state(session_id)
            realtime.mark_dirty(session_id, activity_id)
        if ok_code:
            flash(message(ok_code), "ok")
    return redirect(url_for("sessions.participant", code=code) + "#board")


@bp.post("/j/<code>/boards/post")
def post(code: str):
    """Send an idea or a question from the plain HTML form."""
    def run(db, live_session, activity, person):
        item = service.post(db, live_session, activity, person, request.form.get("text", ""),
                            request.form.get("column", 0), request.form.get("name"))
        return item.status

    done, problem = _participant_write(code, run)
    status = done[2] if done else None
    return _back(code, done, problem, "item_saved_pending" if status == "pending" else "item_saved",
                 published=status == "visible")


@bp.post("/j/<code>/boards/vote")
def vote(code: str):
    """Spend a dot on an item, or take one back (`take=1`)."""
    take = request.form.get("take") == "1"

    def run(db, live_session, activity, person):
        operation = service.unvote if take else service.vote
        operation(db, live_session, activity, person, request.form.get("item", type=int))

    done, problem = _participant_write(code, run)
    return _back(code, done, problem, "board_vote_taken_back" if take else "board_vote_saved",
                 published=False)


@bp.post("/j/<code>/boards/withdraw")
def withdraw(code: str):
    """Take back one's own unreviewed item."""
    def run(db, live_session, activity, person):
        service.withdraw(db, live_session, activity, person, request.form.get("item", type=int))

    done, problem = _participant_write(code, run)
    return _back(code, done, problem, "item_withdrawn")


def _settings_from_form(form, kind: str) -> dict:
    # Unchecked checkboxes are absent from a form: absent means off.
    settings = {key: form.get(key) == "on" for key in service.BOOLEAN_SETTINGS}
    for key in ("budget", "sort"):
        if form.get(key) not in (None, ""):
            settings[key] = form.get(key)
    if kind == "ideas":
        settings["columns"] = form.get("columns", "").splitlines() or [""]
    return settings


@bp.post("/f/<token>/boards")
def add(token: str):
    """Add an idea wall or a Q&A to the agenda."""
    session_id = staff_session(token, "facilitator")
    kind = request.form.get("kind")
    if kind not in BOARD_KINDS:
        kind = "ideas"

    def run(db):
        service.add_board(db, sessions.get_session(db, session_id), kind,
                          request.form.get("prompt", ""), _settings_from_form(request.form, kind))

    write_or_flash(run, lambda: realtime.push_state(session_id))
    return redirect(url_for("sessions.console", token=token))


@bp.post("/f/<token>/boards/<int:activity_id>/settings")
def settings(token: str, activity_id: int):
    """Change a board's settings from the console."""
    session_id = staff_session(token, "facilitator")

    def run(db):
        live_session = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, live_session, activity_id)
        service.update_settings(db, live_session, activity,
                                _settings_from_form(request.form, activity.kind))

    write_or_flash(run, lambda: realtime.push_state(session_id))
    return redirect(url_for("sessions.console", token=token) + f"#a{activity_id}")


def _display(token: str, role: str, activity_id: int, back: str):
    session_id = staff_session(token, role)
    changes = {}
    for key in ("sort", "spotlight", "current"):
        if key in request.form:
            value = request.form.get(key)
            changes[key] = value if key == "sort" else (int(value) if value.isdigit() else None)

    def run(db):
        live_session = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, live_session, activity_id)
        service.set_display(db, live_session, activity, role, changes, role)

    write_or_flash(run, lambda: realtime.push_state(session_id))
    return redirect(url_for(back, token=token) + f"#a{activity_id}")


@bp.post("/f/<token>/boards/<int:activity_id>/display")
def display(token: str, activity_id: int):
    """Sort the wall, spotlight an item, or set the question being answered."""
    return _display(token, "facilitator", activity_id, "sessions.console")


@bp.post("/m/<token>/boards/<int:activity_id>/display")
def moderator_display(token: str, activity_id: int):
    """A moderator sets the question being answered."""
    return _display(token, "moderator", activity_id, "sessions.moderator")


@bp.post("/m/<token>/boards/<int:activity_id>/moderate")
def moderate(token: str, activity_id: int):
    """A moderation action from the plain form: checked items with the versions shown."""
    session_id = staff_session(token, "moderator")
    refs = []
    for raw in request.form.getlist("item"):
        item_id, _, version = raw.partition(":")
        if item_id.isdigit() and version.isdigit():
            refs.append({"id": int(item_id), "version": int(version)})
    into = request.form.get("into", "")
    into_id, _, into_version = into.partition(":")
    into_ref = ({"id": int(into_id), "version": int(into_version)}
                if into_id.isdigit() and into_version.isdigit() else None)

    def run(db):
        live_session = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, live_session, activity_id)
        service.moderate(db, live_session, activity, request.form.get("action"), refs, "moderator",
                         request.form.get("by"), request.form.get("text"),
                         request.form.get("column", type=int), into_ref)
        return True

    if write_or_flash(run, lambda: realtime.push_state(session_id),
                      lambda: realtime.mark_dirty(session_id, activity_id)):
        flash(message("moderation_done"), "ok")
    return redirect(url_for("sessions.moderator", token=token) + f"#a{activity_id}")
