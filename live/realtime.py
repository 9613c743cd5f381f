"""Rooms, roles, the event-handler wrapper and the one broadcaster. The only module that emits.

Rooms: every socket joins `s<session_id>:<role>` (participant, screen, facilitator,
moderator). State changes go to every room as a role-specific snapshot with a version;
live aggregates (vote counts...) are coalesced per activity and pushed at most every
`PUSH_INTERVAL` seconds, never one message per vote.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import current_app, request
from flask_socketio import SocketIO, join_room
from sqlalchemy.exc import DataError

from live.errors import DomainError
from live.loops import guarded
from live.store import storage_problem

log = logging.getLogger(__name__)
socketio = SocketIO()

STAFF_ROLES = ("facilitator", "moderator", "screen")
CLIENT_ID_MAX = 64


@dataclass
class Connection:
    """Who is on the other end of a socket."""

    sid: str
    session_id: int
    role: str
    locale: str
    participant_id: int | None = None

    @property
    def actor(self) -> str:
        """The key under which this client's ids are remembered for replays."""
        if self.role == "participant":
            return f"p{self.participant_id}"
        return f"{self.role[0]}{self.session_id}"


_connections: dict[str, Connection] = {}


def room(session_id: int, role: str) -> str:
    """The room of one role in one session."""
    return f"s{session_id}:{role}"


def register(connection: Connection) -> None:
    """Remember a connected socket and put it in its room."""
    _connections[connection.sid] = connection
    join_room(room(connection.session_id, connection.role))


def forget(sid: str) -> None:
    """Drop a disconnected socket."""
    _connections.pop(sid, None)


def connection() -> Connection | None:
    """The connection of the socket being handled."""
    return _connections.get(request.sid)


def store():
    """The application's store."""
    return current_app.extensions["palabre.store"]


# --- handler wrapper ------------------------------------------------------------------------

class Context:
    """What a socket handler gets: the write transaction, the connection, post-commit effects."""

    def __init__(self, db, conn: Connection):
        self.db = db
        self.conn = conn
        self.effects: list[Callable[[], None]] = []

    def after(self, effect: Callable[[], None]) -> None:
        """Run `effect` once the transaction is committed (emits never run inside it)."""
        self.effects.append(effect)


def error(code: str, conn: Connection | None = None, state: dict | None = None, **params) -> dict:
    """An error ack in the client's language."""
    from live.i18n import message

    locale = conn.locale if conn else None
    body = {"ok": False, "error": {"code": code, "message": message(code, locale, **params)}}
    if state is not None:
        body["state"] = state
    return body


def _rate_limited(conn: Connection) -> bool:
    # A participant's budget is shared by all their sockets and their form posts (one key);
    # a staff socket has its own.
    from live import ratelimit

    key = ratelimit.participant_key(conn.participant_id) if conn.role == "participant" \
        else f"sid:{conn.sid}"
    return not ratelimit.allow(key)


def _check_payload(payload) -> str | None:
    if not isinstance(payload, dict):
        return "bad_payload"
    cid = payload.get("cid")
    if not isinstance(cid, str) or not 1 <= len(cid) <= CLIENT_ID_MAX:
        return "missing_cid"
    if len(repr(payload)) > current_app.config["MAX_EVENT_SIZE"]:
        return "payload_too_large"
    return None


def handler(event: str, roles: tuple[str, ...], write: bool = True):
    """Register a socket handler: checks role, rate, payload and replays; acks after commit.

    The decorated function gets (ctx, payload) and returns the ack's data (a dict).
    """

    def decorate(fn):
        @wraps(fn)
        def wrapped(payload=None):
            conn = connection()
            if conn is None:
                return error("not_joined")
            if conn.role not in roles:
                return error("forbidden", conn)
            if _rate_limited(conn):
                return error("rate_limited", conn)
            problem = _check_payload(payload)
            if problem:
                return error(problem, conn)
            return _run(fn, conn, payload, write, event)

        socketio.on_event(event, wrapped)
        return wrapped

    return decorate


@socketio.on("*")
def _unknown_event(event=None, *_args):
    """An event no handler knows gets an error ack (a client waiting for an ack is not left hanging)."""
    return error("unknown_event", connection())


def _run(fn, conn: Connection, payload: dict, write: bool, event: str) -> dict:
    from live.sessions.model import ClientAck

    cid = payload["cid"]
    try:
        if not write:
            with store().read() as db:
                ctx = Context(db, conn)
                response = {"ok": True, **fn(ctx, payload)}
        else:
            def work(db):
                prior = db.query(ClientAck.response, ClientAck.event).filter_by(
                    actor=conn.actor, client_id=cid).first()
                if prior is not None:
                    if prior.event not in (None, event):  # the id of another message: refused
                        raise DomainError("cid_reused")
                    return None, prior.response  # an idempotent replay: same answer, nothing new stored
                ctx = Context(db, conn)
                answer = {"ok": True, **fn(ctx, payload)}
                db.add(ClientAck(actor=conn.actor, client_id=cid, event=event, response=answer))
                db.flush()
                return ctx, answer

            ctx, response = current_app.extensions["palabre.writer"].run(work)
            if ctx is None:
                return response
    except DomainError as exc:
        return error(exc.code, conn, exc.state, **exc.params)
    except (OverflowError, DataError) as exc:
        # A number no column can hold (an id of 10^20...): the request is malformed. One line,
        # no traceback: a client sending these in a loop must not flood the log.
        log.warning("%s refused: %s", event, exc.__class__.__name__)
        return error("bad_payload", conn)
    except Exception as exc:  # noqa: BLE001 - the server must keep running for every other client
        problem = storage_problem(exc)
        if problem:  # the database is locked or full for now: say so; nothing was written
            log.warning("%s not stored (%s): %s", event, problem, exc.__class__.__name__)
            return error(problem, conn)
        log.exception("handler failed")
        return error("server_error", conn)
    # Committed: now (and only now) tell the others.
    for effect in ctx.effects:
        effect()
    return response


