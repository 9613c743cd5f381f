"""Word-cloud pages and forms: the cloud image, entries without JavaScript, the editor, moderation."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from live import auth
from live.errors import DomainError, is_id
from live.i18n import message
from live.render import missing_words
from live.sessions import effects
from live.sessions import operations as agenda
from live.sessions import service as sessions
from live.sessions.access import keep_text, participant_form_write, staff_session
from live.sessions.model import Activity
from live.web import store
from live.wordclouds import images, operations, service

bp = Blueprint("wordclouds", __name__)


def _settings(form) -> dict:
    return {
        "entries_per_participant": form.get("entries_per_participant") or None,
        "max_length": form.get("max_length") or None,
        "show_on_phones": form.get("show_on_phones") == "on",
        "hold_profanity": form.get("hold_profanity") == "on",
    }


def _may_see(activity: Activity) -> bool:
    token = request.args.get("t")
    with store().read() as db:
        if token:
            try:
                live_session, _role = sessions.session_by_token(db, token)
            except DomainError:
                return False
            return live_session.id == activity.session_id
        live_session = sessions.get_session(db, activity.session_id)  # `activity` is detached
        person = sessions.find_participant(db, live_session, auth.device_key(create=False))
        return bool(person and activity.revealed and activity.settings.get("show_on_phones"))


@bp.get("/cloud/<int:activity_id>.svg")
def cloud_image(activity_id: int):
    """The cloud as SVG, for the screen, staff, and phones once revealed (if allowed)."""
    with store().read() as db:
        activity = db.get(Activity, activity_id) if is_id(activity_id) else None
        if activity is None or activity.kind != "wordcloud":
            abort(404)
        db.expunge(activity)
    if not _may_see(activity):
        abort(404)
    frequencies = images.current_frequencies(activity_id) or {}
    theme = request.args.get("theme") if request.args.get("theme") in images.THEMES else "light"
    _digest, svg = images.images().get(frequencies, theme)
    if theme == "light":  # what the cloud leaves out now (also after a restart, before any entry)
        images.images().missing[activity_id] = missing_words(svg)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=3600" if request.args.get("v") else "no-store"
    return response


@bp.post("/f/<token>/wordclouds")
def add(token: str):
    """Add a word cloud to the agenda."""
    session_id = staff_session(token, "facilitator")
    def run(db):
        live_session = sessions.get_session(db, session_id)
        return agenda.agenda_changed(live_session, service.add_wordcloud(
            db, live_session, request.form.get("prompt", ""), _settings(request.form)))

    effects.write_or_flash(run)
    return redirect(url_for("sessions.console", token=token))


@bp.route("/f/<token>/wordclouds/<int:activity_id>", methods=["GET", "POST"])
def edit(token: str, activity_id: int):
    """Edit a word cloud's prompt and settings (its limits only grow once it has entries)."""
    session_id = staff_session(token, "facilitator")
    if request.method == "POST":
        def run(db):
            live_session = sessions.get_session(db, session_id)
            activity = sessions.get_activity(db, live_session, activity_id)
            service.update_wordcloud(db, live_session, activity, request.form.get("prompt", ""),
                                     _settings(request.form))
            return agenda.agenda_changed(live_session, True)

        if effects.write_or_flash(run):
            return redirect(url_for("sessions.console", token=token))
    with store().read() as db:
        live_session = sessions.get_session(db, session_id)
        try:
            activity = sessions.get_activity(db, live_session, activity_id)
            service._require_cloud(activity)
        except DomainError:
            return redirect(url_for("sessions.console", token=token))
        has_entries = service._entry_count(db, activity) > 0
        return render_template("wordclouds/edit.html", token=token, activity=activity,
                               has_entries=has_entries)


