"""Board forms: posting, voting and withdrawing without JavaScript; the facilitator's and
moderators' board controls."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from live import validation
from live.boards import operations, service
from live.boards.model import BOARD_KINDS, MAX_BUDGET
from live.errors import DomainError
from live.i18n import message
from live.sessions import effects
from live.sessions import operations as agenda
from live.sessions import service as sessions
from live.sessions.access import keep_text, participant_form_write, staff_session
from live.web import store

bp = Blueprint("boards", __name__)


def _participant_write(code: str, fn):
    """Run `fn(db, session, activity, person)` on a board for the form's participant, once per form id."""
    def on_board(db, live_session, activity, person):
        service.require_board(activity)
        return fn(db, live_session, activity, person)

    return participant_form_write(code, on_board)


def _back(code: str, done, problem, ok_code: str | None):
    """After a participant's form: apply the operation's effects, say how it went, go back."""
    if problem is not None:
        flash(message(problem.code, **problem.params), "error")
    else:
        if done:  # (session id, activity id, (result, effects)); None: the form was a replay
            effects.apply(done[2][1])
        if ok_code:
            flash(message(ok_code), "ok")
    return redirect(url_for("sessions.participant", code=code) + "#board")


@bp.post("/j/<code>/boards/post")
def post(code: str):
    """Send an idea or a question from the plain HTML form."""
    def run(db, live_session, activity, person):
        return operations.post(db, live_session, activity, person, request.form.get("text", ""),
                               request.form.get("column", 0), request.form.get("name"))

    done, problem = _participant_write(code, run)
    if problem is not None:
        keep_text(request.form.get("activity", type=int))  # the form shows the text again
    status = done[2][0].status if done else None
    return _back(code, done, problem, "item_saved_pending" if status == "pending" else "item_saved")


@bp.post("/j/<code>/boards/vote")
def vote(code: str):
    """Spend a dot on an item, or take one back (`take=1`)."""
    take = request.form.get("take") == "1"

    def run(db, live_session, activity, person):
        return operations.vote(db, live_session, activity, person, request.form.get("item", type=int),
                               take=take)

    done, problem = _participant_write(code, run)
    return _back(code, done, problem, "board_vote_taken_back" if take else "board_vote_saved")


@bp.post("/j/<code>/boards/withdraw")
def withdraw(code: str):
    """Take back one's own unreviewed item."""
    item_id = request.form.get("item", type=int)

    def run(db, live_session, activity, person):
        return operations.withdraw(db, live_session, activity, person, item_id)

    done, problem = _participant_write(code, run)
    return _back(code, done, problem, "item_withdrawn")


def _settings_from_form(form, kind: str) -> dict:
    # Unchecked checkboxes are absent from a form: absent means off.
    flags = service.BOOLEAN_SETTINGS if kind == "ideas" else tuple(
        key for key in service.BOOLEAN_SETTINGS if key != "stack")
    settings = {key: form.get(key) == "on" for key in flags}
    # A Q&A has its own upvote rules (one upvote per question, as many questions as one likes):
    # an idea wall's number of votes never reaches it from a form.
    for key in ("budget", "sort") if kind == "ideas" else ("sort",):
        if form.get(key) not in (None, ""):
            settings[key] = form.get(key)
    if kind == "ideas":
        settings["columns"] = form.get("columns", "").splitlines() or [""]
        settings["private"] = form.get("private") == "on"
    return settings


@bp.post("/f/<token>/boards")
def add(token: str):
    """Add an idea wall or a Q&A to the agenda."""
    session_id = staff_session(token, "facilitator")
    kind = request.form.get("kind")
    if kind not in BOARD_KINDS:
        kind = "ideas"

    def run(db):
        live_session = sessions.get_session(db, session_id)
        return agenda.agenda_changed(live_session, service.add_board(
            db, live_session, kind, request.form.get("prompt", ""), _settings_from_form(request.form, kind)))

    effects.write_or_flash(run)
    return redirect(url_for("sessions.console", token=token))


def _columns_from_form(form) -> tuple[list[str], list]:
    """The settings page's columns: each old one renamed or removed, then the new ones."""
    names, sources = [], []
    index = 0
    while f"column_{index}" in form:
        if form.get(f"remove_{index}") != "on":
            names.append(form.get(f"column_{index}", ""))
            sources.append(index)
        index += 1
    for name in form.get("column_new", "").splitlines():
        if name.strip():
            names.append(name)
            sources.append(None)
    return names, sources


@bp.route("/f/<token>/boards/<int:activity_id>/settings", methods=["GET", "POST"])
def settings(token: str, activity_id: int):
    """The settings page of an idea wall or a Q&A (prompt, columns, moderation, votes, display)."""
    session_id = staff_session(token, "facilitator")
    if request.method == "POST":
        def run(db):
            live_session = sessions.get_session(db, session_id)
            activity = sessions.get_activity(db, live_session, activity_id)
            service.require_board(activity)
            raw = _settings_from_form(request.form, activity.kind)
            sources = None
            if activity.kind == "ideas" and "column_0" in request.form:
                raw["columns"], sources = _columns_from_form(request.form)
            _, changed = operations.update_settings(db, live_session, activity, raw,
                                                    prompt=request.form.get("prompt"), sources=sources)
            return True, changed

        if effects.write_or_flash(run):
            return redirect(url_for("sessions.console", token=token) + f"#a{activity_id}")
    with store().read() as db:
        live_session = sessions.get_session(db, session_id)
        try:
            activity = sessions.get_activity(db, live_session, activity_id)
            service.require_board(activity)
        except DomainError:
            return redirect(url_for("sessions.console", token=token))
        in_column = service.items_per_column(db, activity)
        return render_template("boards/settings.html", token=token, activity=activity,
                               s=activity.settings, in_column=in_column,
                               max_columns=service.MAX_COLUMNS, max_budget=MAX_BUDGET)


