"""Socket.IO infrastructure: connections, rooms, the handler pipeline and emits.

Rooms: every socket joins `s<session_id>:<role>` (participant, screen, facilitator,
moderator); a participant's sockets (phones, tabs) also join `s<session_id>:p<participant_id>`,
so that a message for one person reaches them on every process (with a message queue).
`handler` registers a socket event: role, rate, payload and replay checks, one write
transaction, the ack, then the effects once committed. This module knows no feature: what a
session looks like (snapshots) and the coalescing broadcaster live in `live.sessions.push`.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps

import flask_socketio
from flask import current_app, request
from flask_socketio import SocketIO
from sqlalchemy.exc import DataError
from werkzeug.wsgi import get_host

from live import acks, connectgate, fastpath, footprint
from live.errors import DomainError
from live.packets import TolerantPacket
from live.store import app_store, storage_problem

log = logging.getLogger(__name__)


_WSGIApp = flask_socketio._SocketIOMiddleware.__bases__[0]  # python-socketio's WSGIApp


class _OneEnviron(flask_socketio._SocketIOMiddleware):
    """Flask-SocketIO's middleware without its copy of every request's environ (to add
    `flask.app` to it): a WebSocket's request lives as long as the socket, and the WSGI server
    keeps the original for as long, so each phone held two (~830 bytes each, 4 MB for 5,000
    phones). `flask.app` goes into the request's own environ."""

    def __call__(self, environ, start_response):
        environ["flask.app"] = self.flask_app
        return _WSGIApp.__call__(self, environ, start_response)


flask_socketio._SocketIOMiddleware = _OneEnviron  # what SocketIO.init_app instantiates


class CountingSocketIO(SocketIO):
    """Flask-SocketIO whose emits to a session's rooms (or to one of its sockets) count in the
    session's footprint: one packet per socket of this process in the room, its JSON size.

    The handlers registered by `handler` run in an application context only: Flask-SocketIO
    builds a whole request context for every event (a request object, URL matching, the cookie
    session decoded and its signer rebuilt), which cost about as much CPU as storing the vote.
    They read who sent the event from `connection()` (the socket id in `_event_sid`), never
    from `request` or the cookie. Connect and disconnect handlers marked `environ_only` run in
    an application context too, reading the socket's request from its WSGI environ
    (`opening()`: the cookie, the address, the page's host); unknown events keep the request
    context."""

    def _handle_event(self, handler, message, namespace, sid, *args):
        if message == "connect":  # answered (accepted or refused): the next socket's turn
            try:
                if getattr(handler, "environ_only", False):
                    return self._handle_opening(handler, message, namespace, sid, *args)
                return super()._handle_event(handler, message, namespace, sid, *args)
            finally:
                connectgate.connected(self.server.get_environ(sid, namespace=namespace))
        if message == "disconnect" and getattr(handler, "environ_only", False):
            return self._handle_opening(handler, message, namespace, sid, *args)
        if not getattr(handler, "app_context_only", False):
            return super()._handle_event(handler, message, namespace, sid, *args)
        environ = self.server.get_environ(sid, namespace=namespace)
        if not environ:  # a socket already gone: as Flask-SocketIO does, nothing is run
            return "", 400
        return run_in_app_context(handler, environ, sid, args)

    def _handle_opening(self, handler, message, namespace, sid, *args):
        """A connect or disconnect handler marked `environ_only`, run in an application context
        with the socket's request read from its WSGI environ (`opening()`): Flask-SocketIO's
        request context for it (a request object, URL matching, the cookie session opened, its
        signer rebuilt) was ~12 % of a reconnection's CPU. Its cookie is decoded by the app's
        session interface as Flask does (`auth.cookie_session`), only when the handler asks."""
        environ = self.server.get_environ(sid, namespace=namespace)
        if not environ:  # a socket already gone: as Flask-SocketIO does, nothing is run
            return "", 400
        if namespace in self.exception_handlers or self.default_exception_handler is not None:
            return super()._handle_event(handler, message, namespace, sid, *args)
        with environ["flask.app"].app_context():
            token = _event_sid.set(sid)
            opened = _opening.set(Opening(sid, environ))
            try:
                if message == "connect":
                    return handler(args[1] if len(args) > 1 else None)
                return handler(*args)
            finally:
                _opening.reset(opened)
                _event_sid.reset(token)

    def emit(self, event, *args, **kwargs):
        target = kwargs.get("to") or kwargs.get("room")
        if isinstance(target, str) and self.server is not None:
            _count_emit(self.server, target, kwargs.get("namespace") or "/", event, args)
        return super().emit(event, *args, **kwargs)


