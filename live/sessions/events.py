"""Socket.IO handlers of sessions: connect (with role), snapshots, facilitator commands."""

from __future__ import annotations

from functools import partial

from flask import request
from flask import session as cookie
from flask_babel import get_locale
from socketio.exceptions import ConnectionRefusedError  # noqa: A004 - not the built-in OSError

from live import realtime, security
from live.errors import DomainError
from live.realtime import Connection, socketio
from live.sessions import capabilities, effects, operations, service
from live.sessions.effects import Effects
from live.sessions.views import snapshot
from live.store import app_store


def _link_current(session_id: int, role: str, token: str) -> bool:
    """A staff socket keeps its role while its link is the current one (not rotated since)."""
    with app_store().read() as db:
        return capabilities.is_current(db, session_id, role, token)


def _identify(db, auth: dict) -> tuple[Connection, Effects | None]:
    locale = auth.get("lang") if auth.get("lang") in ("fr", "en") else str(get_locale() or "fr")
    if "token" in auth:
        live_session, role = service.session_by_token(db, auth["token"])
        still_allowed = partial(_link_current, live_session.id, role, auth["token"])
        return Connection(request.sid, live_session.id, role, locale, still_allowed=still_allowed), None
    live_session = service.session_by_code(db, auth.get("code"))
    key = cookie.get("pid")
    if not key:
        raise DomainError("no_identity")
    participant, changed = operations.join(db, live_session, key, request.remote_addr or "")
    return Connection(request.sid, live_session.id, "participant", locale, participant.id), changed


@socketio.on("connect")
def on_connect(auth=None):
    """Identify the socket (join code + cookie, or a capability token) and send a snapshot."""
    if not isinstance(auth, dict):
        _refuse("bad_payload", auth)
    if security.untrusted_host() is not None:  # the page came from a rebound name
        _refuse("host_refused_socket", auth)
    try:
        with app_store().write() as db:
            conn, changed = _identify(db, auth)
    except DomainError as exc:
        _refuse(exc.code, auth)
    realtime.register(conn)
    _send_snapshot(conn)
    if conn.participant_id is not None:  # one more connected (and maybe joined): counts pushed
        changed = (changed or Effects(conn.session_id)).presence_changed()
    effects.apply(changed)


def _refuse(code: str, auth) -> None:
    lang = auth.get("lang") if isinstance(auth, dict) and auth.get("lang") in ("fr", "en") else None
    error = realtime.error(code, realtime.Connection("", 0, "", lang or str(get_locale() or "fr")))["error"]
    # The client gets `err.message` (the text) and `err.data` ({code, message}).
    raise ConnectionRefusedError(error["message"], error)


@socketio.on("disconnect")
def on_disconnect(*_args):
    """Forget the socket; a participant's leaving changes the connected count (pushed coalesced)."""
    conn = realtime.forget(request.sid)
    if conn is not None and conn.participant_id is not None:
        effects.apply(Effects(conn.session_id).presence_changed())


def _send_snapshot(conn: Connection) -> None:
    with app_store().read() as db:
        data = snapshot(db, service.get_session(db, conn.session_id), conn.role, conn.participant_id)
    socketio.emit("snapshot", data, to=conn.sid)


@realtime.handler("sync", roles=("participant", "facilitator", "moderator", "screen"), write=False)
def on_sync(ctx, payload):
    """Send the full snapshot again (clients ask after a gap)."""
    live_session = service.get_session(ctx.db, ctx.conn.session_id)
    return {"snapshot": snapshot(ctx.db, live_session, ctx.conn.role, ctx.conn.participant_id)}


@realtime.handler("command", roles=("facilitator",))
def on_command(ctx, payload):
    """A facilitator drives the session: show, banner, open, close, reveal, hide, reset, end."""
    live_session = service.get_session(ctx.db, ctx.conn.session_id)
    _, changed = operations.command(ctx.db, live_session, payload.get("action"), payload.get("activity"))
    ctx.after(lambda: effects.apply(changed))
    return {"version": live_session.version}


@realtime.handler("timer", roles=("facilitator",))
def on_timer(ctx, payload):
    """The facilitator's timer: {action: start|pause|resume|add|stop, activity, seconds, autoclose}."""
    live_session = service.get_session(ctx.db, ctx.conn.session_id)
    _, changed = operations.timer(ctx.db, live_session, payload.get("activity"), payload.get("action"),
                                  payload.get("seconds"), payload.get("autoclose"))
    ctx.after(lambda: effects.apply(changed))
    return {"version": live_session.version}
