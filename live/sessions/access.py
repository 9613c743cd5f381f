"""Who may act on a session from HTTP: staff capability links and participants' form posts."""

from __future__ import annotations

import hashlib

from flask import abort, g, request, session

from live import acks, auth, ratelimit
from live.errors import DomainError
from live.i18n import message
from live.sessions import service
from live.web import store


def staff_session(token: str, role: str) -> int:
    """The id of the session this capability token opens for `role`, or a 404 page."""
    with store().read() as db:
        try:
            live_session, granted = service.session_by_token(db, token)
        except DomainError:
            granted = None
        if granted != role:
            abort(404, description=message("bad_token"))
        g.footprint_session = live_session.id  # this response counts in its footprint
        return live_session.id


def participant_form_write(code: str, fn,
                           with_activity: bool = True) -> tuple[tuple | None, DomainError | None]:
    """Run a participant's plain-form action once: `fn(db, session, activity, participant)`.

    The form's hidden `cid` makes a form sent twice (a double tap, a reload) a no-op, as for
    socket events; the same `cid` with other fields is refused (`cid_reused`). Returns
    ((session_id, activity_id, outcome) or None if replayed, None) on success, or
    (None, the DomainError) when refused; nothing is stored then. A form about no activity (the
    room's pulse) passes `with_activity=False`: `fn` gets None as the activity.
    """
    key = auth.device_key()
    cid = (request.form.get("cid") or "")[:64]
    sent = acks.digest(request.form.to_dict(flat=False), ("cid", "csrf_token"))

    def run(db):
        live_session = service.session_by_code(db, code)
        g.footprint_session = live_session.id  # this response counts in its footprint
        if service.find_participant(db, live_session, key) is None \
                and not ratelimit.allow_join(request.remote_addr or ""):
            raise DomainError("rate_limited")  # a new participant: its address's joins
        person = service.join(db, live_session, key)
        if not ratelimit.allow(ratelimit.participant_key(person.id)):
            raise DomainError("rate_limited")  # the same budget as the participant's sockets
        actor = f"p{person.id}"
        if cid and acks.previous(db, actor, cid, "form", sent) is not None:
            return None  # the same form sent twice
        activity = service.get_activity(db, live_session, request.form.get("activity", type=int)) \
            if with_activity else None
        outcome = fn(db, live_session, activity, person)
        if cid:
            acks.remember(db, actor, cid, "form", {"ok": True}, live_session.id, person.id, sent)
        return live_session.id, activity.id if activity else None, outcome

    try:
        with store().write() as db:
            return run(db), None
    except DomainError as exc:
        return None, exc


# --- what a phone keeps -----------------------------------------------------------------------

KEPT_FIELDS = {"text": 280, "name": 40, "column": 4}  # what a refused form gives back, cut to size


def keep_text(activity_id) -> None:
    """A participant's form was refused (closed activity, rate limit, a text too long...): keep
    what was typed, for the next page to put back in the form (`take_kept_text`). In the signed
    session cookie, cut to size, like the flashed message that says why."""
    kept = {key: request.form.get(key, "")[:size] for key, size in KEPT_FIELDS.items()}
    if kept["text"] or kept["name"]:
        session["kept"] = {"activity": activity_id, **kept}


def take_kept_text() -> dict | None:
    """What `keep_text` kept (once): {"activity", "text", "name", "column"}, or None."""
    kept = session.pop("kept", None)
    return kept if isinstance(kept, dict) else None


def outbox_name(device_key: str) -> str:
    """The name of this participant's outbox on the phone (static/js/core.js keeps what waits to
    be sent under it, per session): derived from the cookie's id, which it does not reveal."""
    return hashlib.sha256(f"outbox:{device_key}".encode()).hexdigest()[:16]
