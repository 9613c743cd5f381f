"""Socket.IO handlers of sessions: connect (with role), snapshots, facilitator commands."""

from __future__ import annotations

from functools import partial

from flask import has_request_context
from flask_babel import get_locale
from socketio.exceptions import ConnectionRefusedError  # noqa: A004 - not the built-in OSError

from live import realtime, security
from live.errors import DomainError
from live.realtime import Connection, socketio
from live.sessions import capabilities, effects, operations, service
from live.sessions.effects import Effects
from live.sessions.views import phone_snapshot, snapshot
from live.store import app_store


def _link_current(session_id: int, role: str, token: str) -> bool:
    """A staff socket keeps its role while its link is the current one (not rotated since)."""
    with app_store().read() as db:
        return capabilities.is_current(db, session_id, role, token)


def _locale(auth) -> str:
    """The language the socket's client asks for (`auth.lang`; the page always gives it), else
    the one its request asks for (?lang=, the lang cookie, the browser's)."""
    lang = auth.get("lang") if isinstance(auth, dict) else None
    if lang in ("fr", "en"):
        return lang
    if has_request_context():
        return str(get_locale() or "fr")
    with realtime.opening().request_context():
        return str(get_locale() or "fr")


def _identify(db, auth: dict) -> tuple[Connection, int | None]:
    """Who the socket is, from a read: a staff link, or a participant who has joined (with its
    session's state version, read with it). A participant's first socket (no participant yet
    for its cookie) raises `FirstJoin`."""
    locale = _locale(auth)
    sid = realtime.socket_id()
    if "token" in auth:
        live_session, role = service.session_by_token(db, auth["token"])
        still_allowed = partial(_link_current, live_session.id, role, auth["token"])
        return Connection(sid, live_session.id, role, locale, still_allowed=still_allowed), None
    key = realtime.opening().cookie.get("pid")
    phone = service.phone_identity(db, auth.get("code"), key)  # one query, no object loaded
    if not key:
        raise DomainError("no_identity")
    if phone.participant_id is None:
        raise FirstJoin(locale)
    conn = Connection(sid, phone.session_id, "participant", locale, phone.participant_id)
    return conn, phone.version


class FirstJoin(Exception):  # noqa: N818 - not an error: the participant is created by a write
    """A participant's first socket: it joins (a write) before it is identified."""

    def __init__(self, locale: str):
        super().__init__(locale)
        self.locale = locale


def _join(auth: dict, locale: str) -> tuple[Connection, Effects | None]:
    """A participant's first socket: the participant is created (the one write of a connect)."""
    request = realtime.opening()
    with app_store().write() as db:
        live_session = service.session_by_code(db, auth.get("code"))
        participant, changed = operations.join(db, live_session, request.cookie.get("pid"),
                                               request.remote_addr or "")
        return Connection(request.sid, live_session.id, "participant", locale, participant.id), changed


@socketio.on("connect")
@realtime.environ_only  # no request context: the socket's request is `realtime.opening()`
def on_connect(auth=None):
    """Identify the socket (join code + cookie, or a capability token) and send a snapshot.

    A reconnection (and any socket of a participant who has joined) is one read: no write,
    and the snapshot is the session's shared one plus this participant's own parts."""
    if not isinstance(auth, dict):
        _refuse("bad_payload", auth)
    if security.untrusted_host(realtime.opening().host) is not None:  # the page came from a rebound name
        _refuse("host_refused_socket", auth)
    data = None
    try:
        try:
            with app_store().read() as db:
                conn, version = _identify(db, auth)
                data, changed = _snapshot_of(db, conn, version), None
        except FirstJoin as first:
            conn, changed = _join(auth, first.locale)
    except DomainError as exc:
        _refuse(exc.code, auth)
    realtime.register(conn)
    _send_snapshot(conn, data)
    if conn.participant_id is not None:  # one more connected (and maybe joined): counts pushed
        changed = (changed or Effects(conn.session_id)).presence_changed()
    effects.apply(changed)


def _refuse(code: str, auth) -> None:
    error = realtime.error(code, realtime.Connection("", 0, "", _locale(auth)))["error"]
    # The client gets `err.message` (the text) and `err.data` ({code, message}).
    raise ConnectionRefusedError(error["message"], error)


@socketio.on("disconnect")
@realtime.environ_only
def on_disconnect(*_args):
    """Forget the socket; a participant's leaving changes the connected count (pushed coalesced)."""
    conn = realtime.forget(realtime.socket_id())
    if conn is not None and conn.participant_id is not None:
        effects.apply(Effects(conn.session_id).presence_changed())


def _snapshot_of(db, conn: Connection, version: int | None) -> dict | None:
    """The snapshot of a participant's socket, read with its identity (its shared part is the
    view of `version` every phone shares); staff sockets' are read once the socket is registered
    (their `connected` count includes it)."""
    if conn.participant_id is None:
        return None
    return phone_snapshot(db, conn.session_id, version, conn.participant_id)


def _send_snapshot(conn: Connection, data: dict | None = None) -> None:
    if data is None:
        with app_store().read() as db:
            data = snapshot(db, service.get_session(db, conn.session_id), conn.role, conn.participant_id)
    # This socket is on this process: no detour through the message queue.
    realtime.send_to_socket(conn, "snapshot", data)


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