def run_in_app_context(handler, environ: dict, sid: str, args):
    """Run a handler registered by `handler` for the socket `sid` (see `CountingSocketIO`); the
    WebSocket's reader calls it directly for the common event (`live.fastpath`)."""
    with environ["flask.app"].app_context():
        token = _event_sid.set(sid)
        try:
            return handler(*args)
        finally:
            _event_sid.reset(token)


def _count_emit(server, target: str, namespace: str, event: str, args: tuple) -> None:
    connection = _connections.get(target)
    if connection is not None:
        session_id, sockets = connection.session_id, 1
    elif target.startswith("s") and ":" in target and target[1:target.index(":")].isdigit():
        session_id = int(target[1:target.index(":")])
        sockets = len(server.manager.rooms.get(namespace, {}).get(target) or ())
    else:
        return
    footprint.count_out(session_id, footprint.size_of([event, *args]), sockets)


# Malformed packets are read as the client leaving, without a traceback (live/packets.py).
socketio = CountingSocketIO(serializer=TolerantPacket)

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
    # Checked again before every event when set (a staff socket: is its link still the
    # current one?). False: the socket loses its role and is disconnected.
    still_allowed: Callable[[], bool] | None = field(default=None, repr=False, compare=False)

    @property
    def actor(self) -> str:
        """The key under which this client's ids are remembered for replays."""
        if self.role == "participant":
            return f"p{self.participant_id}"
        return f"{self.role[0]}{self.session_id}"


class Opening:
    """The request of the socket whose connect or disconnect is being handled, read from its
    WSGI environ (see `CountingSocketIO._handle_opening`)."""

    __slots__ = ("sid", "environ", "_cookie")

    def __init__(self, sid: str, environ: dict):
        self.sid, self.environ, self._cookie = sid, environ, None

    @property
    def cookie(self):
        """The signed session cookie, decoded (an empty session when missing or forged)."""
        if self._cookie is None:
            from live.auth import cookie_session

            self._cookie = cookie_session(current_app, self.environ)
        return self._cookie

    @property
    def remote_addr(self) -> str | None:
        return self.environ.get("REMOTE_ADDR")

    @property
    def host(self) -> str:
        """`host[:port]` as `request.host` gives it."""
        return get_host(self.environ)

    @contextmanager
    def request_context(self):
        """A whole request context, for what needs one (the locale the request asks for)."""
        with current_app.request_context(self.environ):
            yield


def opening() -> Opening:
    """The socket being connected or disconnected (`environ_only` handlers), or, for a handler
    run in Flask-SocketIO's request context, its request."""
    current = _opening.get()
    if current is not None:
        return current
    return Opening(request.sid, request.environ)


def environ_only(fn):
    """Mark a connect or disconnect handler that reads its request through `opening()` only."""
    fn.environ_only = True
    return fn


def socket_id() -> str:
    """The id of the socket being handled."""
    sid = _event_sid.get()
    return request.sid if sid is None else sid


_connections: dict[str, Connection] = {}
# The socket whose event is being handled (an application-context-only handler, see
# `CountingSocketIO`): each greenlet has its own value.
_event_sid: ContextVar[str | None] = ContextVar("palabre_event_sid", default=None)
_opening: ContextVar[Opening | None] = ContextVar("palabre_opening", default=None)
# session id -> participant id -> sockets open (in this process): the "connected now" count.
_present: dict[int, dict[int, int]] = {}