# --- pushes ---------------------------------------------------------------------------------

def push_state(session_id: int) -> None:
    """Send every room of the session its fresh snapshot (after a state change)."""
    from live.sessions.views import snapshot

    with store().read() as db:
        from live.sessions.model import LiveSession

        session = db.get(LiveSession, session_id)
        if session is None:
            return
        views = {role: snapshot(db, session, role) for role in ("participant", *STAFF_ROLES)}
    for role, view in views.items():
        socketio.emit("state", view, to=room(session_id, role))


class Broadcaster:
    """Coalesces live aggregates: at most one push per activity per interval."""

    def __init__(self, app):
        self.app = app
        self.dirty: set[tuple[int, int]] = set()
        # Activities whose revealed results the phones have not had yet (held back by their
        # once-a-second limit); staff rooms are not sent them again.
        self.owed: set[tuple[int, int]] = set()
        self.presence: set[int] = set()
        self.last_presence = 0.0
        self.last_participant_push: dict[int, float] = {}
        self.started = False

    def mark(self, session_id: int, activity_id: int) -> None:
        """Note that an activity's aggregates changed; pushed on the next tick."""
        self.dirty.add((session_id, activity_id))
        if not self.started:
            self.started = True
            socketio.start_background_task(self._loop)

    def mark_presence(self, session_id: int) -> None:
        """Note that participants joined; counts are pushed at most twice a second."""
        self.presence.add(session_id)
        if not self.started:
            self.started = True
            socketio.start_background_task(self._loop)

    def _presence(self) -> None:
        from live.sessions.model import LiveSession

        sessions, self.presence = self.presence, set()
        self.last_presence = time.monotonic()
        for session_id in sessions:
            with store().read() as db:
                live_session = db.get(LiveSession, session_id)
                current = live_session.current_activity_id if live_session else None
            if current is not None:
                self.dirty.add((session_id, current))  # its aggregates carry the count
            elif live_session is not None:
                push_state(session_id)

    def _loop(self) -> None:
        interval = self.app.config["PUSH_INTERVAL"]
        # Runs as long as this app's Socket.IO server is the one in use: an app replaced by
        # another (every test builds one) stops pushing into the new app's rooms.
        server = socketio.server
        while socketio.server is server:
            socketio.sleep(interval)
            # An exception (the database gone for a moment...) is logged; the loop goes on.
            guarded("broadcaster", self._tick)

    def _tick(self) -> None:
        if self.presence and time.monotonic() - self.last_presence >= 0.5:
            with self.app.app_context():
                self._presence()
        if self.dirty or self.owed:
            batch, self.dirty = self.dirty, set()
            owed, self.owed = self.owed, set()
            with self.app.app_context():
                for session_id, activity_id in batch | owed:
                    # One activity failing must not keep the others from being pushed.
                    guarded("broadcaster", self._push, session_id, activity_id,
                            (session_id, activity_id) in batch)

    def _push(self, session_id: int, activity_id: int, staff: bool = True) -> None:
        from live.sessions.views import aggregates

        with store().read() as db:
            data = aggregates(db, activity_id)
        if data is None:
            return
        for role in STAFF_ROLES if staff else ():
            if role == "screen" and not data["revealed"]:
                socketio.emit("results", _without_results(data), to=room(session_id, role))
            else:
                socketio.emit("results", data, to=room(session_id, role))
        if data["revealed"]:
            # Phones get revealed results too, but at most once a second.
            now = time.monotonic()
            if now - self.last_participant_push.get(activity_id, 0) >= 1.0:
                self.last_participant_push[activity_id] = now
                socketio.emit("results", data, to=room(session_id, "participant"))
            else:
                self.owed.add((session_id, activity_id))
        elif staff:
            socketio.emit("results", _without_results(data), to=room(session_id, "participant"))


def _without_results(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "results"}


def mark_presence(session_id: int) -> None:
    """Schedule a coalesced push of the session's participant count."""
    current_app.extensions["palabre.broadcaster"].mark_presence(session_id)


def mark_dirty(session_id: int, activity_id: int) -> None:
    """Schedule a coalesced push of an activity's aggregates."""
    current_app.extensions["palabre.broadcaster"].mark(session_id, activity_id)


def emit_to_session(session_id: int, event: str, data: dict, roles: tuple[str, ...]) -> None:
    """Send one event to some role rooms of a session."""
    for role in roles:
        socketio.emit(event, data, to=room(session_id, role))


def participant_sids(session_id: int, participant_ids) -> dict[int, list[str]]:
    """The connected sockets (phones, tabs) of some participants of a session, by participant."""
    wanted, found = set(participant_ids), {}
    for c in list(_connections.values()):
        if c.session_id == session_id and c.role == "participant" and c.participant_id in wanted:
            found.setdefault(c.participant_id, []).append(c.sid)
    return found


def emit_to_participant(session_id: int, participant_id: int, event: str, data: dict) -> bool:
    """Send one event to one participant's sockets only (never a room); False if none is connected."""
    sids = participant_sids(session_id, [participant_id]).get(participant_id, [])
    for sid in sids:
        socketio.emit(event, data, to=sid)
    return bool(sids)