@bp.post("/j/<code>/words")
def add_entry(code: str):
    """Send an entry from the plain HTML form."""
    cid = (request.form.get("cid") or "")[:64]
    done, problem = participant_form_write(code, lambda db, live_session, activity, person: (
        operations.add_entry(db, live_session, activity, person, request.form.get("text", ""), cid or None,
                             _word_rate())))
    if problem is not None:
        keep_text(request.form.get("activity", type=int))  # the form shows the word again
    return _back_to_phone(code, done, problem)


def _word_rate() -> int:
    """The word rate the socket events apply too (see `service.slow_down`)."""
    return current_app.config["WORDCLOUD_RATE_PER_10S"]


def _back_to_phone(code: str, done, problem):
    if problem is not None:
        flash(message(problem.code, **problem.params), "error")
    elif done:  # (session id, activity id, (result, effects)); None: the form was a replay
        effects.apply(done[2][1])
    return redirect(url_for("sessions.participant", code=code))


@bp.post("/j/<code>/words/<int:entry_id>/withdraw")
def withdraw(code: str, entry_id: int):
    """Withdraw an entry from the plain HTML form."""
    done, problem = participant_form_write(code, lambda db, live_session, activity, person: (
        operations.withdraw_entry(db, live_session, activity, person, entry_id, _word_rate())))
    return _back_to_phone(code, done, problem)


@bp.post("/m/<token>/words/<int:activity_id>")
def moderate(token: str, activity_id: int):
    """Moderate a group from the plain HTML form."""
    session_id = staff_session(token, "moderator")

    action, key, into = _moderation_request(request.form)

    def run(db):
        live_session = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, live_session, activity_id)
        return operations.moderate(db, live_session, activity, action, key, into)

    effects.write_or_flash(run)
    return redirect(url_for("sessions.moderator", token=token) + f"#wc-{activity_id}")


def _moderation_request(form) -> tuple:
    """(action, key, into) from the cloud's form: a group's button (`act` = "hide:<key>"), or
    the merge button with its two lists; also the fields `action`, `key`, `into`."""
    act = form.get("act")
    if act is None:
        return form.get("action"), form.get("key"), form.get("into") or None
    action, _, key = act.partition(":")
    if action == "merge":
        return action, form.get("key"), form.get("into") or None
    return action, key, None


# --- template helpers ------------------------------------------------------------------------

def _cloud_version(activity_id: int) -> str:
    """The digest of what the cloud shows now (the `v` of its image URL)."""
    frequencies = images.current_frequencies(activity_id) or {}
    return images.images().digest(frequencies, "light")


@bp.app_template_global("cloud_missing")
def _cloud_missing(activity_id: int) -> list[str]:
    """The words the cloud's last image could not draw (no font for them, or no room)."""
    return images.images().missing.get(activity_id, [])


def _cloud_alt(activity: dict, top: int = 12) -> str:
    """The image's text alternative: the most counted words, as text."""
    words = ((activity.get("results") or {}).get("words") or [])[:top]
    if not words:
        return gettext("Word cloud: no words yet.")
    listed = ", ".join(f"{w['text']} ({w['count']})" for w in words)
    return gettext("Word cloud, most frequent words: %(words)s", words=listed)


def _to_moderate(view: dict) -> list[dict]:
    """The session's word clouds worth moderating (the one on screen first), with their groups."""
    agenda = [a for a in view.get("agenda") or [] if a["kind"] == "wordcloud"]
    current = (view.get("current") or {}).get("id")
    chosen = [a for a in agenda if a["id"] == current or a["state"] != "draft" or a.get("entries")]
    chosen.sort(key=lambda a: (a["id"] != current, a["position"]))
    if not chosen:
        return []
    with store().read() as db:
        result = []
        for a in chosen:
            activity = db.get(Activity, a["id"])
            result.append({"activity": a, "groups": [g.as_dict() for g in service.groups(db, activity)]})
        return result


@bp.app_context_processor
def _template_helpers() -> dict:
    return {"cloud_version": _cloud_version, "cloud_alt": _cloud_alt,
            "wordcloud_moderation": _to_moderate}