def room(session_id: int, role: str) -> str:
    """The room of one role in one session."""
    return f"s{session_id}:{role}"


def participant_room(session_id: int, participant_id: int) -> str:
    """The room of one participant's sockets (phones, tabs) in one session."""
    return f"s{session_id}:p{participant_id}"


def register(connection: Connection) -> None:
    """Remember a connected socket and put it in its rooms."""
    _connections[connection.sid] = connection
    server = socketio.server
    server.enter_room(connection.sid, room(connection.session_id, connection.role), namespace="/")
    if connection.participant_id is not None:
        server.enter_room(connection.sid, participant_room(connection.session_id, connection.participant_id),
                          namespace="/")
        present = _present.setdefault(connection.session_id, {})
        present[connection.participant_id] = present.get(connection.participant_id, 0) + 1
        footprint.phones(connection.session_id, len(present))


def forget(sid: str) -> Connection | None:
    """Drop a disconnected socket; the connection it was (None if unknown)."""
    connection = _connections.pop(sid, None)
    if connection is not None and connection.participant_id is not None:
        present = _present.get(connection.session_id, {})
        left = present.get(connection.participant_id, 0) - 1
        if left > 0:
            present[connection.participant_id] = left
        else:
            present.pop(connection.participant_id, None)
            if not present:
                _present.pop(connection.session_id, None)
    return connection


def present_ids(session_id: int) -> set[int]:
    """The participants with at least one socket open on this process in a session."""
    return set(_present.get(session_id, ()))


def present_sessions() -> list[int]:
    """The sessions with at least one participant socket open on this process."""
    return list(_present)


def connected_count(session_id: int) -> int:
    """How many participants have at least one socket open in a session (a phone with two tabs
    counts once): on every process behind a message queue (their sets in Redis), else on this
    one."""
    local = present_ids(session_id)
    shared = getattr(getattr(socketio.server, "manager", None), "slots", None)
    return len(local) if shared is None else shared.connected(session_id, local)


def connection() -> Connection | None:
    """The connection of the socket being handled."""
    sid = _event_sid.get()
    return _connections.get(request.sid if sid is None else sid)


def local_connections() -> list[Connection]:
    """The sockets this process holds (not those of other processes behind a message queue)."""
    return list(_connections.values())


def connection_count() -> int:
    """How many sockets this process holds."""
    return len(_connections)


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


def _rate_limited(conn: Connection) -> dict | None:
    """None if the event may go on, else the refusal (O(1): no query, a cached message); a
    socket that keeps sending while refused is disconnected."""
    # A participant's budget is shared by all their sockets and their form posts (one key);
    # a staff socket has its own.
    from live import ratelimit

    key = ratelimit.participant_key(conn.participant_id) if conn.role == "participant" \
        else f"sid:{conn.sid}"
    if ratelimit.allow(key):
        return None
    if ratelimit.flooding(key):
        log.warning("%s keeps flooding while refused: disconnected", key)
        _cut_off(conn.sid)
    refusal = _refusals.get(conn.locale)
    if refusal is None:
        refusal = _refusals[conn.locale] = error("rate_limited", conn)
    return refusal


_refusals: dict[str, dict] = {}  # locale -> the rate_limited ack (the same for everyone)


def _cut_off(sid: str) -> None:
    """Disconnect a flooding socket and stop reading it. Socket.IO's disconnect alone left the
    Engine.IO connection open until the client closed it, which a hostile one does not, and
    shutting the TCP socket for reading does not stop reads on Linux (what was buffered, and
    what keeps coming, is still delivered): its reader went on reading, unmasking and dropping
    every frame it sent for as long as it sent them. Its Engine.IO socket is closed too
    (Socket.IO's DISCONNECT, Engine.IO's CLOSE, then the WebSocket's close), and its reader
    stops at the next frame (`live.outbox`). Its TCP connection is then reset, not closed
    gracefully (`_abort_when_closed`)."""
    _connections.pop(sid, None)
    server = socketio.server
    environ = server.get_environ(sid, namespace="/") or {}
    eio_sid = server.manager.eio_sid_from_sid(sid, "/")
    server.disconnect(sid, namespace="/")
    eio_socket = server.eio.sockets.get(eio_sid) if eio_sid is not None else None
    if eio_socket is not None:  # not `eio.disconnect`: it waits for the queue to be sent, and a
        # flooder that reads nothing would hold this reader until its socket times out
        eio_socket.close(wait=False, reason=server.eio.reason.SERVER_DISCONNECT)
        server.eio.sockets.pop(eio_sid, None)
    sock = _raw_socket(environ)
    if sock is not None:
        _abort_when_closed(sock)
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass  # already gone