def _display(token: str, role: str, activity_id: int, back: str):
    session_id = staff_session(token, role)
    changes = {}
    for key in ("sort", "spotlight", "current"):
        if key in request.form:
            value = request.form.get(key)
            changes[key] = value if key == "sort" else validation.form_identifier(value)

    def run(db):
        live_session = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, live_session, activity_id)
        return operations.set_display(db, live_session, activity, role, changes)

    effects.write_or_flash(run)
    return redirect(url_for(back, token=token) + f"#a{activity_id}")


@bp.post("/f/<token>/boards/<int:activity_id>/display")
def display(token: str, activity_id: int):
    """Sort the wall, spotlight an item, or set the question being answered."""
    return _display(token, "facilitator", activity_id, "sessions.console")


@bp.post("/m/<token>/boards/<int:activity_id>/display")
def moderator_display(token: str, activity_id: int):
    """A moderator sets the question being answered."""
    return _display(token, "moderator", activity_id, "sessions.moderator")


def _ref(raw: str) -> dict | None:
    item_id, _, version = (raw or "").partition(":")
    item_id, version = validation.form_identifier(item_id), validation.form_identifier(version)
    if item_id is not None and version is not None:
        return {"id": item_id, "version": version}
    return None


def _moderation_request(form) -> tuple[object, list, object, object]:
    """(action, refs, text, into) from the moderator form: bulk, one-item or edit buttons."""
    if form.get("act"):  # a button on one item: "approve:44:3"
        action, _, ref = form["act"].partition(":")
        return action, [r for r in [_ref(ref)] if r], None, None
    if form.get("edit"):  # the save button of one item's edit box
        ref = _ref(form["edit"])
        body = form.get(f"text_{ref['id']}") if ref else None
        return "edit", [ref] if ref else [], body, None
    if form.get("merge_pair"):  # "merge this suggested duplicate into that item"
        source, _, target = form["merge_pair"].partition("|")
        return "merge", [r for r in [_ref(source)] if r], None, _ref(target)
    refs = [r for r in (_ref(raw) for raw in form.getlist("item")) if r]
    return form.get("action"), refs, None, _ref(form.get("into", ""))


@bp.post("/m/<token>/boards/<int:activity_id>/moderate")
def moderate(token: str, activity_id: int):
    """A moderation action from the plain form: checked items with the versions shown."""
    session_id = staff_session(token, "moderator")
    action, refs, body, into = _moderation_request(request.form)
    by = request.form.get("by")

    def run(db):
        live_session = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, live_session, activity_id)
        return operations.moderate(db, live_session, activity, action, refs, "moderator", by, body,
                                   request.form.get("column", type=int), into)

    outcome, _changed, problem = effects.write_and_apply(run)
    refused = problem or outcome[1]  # outcome[1]: refused, only the log's trace was written
    if refused is not None:
        flash(_conflict_text(refused), "error")
    else:
        flash(message("moderation_done"), "ok")
    return redirect(url_for("sessions.moderator", token=token) + f"#board-{activity_id}")


def _conflict_text(exc: DomainError) -> str:
    text = message(exc.code, **exc.params)
    for item in (exc.state or {}).get("items", []):
        text += " " + message("item_now", item=item["id"], status=status_label(item["status"]),
                              text=item["text"][:80])
    return text


def status_label(status: str) -> str:
    """An item status in the user's language."""
    return str(STATUS_LABELS.get(status, status))


STATUS_LABELS = {
    "pending": _l("waiting for moderation"), "visible": _l("published, not reviewed"),
    "approved": _l("approved"), "rejected": _l("rejected"), "hidden": _l("hidden"),
    "withdrawn": _l("withdrawn by its author"), "merged": _l("merged"),
}


@bp.app_context_processor
def _board_helpers() -> dict:
    return {"board_moderation": _boards_to_moderate, "board_status": status_label}


def _boards_to_moderate(view: dict) -> list[dict]:
    """The moderation data of every board of the agenda, the one on screen first."""
    ids = [a["id"] for a in view.get("agenda") or [] if a["kind"] in BOARD_KINDS]
    current = (view.get("current") or {}).get("id")
    ids.sort(key=lambda i: i != current)
    boards = []
    with store().read() as db:
        for activity_id in ids:
            activity = sessions.get_activity(db, sessions.get_session(db, view["session"]["id"]),
                                             activity_id)
            board = service.moderation_view(db, activity)
            every = [i for part in ("queue", "published", "removed") for i in board[part]]
            board["texts"] = {i["id"]: i["text"] for i in every}
            board["versions"] = {i["id"]: i["version"] for i in every}
            boards.append(board)
    return boards
