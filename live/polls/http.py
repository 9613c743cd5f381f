"""Poll forms: voting without JavaScript, and the facilitator's poll editor."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from live.errors import DomainError
from live.i18n import message
from live.polls import operations, service
from live.sessions import effects
from live.sessions import operations as agenda
from live.sessions import service as sessions
from live.sessions.access import participant_form_write, staff_session
from live.validation import MAX_PAPER_ENTRY, PAPER_TYPES, Ranking
from live.web import store

bp = Blueprint("polls", __name__)


def _choice_from_form(form) -> object:
    """The answer of the plain form: `choice` (one or several), or `rank_<option id>=<place>`;
    a ranking is checked in the vote (`validation.ranking`: every place exactly once)."""
    ranks = {k[5:]: v for k, v in form.items() if k.startswith("rank_")}
    if ranks:
        return Ranking(ranks)
    values = form.getlist("choice")
    return values if len(values) != 1 else values[0]


@bp.post("/j/<code>/vote")
def vote(code: str):
    """Store a vote sent by the plain HTML form (the same rules as the socket event)."""
    cid = (request.form.get("cid") or "")[:64]
    choice = _choice_from_form(request.form)
    done, problem = participant_form_write(code, lambda db, live_session, activity, person: operations.vote(
        db, live_session, activity, person, choice, cid or None))
    if problem is not None:
        flash(message(problem.code, **problem.params), "error")
        return redirect(url_for("sessions.participant", code=code))
    if done:  # (session id, activity id, (stored, effects)); None: the form was a replay
        effects.apply(done[2][1])
    flash(message("vote_saved"), "ok")
    return redirect(url_for("sessions.participant", code=code))


def _definition(form) -> tuple[list[str], dict]:
    options = [line for line in form.get("options", "").splitlines()]
    settings = {key: form.get(key) for key in ("max_choices", "scale_max", "label_low", "label_high")
                if form.get(key) not in (None, "")}
    return options, settings


@bp.post("/f/<token>/polls")
def add(token: str):
    """Add a poll to the agenda."""
    session_id = staff_session(token, "facilitator")
    options, settings = _definition(request.form)

    def run(db):
        live_session = sessions.get_session(db, session_id)
        return agenda.agenda_changed(live_session, service.add_poll(
            db, live_session, request.form.get("type"), request.form.get("prompt", ""), options, settings))

    effects.write_or_flash(run)
    return redirect(url_for("sessions.console", token=token))


@bp.route("/f/<token>/polls/<int:activity_id>", methods=["GET", "POST"])
def edit(token: str, activity_id: int):
    """Edit a poll's question and options (while it has no votes)."""
    session_id = staff_session(token, "facilitator")
    if request.method == "POST":
        options, settings = _definition(request.form)

        def run(db):
            live_session = sessions.get_session(db, session_id)
            activity = sessions.get_activity(db, live_session, activity_id)
            service.update_poll(db, live_session, activity, request.form.get("prompt", ""),
                                options, settings)
            return agenda.agenda_changed(live_session, True)

        if effects.write_or_flash(run):
            return redirect(url_for("sessions.console", token=token))
    with store().read() as db:
        live_session = sessions.get_session(db, session_id)
        try:
            activity = sessions.get_activity(db, live_session, activity_id)
        except DomainError:
            return redirect(url_for("sessions.console", token=token))
        options = [o.label for o in service.options_of(db, activity)]
        return render_template("polls/edit.html", token=token, activity=activity, options=options)


def _countable(db, live_session) -> list[dict]:
    """The polls paper counts can go to (single, multiple, scale; open or closed), with their
    options, results and log of entries."""
    polls = []
    for activity in live_session.activities:
        if activity.kind != "poll" or activity.type not in PAPER_TYPES \
                or activity.state not in ("open", "closed"):
            continue
        options = service.options_of(db, activity)
        names = {o.id: o.label for o in options}
        polls.append({"activity": activity, "options": options, "results": service.tally(db, activity),
                      "log": [{"at": e.created_at, "by": e.entered_by, "delta": e.delta,
                               "total": e.total_after, "option": names.get(e.option_id, e.value)}
                              for e in service.paper_log(db, activity)]})
    return polls


@bp.get("/f/<token>/paper")
def paper(token: str):
    """Paper ballots and shows of hands: a form per countable poll, and the log of entries."""
    session_id = staff_session(token, "facilitator")
    with store().read() as db:
        live_session = sessions.get_session(db, session_id)
        return render_template("polls/paper.html", token=token, session=live_session,
                               polls=_countable(db, live_session), limit=MAX_PAPER_ENTRY)


@bp.post("/f/<token>/paper/<int:activity_id>")
def paper_add(token: str, activity_id: int):
    """Add (or correct, negative) a paper count without JavaScript: the same operation as `paper`."""
    session_id = staff_session(token, "facilitator")

    def run(db):
        live_session = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, live_session, activity_id)
        return operations.add_paper(db, live_session, activity, request.form.get("option"),
                                    request.form.get("count"), "facilitator")

    if effects.write_or_flash(run):
        flash(message("paper_saved"), "ok")
    return redirect(url_for("polls.paper", token=token) + f"#p{activity_id}")