# SO_LINGER on, zero seconds: closing the socket resets the connection.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


def _abort_when_closed(sock) -> None:
    """A flooder's connection is reset (RST) when the server closes it, not ended with a FIN.
    Closed gracefully once the server had read all it had received, the flooder, which never
    reads and whose sends had filled the server's window, was left waiting in its send for
    the window to open (TCP's zero-window probes, seconds apart) instead of failing at once:
    under gevent its sends went on being accepted for 5-6 s after the cut-off, about one time
    in three (tests/test_flood.py)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
    except OSError:
        pass  # already gone


def _raw_socket(environ: dict):
    """The TCP socket under a WebSocket's request (eventlet's, or gevent's pywsgi), or None."""
    raw = environ.get("eventlet.input")
    if hasattr(raw, "get_socket"):
        return raw.get_socket()
    stream = environ.get("wsgi.input")
    if not hasattr(stream, "raw"):
        stream = getattr(stream, "rfile", None)
    return getattr(getattr(stream, "raw", None), "_sock", None)


def _check_payload(payload) -> str | None:
    if not isinstance(payload, dict):
        return "bad_payload"
    cid = payload.get("cid")
    if not isinstance(cid, str) or not 1 <= len(cid) <= CLIENT_ID_MAX:
        return "missing_cid"
    if len(repr(payload)) > current_app.config["MAX_EVENT_SIZE"]:
        return "payload_too_large"
    return None


def handler(event: str, roles: tuple[str, ...], write: bool = True, batched: bool = False):
    """Register a socket handler: checks role, rate, payload and replays; acks after commit.

    The decorated function gets (ctx, payload) and returns the ack's data (a dict).
    `batched`: it writes nothing itself but rows deferred with `store.write_row` (a vote): the
    write queue stores them with the other batched writes of its group commit, one statement
    per table (`live.writer`).
    """

    def decorate(fn):
        @wraps(fn)
        def wrapped(payload=None):
            conn = connection()
            if conn is None:
                return error("not_joined")
            footprint.count_in(conn.session_id, footprint.size_of(payload))
            answer = _checked(fn, conn, payload, write, event, batched)
            footprint.count_out(conn.session_id, footprint.size_of(answer), 1)  # the ack
            return answer

        wrapped.app_context_only = True  # no request context: see CountingSocketIO
        socketio.on_event(event, wrapped)
        fastpath.register(event, wrapped, run_in_app_context)  # read and answered by the WebSocket's reader
        return wrapped

    def _checked(fn, conn: Connection, payload, write: bool, event: str, batched: bool) -> dict:
        refused = _rate_limited(conn)  # first: a flood costs no query
        if refused is not None:
            return refused
        if conn.role not in roles:
            return error("forbidden", conn)
        if conn.still_allowed is not None and not conn.still_allowed():
            disconnect_role(conn.session_id, conn.role)  # e.g. its link was rotated elsewhere
            return error("bad_token", conn)
        problem = _check_payload(payload)
        if problem:
            return error(problem, conn)
        return _run(fn, conn, payload, write, event, batched)

    return decorate


@socketio.on("*")
def _unknown_event(event=None, *_args):
    """An event no handler knows gets an error ack (a client waiting for an ack is not left
    hanging); it counts against the sender's budget like any other."""
    conn = connection()
    refused = _rate_limited(conn) if conn is not None else None
    return refused or error("unknown_event", conn)


def write_work(fn, conn: Connection, payload: dict, event: str) -> Callable:
    """The work a write event queues for its group commit (`WriteQueue.run`): a replayed client
    id gets the answer already given, nothing new; else the handler runs and its answer is
    remembered with it. Returns (its Context, or None for a replay; the answer)."""
    cid = payload["cid"]
    sent = acks.digest(payload)

    def work(db):
        prior = acks.previous(db, conn.actor, cid, event, sent)
        if prior is not None:
            return None, prior  # an idempotent replay: same answer, nothing new stored
        ctx = Context(db, conn)
        answer = {"ok": True, **fn(ctx, payload)}
        acks.remember(db, conn.actor, cid, event, answer, conn.session_id, conn.participant_id, sent)
        return ctx, answer

    return work


def _run(fn, conn: Connection, payload: dict, write: bool, event: str, batched: bool = False) -> dict:
    cid = payload["cid"]
    try:
        if not write:
            with app_store().read() as db:
                ctx = Context(db, conn)
                response = {"ok": True, **fn(ctx, payload)}
        else:
            work = write_work(fn, conn, payload, event)
            ctx, response = current_app.extensions["palabre.writer"].run(work, (conn.actor, cid), batched)
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


# --- emits ------------------------------------------------------------------------------------

def emit_to_session(session_id: int, event: str, data: dict, roles: tuple[str, ...]) -> None:
    """Send one event to some role rooms of a session."""
    for role in roles:
        socketio.emit(event, data, to=room(session_id, role))


SLICE = 200  # sockets of a large room sent a push between two yields (LIVE_PUSH_SLICE)
SLICE_PAUSE = 0.02  # seconds the loop serves the others between two slices, at least (LIVE_PUSH_SLICE_PAUSE)
SPREAD = 0.8  # seconds a large room's push is spread over (LIVE_PUSH_SPREAD)
_slicing: list = []  # the lock of sliced emits: one at a time (made at first use, once
# eventlet or gevent has patched `threading`: a green lock)
_waiting = [0]  # emits waiting for that lock: a paced emit under way sends its rest at once
_hurried: list = []  # (server, event): a paced emit's pause ends when the event is set


@dataclass(frozen=True)
class Pacing:
    """How a push to a large room goes out: `size` sockets at a time, the slices spread over
    `spread` seconds (at most half the phones' tally interval: a tally is out before the next
    one is due) with at least `pause` seconds between two."""

    size: int = SLICE
    pause: float = SLICE_PAUSE
    spread: float = SPREAD

    @classmethod
    def of(cls, config) -> Pacing:
        interval = float(config.get("PHONE_PUSH_INTERVAL", 2.0))
        return cls(max(1, int(config.get("PUSH_SLICE", SLICE))),
                   float(config.get("PUSH_SLICE_PAUSE", SLICE_PAUSE)),
                   min(float(config.get("PUSH_SPREAD", SPREAD)), interval / 2))

    def between(self, sockets: int) -> float:
        """Seconds between two slices of a push to `sockets` sockets."""
        pauses = (sockets - 1) // self.size
        return max(self.pause, self.spread / pauses) if pauses else 0.0


def _slicing_lock():
    if not _slicing:
        _slicing.append(threading.Lock())
    return _slicing[0]


def _hurry_event():
    """The event a paced emit's pause waits on (one per Socket.IO server: tests make many)."""
    server = socketio.server
    if not _hurried or _hurried[0][0] is not server:
        _hurried[:] = [(server, server.eio.create_event())]
    return _hurried[0][1]


def _wake_paced() -> None:
    """Another push now waits behind the paced one under way: its pause ends at once."""
    if _hurried:
        _hurried[0][1].set()


def _pause(seconds: float) -> None:
    """The pause between two slices: `seconds`, or until another push waits behind this one
    (then the rest goes out at once: a `state` push waited for the end of the pause under way,
    a whole `LIVE_PUSH_SLICE_PAUSE`)."""
    if _hurry():
        socketio.sleep(0)
        return
    event = _hurry_event()
    event.clear()
    if not _hurry():  # set between the check and the clear: no wait
        event.wait(seconds)


@contextmanager
def _in_turn():
    """Hold the lock of sliced emits, counted as waiting until it is ours."""
    _waiting[0] += 1
    _wake_paced()
    try:
        lock = _slicing_lock()
        lock.acquire()
    finally:
        _waiting[0] -= 1
    try:
        yield
    finally:
        lock.release()


def emit_in_slices(event: str, data: dict, to: str) -> None:
    """Emit to a room, `PUSH_SLICE` of its sockets at a time, spread over `PUSH_SPREAD` seconds
    (`Pacing`) so that the event loop serves the others meanwhile: queuing a push for 5,000
    phones and waking their 5,000 writer tasks was one stretch of 0.2-0.4 s during which nobody
    else was served (a steady stream of votes saw it every time the phones got their tally),
    slices with only a yield between them still came in one stretch (4,000 phones: 100-300 ms
    of acks queued behind them every 2 s), and slices 20 ms apart still took the machine's
    cores from the votes for 0.4 s with two processes each sending its half at once
    (docs/performance.md). Encoded once. Sliced emits wait for each other, and `emit_whole`
    waits for them: a phone gets the pushes of a room in the order they were made; while
    another emit waits, the rest of the slices go out without pausing (a `state` push does not
    wait for a paced tally). Behind a message queue (several processes) the emit is published
    whole to the others, each of which sends it to its own sockets in slices too (`Deliveries`)."""
    manager = socketio.server.manager
    members = manager.rooms.get("/", {}).get(to) or {}
    pacing = Pacing.of(current_app.config)
    shared = getattr(manager, "slots", None) is not None
    if (len(members) <= pacing.size and not shared) or (shared and not manager.can_publish_alone(data)):
        emit_whole(event, data, to)  # (behind a queue the others may hold many: published paced)
        return
    with _in_turn():
        if shared:
            manager.publish_emit(event, data, to)  # for the other processes' sockets
        _count_emit(socketio.server, to, "/", event, (data,))
        _send_in_slices(event, data, to, pacing)


class Deliveries:
    """The other processes' pushes (behind a message queue), as this process's Redis listener
    hands them over (`live.cluster.RedisQueue`), in the order they were published.

    A push to a large room of this process (the phones' tally: 2,000 phones here) goes out in
    slices spread as the process that made it spreads its own (`emit_in_slices`), from a task
    of its own: sent by the listener itself, it held every push published after it (the
    screen's counts, ten a second) until its last slice, and with no pause between slices it
    held the loop too (0.1-0.2 s for 2,000 phones, in every process at the same instant). A
    push that reaches a socket of a room still being sent to (or any push without a room) waits
    for it, so that each socket gets the pushes in the order they were made, and while one
    waits the rest of the slices go out without pausing; any other push (the screen's, a
    console's) goes out at once."""

    def __init__(self, pacing: Pacing):
        self.pacing = pacing
        self.queue: deque[tuple] = deque()  # (room or None, how to send it), the first under way

    def take(self, room: str | None, push: tuple[str, object, bool] | None,
             whole: Callable[[], None]) -> None:
        """Send a published push to this process's sockets of `room` (None: every socket):
        `push` (event, data, paced) in slices if the room is large here and the push can go so
        (not None), spread if it was paced where it was made (the tally: a facilitator's move
        is sent without pauses), else `whole()`; now or in turn."""
        manager = socketio.server.manager
        members = (manager.rooms.get("/", {}).get(room) or {}) if room is not None else None
        if push is not None and members is not None and len(members) > self.pacing.size:
            event, data, paced = push
            pacing = self.pacing if paced else Pacing(self.pacing.size, 0.0, 0.0)
            self._queue(room, lambda: _send_in_slices(event, data, room, pacing))
        elif self.queue and self._reaches_pending(members):
            self._queue(room, whole)
        else:
            whole()

    def _reaches_pending(self, members) -> bool:
        """Whether a push to `members` (None: every socket) reaches a socket of a room that a
        push still waiting or under way is for."""
        if members is None:
            return True
        rooms = socketio.server.manager.rooms.get("/", {})
        pending = [rooms.get(room) or {} for room, _send in self.queue]
        return any(room is None for room, _send in self.queue) or any(
            sid in big for big in pending for sid in list(members))

    def _queue(self, room: str | None, send: Callable) -> None:
        self.queue.append((room, send))
        if len(self.queue) == 1:
            socketio.start_background_task(self._drain)
        else:
            _wake_paced()

    def hurry(self) -> bool:
        """Whether another push waits behind the one under way."""
        return len(self.queue) > 1

    def _drain(self) -> None:
        while self.queue:
            _room, send = self.queue[0]
            try:
                with _in_turn():
                    send()
            except Exception:  # noqa: BLE001 - one push failing must not stop the others
                log.exception("delivering another process's push failed")
            finally:
                self.queue.popleft()


_deliveries: list[Deliveries] = []  # this process's (`deliveries`), behind a message queue


def deliveries(pacing: Pacing) -> Deliveries:
    """The process's `Deliveries`, paced as given (the app's settings)."""
    if not _deliveries:
        _deliveries.append(Deliveries(pacing))
    _deliveries[0].pacing = pacing
    return _deliveries[0]


def _hurry() -> bool:
    return bool(_waiting[0]) or any(d.hurry() for d in _deliveries)


def _send_in_slices(event: str, data, to: str, pacing: Pacing) -> None:
    from engineio import packet as eio_packet
    from socketio import packet

    manager = socketio.server.manager
    encoded = socketio.server.packet_class(packet.EVENT, namespace="/", data=[event, data]).encode()
    frame = eio_packet.Packet(eio_packet.MESSAGE, encoded)
    sockets = list(manager.get_participants("/", to))
    pause = pacing.between(len(sockets))
    for index, (_sid, eio_sid) in enumerate(sockets):
        if index and index % pacing.size == 0:
            _pause(pause)
        socketio.server._send_eio_packet(eio_sid, frame)


def emit_whole(event: str, data: dict, to: str) -> None:
    """Emit to a room at once, after any sliced emit under way (see `emit_in_slices`)."""
    with _in_turn():
        socketio.emit(event, data, to=to)


def send_to_socket(conn: Connection, event: str, data) -> None:
    """One event to one socket of this process (a snapshot on connect), encoded once: an emit
    walked the whole snapshot looking for binary parts (Palabre sends none) and encoded it twice
    (once to count its size in the session's footprint, once for the wire)."""
    from engineio import packet as eio_packet
    from socketio import packet

    server = socketio.server
    eio_sid = server.manager.eio_sid_from_sid(conn.sid, "/")
    if eio_sid is None:  # gone meanwhile
        return
    encoded = server.packet_class(packet.EVENT, namespace="/", data=[event, data], binary=False).encode()
    footprint.count_out(conn.session_id, len(encoded) + 3, 1)  # as `size_of`: the JSON, give or take
    server._send_eio_packet(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, encoded))


def emit_to_participant(session_id: int, participant_id: int, event: str, data: dict) -> None:
    """Send one event to one participant's sockets only (their own room), wherever they are."""
    socketio.emit(event, data, to=participant_room(session_id, participant_id))


def disconnect_role(session_id: int, role: str) -> int:
    """Take a role away from every socket holding it in a session (its link was rotated): the
    sockets of this process are disconnected now, the role's room is closed in every process
    (message queue); sockets of other processes are refused at their next event
    (`Connection.still_allowed`). Returns how many sockets of this process were cut."""
    sids = [c.sid for c in list(_connections.values()) if c.session_id == session_id and c.role == role]
    for sid in sids:
        _connections.pop(sid, None)
        socketio.server.disconnect(sid, namespace="/")
    socketio.close_room(room(session_id, role))
    return len(sids)
