"""The only module that knows the concrete async library (eventlet or gevent).

Everything else uses `socketio.start_background_task` and `socketio.sleep`.
"""

from __future__ import annotations

import errno
import functools
import os
import socket as socket_module
import sys
import time
import types
from collections.abc import Callable

_patched: str | None = None

# The async mode when LIVE_ASYNC_MODE names none (docs/performance.md says why this one).
DEFAULT_MODE = "eventlet"
MODES = ("eventlet", "gevent")


def async_mode() -> str:
    """The async mode chosen by LIVE_ASYNC_MODE (DEFAULT_MODE when it names none)."""
    return os.environ.get("LIVE_ASYNC_MODE") or DEFAULT_MODE


def monkey_patch() -> str:
    """Patch the standard library for the chosen async mode; call before any other import."""
    global _patched
    mode = async_mode()
    if _patched is None:
        if mode == "eventlet":
            # Names resolved in a thread, as gevent does, not by eventlet's resolver over
            # dnspython: 200 more modules, twice over (eventlet keeps a patched copy), 8 MB of
            # each server process (unless EVENTLET_NO_GREENDNS is set to something else).
            os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")
            import eventlet

            eventlet.monkey_patch()
            if os.environ["EVENTLET_NO_GREENDNS"].lower() == "yes":
                _resolve_in_threads()
        elif mode == "gevent":
            import gevent
            from gevent import monkey

            # Each greenlet would keep the stack that spawned it (some 30 frames' worth of
            # objects, about 5 KB per socket) for tracing tools Palabre does not use.
            gevent.config.track_greenlet_tree = False
            monkey.patch_all()
        _patched = mode
    return mode


RESOLVERS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "getnameinfo")


def _resolve_in_threads() -> None:
    """Under eventlet without its resolver: the standard library's (blocking) name lookups run
    in eventlet's thread pool, so that a slow DNS server (a Redis or a database named by a host
    name) never holds the event loop; an address given as digits is read at once."""
    import functools
    import ipaddress
    import socket

    from eventlet import tpool
    from eventlet.green import socket as green_socket
    from eventlet.patcher import original

    blocking = original("socket")

    def in_a_thread(name):
        @functools.wraps(getattr(blocking, name))
        def resolve(host, *args, **kwargs):
            lookup = getattr(blocking, name)
            try:
                literal = host is None or (isinstance(host, str) and bool(ipaddress.ip_address(host)))
            except ValueError:
                literal = False
            return lookup(host, *args, **kwargs) if literal else tpool.execute(lookup, host, *args, **kwargs)

        return resolve

    for name in RESOLVERS:
        setattr(socket, name, in_a_thread(name))
        setattr(green_socket, name, getattr(socket, name))  # its create_connection's


# What python-socketio and python-engineio import for their *clients* when it is installed (the
# development tools: the benchmark's and the tests' phones; `make run` does not install them).
CLIENT_LIBRARIES = ("aiohttp", "requests", "websocket")


def without_client_libraries() -> None:
    """Keep the Socket.IO clients' libraries out of a server process, which never uses them:
    14 MB where they are installed. Call before flask_socketio is imported."""
    for name in CLIENT_LIBRARIES:
        sys.modules.setdefault(name, None)  # `import aiohttp` then fails: the client is left out


class PortInUse(OSError):
    """Another process (another Palabre?) already listens on the port."""

    def __init__(self, port: int):
        super().__init__(f"port {port} is already in use")
        self.port = port


def listen(host: str, port: int, backlog: int = 4096):
    """The server's listening socket, bound now; PortInUse if another process listens there.

    Its backlog (connections the kernel holds until they are accepted, capped by
    net.core.somaxconn) takes a hall reconnecting at once after a restart: eventlet's and
    gevent's default of 50 overflowed and phones waited for their SYN to be sent again.

    SO_REUSEADDR lets a restarted server take its port back at once, but never SO_REUSEPORT
    (eventlet's default), which let a second server share the port: the room was split between
    two processes. Under eventlet/gevent the socket module is patched: the socket is green.
    """
    import socket

    return _listening(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0], port, backlog)


def _listening(found: tuple, port: int, backlog: int, reuseport: bool = False):
    """A socket listening at `found` (a getaddrinfo entry); closed and PortInUse if taken."""
    import errno
    import socket

    family, kind, proto, _name, address = found
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(port) from exc
        raise
    return sock


# Classic BPF (linux/filter.h), for `listen_shared`'s program.
_SO_ATTACH_REUSEPORT_CBPF = 51
_SKF_NET_OFF = -0x100000  # loads relative to the network (IP) header
_BPF_LD_B_ABS, _BPF_LD_W_ABS = 0x30, 0x20
_BPF_RSH_K, _BPF_MOD_K, _BPF_JEQ_K, _BPF_JA, _BPF_RET_A = 0x74, 0x94, 0x15, 0x05, 0x16


class SharedPortUnavailable(OSError):
    """The kernel cannot steer a shared port's connections by client address."""


def steering_program(count: int) -> list[tuple[int, int, int, int]]:
    """The classic BPF program of a shared port's socket group: the index of the socket that
    takes a new connection, (the client's IP address) mod `count`. IPv4: its 32 bits; IPv6:
    the last 32 of its 128 (a dual-stack socket sees both, told apart by the header's version).
    Each instruction is (code, jump if true, jump if false, k)."""
    return [
        (_BPF_LD_B_ABS, 0, 0, _SKF_NET_OFF & 0xFFFFFFFF),  # A = the IP header's first byte
        (_BPF_RSH_K, 0, 0, 4),                              # A = its version
        (_BPF_JEQ_K, 0, 2, 6),                              # IPv6? else skip two
        (_BPF_LD_W_ABS, 0, 0, (_SKF_NET_OFF + 20) & 0xFFFFFFFF),  # IPv6 source, last 32 bits
        (_BPF_JA, 0, 0, 1),
        (_BPF_LD_W_ABS, 0, 0, (_SKF_NET_OFF + 12) & 0xFFFFFFFF),  # IPv4 source
        (_BPF_MOD_K, 0, 0, count),
        (_BPF_RET_A, 0, 0, 0),                              # the socket's index in the group
    ]


def process_of(address: str, count: int) -> int:
    """The index of the process that `steering_program(count)` gives a connection from
    `address` (IPv4, IPv6, or IPv4-mapped IPv6 as a dual-stack socket names it)."""
    import ipaddress

    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (int(ip) & 0xFFFFFFFF) % count


def _attach_steering(sock, count: int) -> None:
    import ctypes
    import socket
    import struct

    program = b"".join(struct.pack("HBBI", *instruction) for instruction in steering_program(count))
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("@HP", len(program) // 8, ctypes.addressof(buffer))
    sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_REUSEPORT_CBPF, fprog)


def listen_shared(host: str, port: int, count: int, backlog: int = 4096) -> list:
    """`count` listening sockets on one port (SO_REUSEPORT), one per server process, whose
    new connections the kernel places by the client's address: every connection from one
    address reaches the same socket, as nginx's `hash $remote_addr` keeps a phone on one
    process (its long-polling requests reach the process that holds its session; the limits
    per address hold). The group's order is the order the sockets start listening in, all
    here, before the processes fork: each process serves one; the first process keeps none
    of the others open, so a socket closes with its process.

    PortInUse if any other socket listens on the port (probed without SO_REUSEPORT: a group
    of another server's would otherwise take ours in); SharedPortUnavailable where the kernel
    has no SO_REUSEPORT or cannot run the program (Linux 4.5 and later can)."""
    import socket

    if not hasattr(socket, "SO_REUSEPORT"):
        raise SharedPortUnavailable("SO_REUSEPORT is not available on this system")
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    _listening(found, port, 1).close()  # without SO_REUSEPORT: refused if anyone listens there
    group: list = []
    try:
        for _ in range(count):
            group.append(_listening(found, port, backlog, reuseport=True))
        try:
            _attach_steering(group[0], count)
        except OSError as exc:
            raise SharedPortUnavailable(f"the kernel refused the program that steers connections "
                                        f"by address ({exc.strerror or exc})") from exc
    except OSError:
        for sock in group:
            sock.close()
        raise
    return group


def after_fork() -> None:
    """In a process forked from a built application (live/launcher.py), before it serves: an
    event loop of its own. gevent's fork (monkey patched) renews its loop by itself; eventlet's
    hub would keep the parent's epoll (the same kernel object: each process would be woken by
    the other's sockets), its timers and its thread pool (threads do not survive a fork)."""
    if _patched != "eventlet":
        return
    import eventlet.hubs
    from eventlet import tpool

    local = eventlet.hubs._threadlocal
    old = getattr(local, "hub", None)
    if old is not None:
        poll = getattr(old, "poll", None)
        if poll is not None and hasattr(poll, "close"):
            poll.close()  # this process's copy of the descriptor only
        del local.hub
    eventlet.hubs.get_hub()
    if tpool._setup_already:  # its threads stayed in the parent
        tpool._setup_already, tpool._threads = False, []
        tpool._reqq = tpool._rspq = tpool._rsock = tpool._wsock = tpool._coro = None


# Queued writes get this long to commit once a stop is asked; their acks this long to leave.
STOP_DRAIN_SECONDS = 3.0
STOP_FLUSH_SECONDS = 0.3


class _StopRequest:
    """Set by SIGTERM or SIGINT; a second Ctrl-C (SIGINT) stops at once. A SIGTERM once a stop
    is under way changes nothing: with several processes (LIVE_PROCESSES) a service manager
    signals every process and the first one signals the others again as it stops."""

    def __init__(self):
        self.signum: int | None = None

    def install(self) -> None:
        import signal

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum, _frame) -> None:
        import signal

        if self.signum is not None:
            if signum == signal.SIGINT:
                os._exit(128 + signum)  # Ctrl-C twice: do not wait for the queued writes
            return
        self.signum = signum  # only a flag: the main task notices it within 0.1 s


# Errors of accept() that mean the listening socket itself is gone; any other (out of open
# files, out of memory, a connection reset before it was accepted) passes: accept() is tried
# again after a pause, doubled up to the longest while it lasts (gevent's servers do the same).
FATAL_ACCEPT_ERRORS = frozenset({errno.EBADF, errno.EINVAL, errno.ENOTSOCK})
ACCEPT_PAUSE, ACCEPT_PAUSE_MAX = 0.005, 1.0
# Connections accepted in a row before the others get a turn of the loop. eventlet's accept
# loop takes every connection waiting in the listen backlog without yielding (gevent's server
# yields every 100): 4,900 phones back at once after a restart held the loop up to 0.52 s.
ACCEPTS_IN_A_ROW = 32
_told = [0.0]  # when cannot_accept last printed


def cannot_accept(exc: OSError) -> None:
    """Say, at most every 10 s, why new connections wait."""
    now = time.monotonic()
    if now - _told[0] < 10:
        return
    _told[0] = now
    import resource

    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    print(f"Palabre cannot accept new connections for now ({exc.strerror}; open-file limit {limit}): "
          f"they wait and are let in as others close. Raise the limit (ulimit -n, docs/deployment.md) "
          f"or lower LIVE_MAX_CONNECTIONS.", file=sys.stderr, flush=True)


# Files a server process keeps open besides its connections: the database, its workers' pipes,
# the listening sockets, Redis, logs (a quarter of a smaller limit).
SPARE_FILES = 256


def open_files_for(connections: int) -> tuple[int, int]:
    """Raise this process's open-file limit (its soft limit, up to the hard one: no privilege
    needed) to what `connections` connections need; (the limit now, the connections it allows).
    A desktop session's default of 1,024 would stop a hall at about a thousand phones."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < want:
        raised = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return soft, connections
    return soft, max(1, min(connections, soft - min(SPARE_FILES, soft // 4)))


class _Door:
    """The listening socket as eventlet.wsgi.server sees it; `close()` stops accepting only.

    Once eventlet's accept loop ends (its socket closed), its clean-up shuts every open
    WebSocket down at once: the acks of the writes still queued would be lost. Here, once
    closed, `accept` never returns: the loop stays where it is and the open connections carry
    the last acks, until the process exits. Every `ACCEPTS_IN_A_ROW` connections, the others
    get a turn of the loop (a storm of reconnections waits in the listen backlog).
    """

    def __init__(self, sock):
        self.sock = sock
        self.closed = False
        self.in_a_row = 0  # connections accepted since this door last yielded

    def accept(self):
        import eventlet

        self.in_a_row += 1
        if self.in_a_row > ACCEPTS_IN_A_ROW:
            self.in_a_row = 1
            eventlet.sleep(0)
        pause = ACCEPT_PAUSE
        while True:
            if not self.closed:
                try:
                    return self.sock.accept()
                except OSError as exc:
                    # eventlet's loop ends on any error of accept, and its clean-up closes the
                    # door for good: out of open files (EMFILE), the next phone would have shut
                    # every later one out, the connections open going on. A passing error waits
                    # (the connection stays in the listen backlog) and is tried again.
                    if not self.closed:
                        if exc.errno in FATAL_ACCEPT_ERRORS:
                            raise
                        cannot_accept(exc)
                        eventlet.sleep(pause)
                        pause = min(pause * 2, ACCEPT_PAUSE_MAX)
                        continue
            eventlet.sleep(3600)

    def close(self) -> None:
        self.closed = True
        self.sock.close()

    def __getattr__(self, name):
        return getattr(self.sock, name)


def serve(app, socketio, listener, max_connections: int, out=print) -> int:
    """Serve on `listener` until SIGTERM or SIGINT, then stop gracefully; return the signal number.

    Stopping: the listening socket is closed (no new connection), the write queue refuses new
    writes ("the server is stopping") and commits the queued ones (at most STOP_DRAIN_SECONDS),
    their acks get STOP_FLUSH_SECONDS to leave, and the function returns. Open connections are
    not waited for: clients reconnect to the next server and resync from their snapshot.
    """
    import signal

    mode = socketio.async_mode
    if mode not in ("eventlet", "gevent"):  # threading (no event loop): Werkzeug, no graceful stop
        host, port = listener.getsockname()[:2]
        listener.close()
        socketio.run(app, host=host, port=port, use_reloader=False, log_output=False,
                     allow_unsafe_werkzeug=True)
        return 0
    _freeze_startup_objects()
    stop = _StopRequest()
    stop.install()
    if mode == "eventlet":
        import eventlet
        import eventlet.wsgi

        _ping_without_a_task()
        _fair_hub()
        _fast_unmask()
        _empty_message_ends_socket()
        _stateless_compression(mode)
        _lean_eventlet_primitives()
        _writer_when_needed(mode)
        door = _Door(listener)
        eventlet.spawn(_eventlet_server, app, door, max_connections)
        stop_accepting = door.close
    else:
        _ping_without_a_task()
        _lean_gevent_websockets()
        _writer_when_needed(mode)
        _fair_gevent_hub()
        _stateless_compression(mode)
        server = _gevent_server(app, listener, max_connections)
        server.start()
        stop_accepting = server.close
    while stop.signum is None:
        socketio.sleep(0.1)
    name = signal.Signals(stop.signum).name
    stop_accepting()
    writer = app.extensions["palabre.writer"]
    out(f"{name}: stopping; no new connections, finishing {writer.queued()} queued write(s)...")
    left = writer.close(STOP_DRAIN_SECONDS)
    socketio.sleep(STOP_FLUSH_SECONDS)
    out("stopped" if not left else f"stopped; {left} write(s) not finished (not acknowledged)")
    return stop.signum


def _eventlet_server(app, door, max_connections: int) -> None:
    """eventlet's WSGI server on `door`, each connection's socket timeout LIVE_HTTP_TIMEOUT."""
    import eventlet.wsgi

    timeout = float(app.config.get("HTTP_TIMEOUT", 60))
    # eventlet.wsgi.server accepts at most 1,024 connections unless max_size is raised. With
    # its default `debug=True` an error escaping the application sent its whole traceback
    # (the server's paths and code) to the client: the log keeps it, the client gets a 500.
    eventlet.wsgi.server(door, direct(app), log_output=False, max_size=max_connections, debug=False,
                         protocol=_made_directly(_small_buffers_protocol(timeout)), socket_timeout=timeout)


def _gevent_server(app, listener, max_connections: int):
    """gevent's WSGI server: a pool of `max_connections` (full, it stops accepting until one
    closes, as eventlet's `max_size`), each connection's socket timeout LIVE_HTTP_TIMEOUT."""
    from gevent import pywsgi

    timeout = float(app.config.get("HTTP_TIMEOUT", 60))
    return pywsgi.WSGIServer(listener, direct(app), log=None, handler_class=_small_buffers_handler(timeout),
                             spawn=max_connections)


# Bytes of eventlet's read and write buffers per connection (8 KB and 16 KB by default; gevent's
# read buffer, 8 KB). They stay allocated as long as the connection is open, and a WebSocket
# reads and writes its raw socket, not them: 24 KB of each phone's ~85 KB. HTTP requests and
# responses pass as well through smaller buffers (a write larger than the buffer goes straight
# to the socket; a phone's request head, about 1 KB, is read in one or two reads).
CONNECTION_BUFFER = 1024


# Messages a gevent WebSocket's reader lets wait before it gives the loop a turn; and messages
# a socket's events are handled for in a row, without the loop turning, before they give it one.
READ_AHEAD = 4


class _InARow:
    """How many messages one WebSocket has handed its handler in a row, without waiting: a
    flooding client's frames are all there already, so its reader never blocked and the loop
    never turned while thousands were handled (refused, then dropped after the cut-off: 70-110
    ms of CPU in tests/test_flood.py, both modes). Every `READ_AHEAD` such messages it gives the
    loop a turn (`give_turn`): timers (the heartbeat, the group commit) and the other sockets
    run. A phone never has that many waiting."""

    __slots__ = ("give_turn", "count", "polls")

    def __init__(self, give_turn: Callable[[], None]):
        self.give_turn = give_turn
        self.count = 0
        self.polls = -1  # eventlet: `_polls` when the last message came

    def one(self, waited: bool) -> None:
        """One message about to be handled; `waited`: the loop turned since the one before."""
        if waited:
            self.count = 0
            return
        self.count += 1
        if self.count >= READ_AHEAD:
            self.count = 0
            self.give_turn()


class _HandshakeDone:
    """What stands for wsproto's handshake once it is over: it has no more events."""

    @staticmethod
    def events():
        return iter(())


def _open_directly(server) -> bool:
    """simple-websocket's handshake for the common request, without h11: the 101 answer written
    as wsproto writes it (`Sec-WebSocket-Accept`, the extensions agreed by wsproto's own
    `server_extensions_handshake` with simple-websocket's `PerMessageDeflate`, that is
    `wsdeflate`'s), then wsproto's frame connection made as its handshake makes it. The server's
    handshake rebuilt the request's text from the WSGI environ for h11 to parse it again: about
    a tenth of a WebSocket's opening under gevent (py-spy, 5,000 phones reconnecting). Whatever
    is not a plain WebSocket GET (a subprotocol, a missing or wrong header) goes through
    simple-websocket's handshake as before: False."""
    environ = server.environ
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "")
    if (environ.get("REQUEST_METHOD") != "GET" or not key or not key.isascii()
            or environ.get("HTTP_UPGRADE", "").lower() != "websocket"
            or "upgrade" not in (t.strip() for t in environ.get("HTTP_CONNECTION", "").lower().split(","))
            or environ.get("HTTP_SEC_WEBSOCKET_VERSION") != "13" or "HTTP_HOST" not in environ
            or "HTTP_SEC_WEBSOCKET_PROTOCOL" in environ or server.subprotocols):
        return False
    from simple_websocket.ws import PerMessageDeflate
    from wsproto import ConnectionType
    from wsproto.connection import Connection
    from wsproto.handshake import server_extensions_handshake
    from wsproto.utilities import generate_accept_token, split_comma_header

    head = [b"HTTP/1.1 101 Switching Protocols", b"Upgrade: websocket", b"Connection: Upgrade",
            b"Sec-WebSocket-Accept: " + generate_accept_token(key.encode("ascii"))]
    offer, extensions = environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS"), []
    if offer:
        deflate = PerMessageDeflate()
        agreed = server_extensions_handshake(split_comma_header(offer.encode("latin-1")), [deflate])
        if agreed:
            head.append(b"Sec-WebSocket-Extensions: " + agreed)
            extensions.append(deflate)
    server.sock.sendall(b"\r\n".join(head) + b"\r\n\r\n")
    server.ws.connection = Connection(ConnectionType.SERVER, extensions)
    server.connected = True
    return True


class _NotStarted:
    """What stands for simple-websocket's reading thread when the reader reads (`LeanServer`)."""

    name = "(_thread)"

    def start(self):
        pass


_NOT_STARTED = _NotStarted()


def _not_started(target=None):
    return _NOT_STARTED


class _NoEvent:
    """What stands for simple-websocket's message Event when the reader reads (`LeanServer`)."""

    __slots__ = ()

    def set(self):
        pass

    def clear(self):
        pass

    def wait(self, timeout=None):
        return True


def _receive_in_reader(server, timeout=None):
    """A gevent WebSocket's next message (`LeanServer.receive`), read from the socket by the
    green thread that asks for it (Engine.IO's reader). simple-websocket read it in a green
    thread of its own per socket, which handed it over through an Event: a second green thread
    for each phone for its whole life, its saved C stack and frame stack (~10 KB a phone)."""
    from simple_websocket.errors import ConnectionClosed

    while server.connected and not server.input_buffer:
        if not _read_once(server, timeout):
            return None
    if server.input_buffer:
        return server.input_buffer.pop(0)
    raise ConnectionClosed(server.close_reason, server.close_message)


def _read_once(server, timeout) -> bool:
    """One read of a gevent WebSocket, its frames parsed and handled as simple-websocket's
    thread did (a ping answered; a close answered, then the socket closed); False if nothing
    came within `timeout` seconds (None: no limit but the socket's own timeout)."""
    import gevent
    from wsproto.utilities import LocalProtocolError

    try:
        if timeout is None:
            data = server.sock.recv(server.receive_bytes)
        else:
            data = None
            with gevent.Timeout(timeout, False):
                data = server.sock.recv(server.receive_bytes)
            if data is None:
                return False
        if not data:
            raise OSError("closed")
        server.ws.receive_data(data)
        server.connected = server._handle_events()
    except (OSError, LocalProtocolError):
        server.connected = False
    if not server.connected:
        server.sock.close()
    return True


def _lean_websocket_server():
    """simple-websocket's server as `_lean_gevent_websockets` wants it (see there)."""
    import socket

    import gevent
    import simple_websocket

    class LeanServer(simple_websocket.Server):
        """simple-websocket's server, read by the socket's own reader (`receive`)."""

        def __init__(self, environ, **kwargs):
            if not kwargs.get("ping_interval"):  # its WebSocket pings need its thread
                kwargs.update(thread_class=_not_started, event_class=_NoEvent)
            super().__init__(environ, **kwargs)

        def receive(self, timeout=None):
            return _receive_in_reader(self, timeout)

        def handshake(self):
            if not _open_directly(self):
                super().handshake()
            if getattr(self.ws, "connection", None) is not None:
                self.ws.handshake = _HandshakeDone()

        def _handle_events(self):
            """What a read brought is parsed and handled in turn (`_fair_gevent_hub`). Its
            reader reads on while the socket has data, without giving the loop a turn: a
            client sending thousands of frames at once held the loop ~160 ms (in CPU) while
            they were parsed, before it was cut off. Once a few of its messages wait, the
            reader pauses 1 ms: a timer, so the loop runs its timers and other sockets
            (`sleep(0)` only passes to greenlets already ready). A phone never has that many
            waiting; tests/test_flood.py measures the stall."""
            if _turns is not None:
                _turns.wait_turn()
            going = super()._handle_events()
            if len(self.input_buffer) >= READ_AHEAD:
                gevent.sleep(0.001)
            return going

        def close(self, reason=None, message=None):
            """Closed by the server (a ping unanswered, a disconnection): the close frame
            is sent, then the connection is shut, as eventlet does. Left open, the reading
            greenlet waited for the phone's answer for ever: a phone gone without a word
            (asleep, out of the Wi-Fi) left its socket and greenlet behind."""
            super().close(reason, message)
            try:
                self.sock.shutdown(socket.SHUT_RDWR)  # its reader sees the end and closes it
            except OSError:
                pass  # already gone

    return LeanServer


def _lean_gevent_websockets() -> None:
    """Under gevent each WebSocket (simple-websocket over wsproto) kept its opening handshake
    for good once it was over: h11's connection state and buffers and the request with all its
    headers, about 3 KB per socket. It is let go of as soon as the socket is open (wsproto
    then only asks it for events, and there are none left). A socket the server closes is shut
    at once, and each socket is read by Engine.IO's reader itself, without a green thread of
    simple-websocket's per socket (`_lean_websocket_server`, `_receive_in_reader`)."""
    import simple_websocket
    from engineio.async_drivers import gevent as engineio_gevent

    if not hasattr(simple_websocket.Server, "handshake") or \
            getattr(engineio_gevent, "SimpleWebSocketWSGI", None) is None:
        return  # another simple-websocket or python-engineio: their own way

    import gevent

    LeanServer = _lean_websocket_server()

    def _pause():  # a timer: the loop runs its timers and other sockets (`sleep(0)` does not)
        gevent.sleep(0.001)

    class LeanWebSocketWSGI(engineio_gevent.WebSocketWSGI):
        def __call__(self, environ, start_response):
            """The socket served; then its descriptor closed. simple-websocket reads through a
            duplicate of the connection's descriptor, which its reading thread closed when it
            ended. Without that thread (`_receive_in_reader`) only the collector closed it, when
            it came to the socket's cycle, and the connection lived on after pywsgi closed its
            own: a flooder cut off went on sending into the kernel's buffers for seconds, never
            reset (tests/test_flood.py), and each WebSocket the server ended kept a descriptor."""
            self.ws = LeanServer(environ, **self.server_args)
            try:
                ret = self.app(self)
            finally:
                self.ws.sock.close()
            if self.ws.mode == "gunicorn":
                raise StopIteration()
            if self.ws.mode == "werkzeug":
                raise ConnectionError()
            return ret

        def wait(self):
            """An empty message is no Engine.IO packet: python-engineio raised on it outside
            its guard, and gevent logged a traceback for each (a log-flooding vector). It ends
            the socket instead, as a closed connection does. A message already waiting is
            handled without the loop turning: every few in a row, a turn (`_InARow`)."""
            in_a_row = getattr(self, "in_a_row", None)
            if in_a_row is None:
                in_a_row = self.in_a_row = _InARow(_pause)
            waited = not self.ws.input_buffer
            message = super().wait()
            in_a_row.one(waited)
            return None if message in ("", b"") else message

    engineio_gevent._async["websocket"] = LeanWebSocketWSGI


class HeadTooSlow(TimeoutError, ValueError):
    """A request's head (its request line and headers) not whole within LIVE_HTTP_TIMEOUT of its
    first byte. A TimeoutError: eventlet closes the connection quietly; a ValueError: gevent
    answers 400 ("invalid request") and closes it."""


def _head_deadline(rfile, seconds: float, start_timer):
    """Wait for the first byte of the connection's next request (each read has the socket's
    timeout), then start and return the timer that raises HeadTooSlow in the connection's task
    unless its head is read whole within `seconds`.

    The socket's timeout is per read: a client sending its head a byte every 59 s (a slow-drip
    attack, as slowloris) kept its connection, its open file and its slot for as long as it
    liked, and enough of them shut the door. As nginx's `client_header_timeout`, the head as a
    whole is given the time; a body, a WebSocket and a held long-poll are not concerned."""
    if not rfile.closed:
        try:
            rfile.peek(1)
        except TimeoutError:
            raise
        except OSError:
            pass  # the server's own read meets it again, and handles it as it always did
    return start_timer(seconds, HeadTooSlow(f"request head not received whole within {seconds:g} s"))


# Bytes a second a request's body must average, past LIVE_HTTP_TIMEOUT, before the server stops
# reading it (`_body_deadline`): an archive of 64 MB on a poor Wi-Fi gets over an hour.
MIN_BODY_RATE = 16 * 1024


def _body_deadline(sock, body, seconds: float, later):
    """For a request with a body: the loop's timer that stops reading it (shuts the socket's
    reading half: the read under way returns what came, the application answers 400 or treats
    the client as gone, the answer still goes out) unless it was read whole within `seconds`
    plus its length at MIN_BODY_RATE. None for a request without a body.

    As for the head (`_head_deadline`): a client trickling its body a byte every 59 s kept its
    connection and its slot for as long as its Content-Length allowed (64 KB: 44 days)."""
    length = body.content_length or 0
    if length <= 0 and not body.chunked_input:
        return None

    def overdue() -> None:
        if body.content_length is None or body.position < body.content_length:
            try:
                sock.shutdown(socket_module.SHUT_RD)
            except OSError:
                pass  # closed meanwhile

    return later(seconds + length / MIN_BODY_RATE, overdue)


def _read(connection, stop: str) -> None:
    """The head or the body of `connection`'s request read (or given up): its deadline's timer
    cancelled (`stop`: the timer's method for it)."""
    for name in ("head_timer", "body_timer"):
        timer = getattr(connection, name)
        if timer is not None:
            setattr(connection, name, None)
            getattr(timer, stop)()


def _gevent_later(seconds: float, fn):
    """A timer of gevent's loop calling `fn` after `seconds` (in the loop: it must not block);
    `close()` cancels it."""
    import gevent

    timer = gevent.get_hub().loop.timer(seconds)
    timer.start(fn)
    return timer


def _small_buffers_handler(timeout: float = 60.0):
    import http.client

    import gevent
    from gevent import pywsgi

    no_headers = http.client.HTTPMessage()  # shared, never written to

    class SmallBuffers(pywsgi.WSGIHandler):
        """gevent's WSGI handler with a CONNECTION_BUFFER-sized read buffer (8 KB by default,
        kept as long as the connection is open; a WebSocket reads its raw socket), which lets
        go of a WebSocket's request headers once its environ is made (pywsgi reads them no
        more; they were kept, parsed, ~2.2 KB, as long as the WebSocket stayed open)."""

        def __init__(self, sock, address, server, rfile=None):
            sock.settimeout(timeout)  # LIVE_HTTP_TIMEOUT, as eventlet's socket_timeout
            super().__init__(sock, address, server, rfile or sock.makefile("rb", CONNECTION_BUFFER))

        head_timer = body_timer = None  # while a request head, a body is read (`_head_deadline`...)

        def handle_one_request(self):
            try:
                return super().handle_one_request()
            finally:
                _read(self, "close")

        def read_requestline(self):
            self.head_timer = _head_deadline(self.rfile, timeout, gevent.Timeout.start_new)
            return super().read_requestline()

        def read_request(self, raw_requestline):
            try:
                return super().read_request(raw_requestline)
            finally:
                _read(self, "close")

        def handle(self):
            """A client gone before its answer is sent (a refused request, a phone leaving):
            nothing to tell anyone. gevent logged a traceback for each."""
            try:
                super().handle()
            except ConnectionError:
                pass

        def get_environ(self):
            environ = super().get_environ()
            body_timer = _body_deadline(self.socket, self.wsgi_input, timeout, _gevent_later)
            if body_timer is not None:
                self.body_timer = body_timer
            if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                self.headers = no_headers
                # No HTTP timeout on a WebSocket: Engine.IO's pings tell a phone gone (its
                # reader, simple-websocket's, reads a copy of this socket, made with its timeout).
                self.socket.settimeout(None)
            return environ

    return SmallBuffers


def _made_directly(cls):
    """What makes eventlet's connection handler, `cls(conn_state, server)`, which serves the
    connection from its `__init__` (a WebSocket's reader waits in it): the object made, then its
    `__init__` called as a method, in the caller's interpreter loop (`direct`): a class called
    goes through C, ~750 bytes of C stack more kept by every phone's reader."""

    def made(conn_state, server):
        handler = cls.__new__(cls)
        handler.__init__(conn_state, server)
        return handler

    return made


def _forget_environ(handler) -> None:
    """An eventlet connection's end (its handler's `finish`): its objects freed at once. Its
    last environ holds eventlet's `set_idle` (and `opened`), closures over the handler, which
    holds the environ: a cycle, so that each connection closed (a join page's through a proxy,
    a phone's gone) left its socket, buffers, headers and environ to the garbage collector's
    next full pass (`collector.py`: up to two minutes later). After 5,000 phones had joined
    through nginx, 1,300-1,800 such connections a process were waiting for it, and the bursts
    that followed took new memory beside them (~20 MB for the two processes)."""
    handler.environ = None


def _small_buffers_protocol(timeout: float = 60.0):
    import http.client

    import eventlet
    import eventlet.hubs
    import eventlet.wsgi

    no_headers = http.client.HTTPMessage()  # shared, never written to

    class SmallBuffers(eventlet.wsgi.HttpProtocol):
        """eventlet's HTTP protocol with CONNECTION_BUFFER-sized buffers, whose WebSockets let go
        of their opening request's headers once open. Each kept them as long as it was open:
        the parsed headers (an `email` message, ~2.7 KB) and the environ's `headers_raw`, a
        second copy of them (~0.5 KB) that nothing reads (the environ's HTTP_* keys hold them)."""

        rbufsize = CONNECTION_BUFFER
        wbufsize = CONNECTION_BUFFER
        head_timer = body_timer = None  # while a request head, a body is read (`_head_deadline`...)

        def handle_one_request(self):
            try:
                return super().handle_one_request()
            finally:
                _read(self, "cancel")

        def _read_request_line(self):
            self.head_timer = _head_deadline(self.rfile, timeout, eventlet.Timeout)
            return super()._read_request_line()

        def parse_request(self):
            try:
                return super().parse_request()
            finally:
                _read(self, "cancel")

        def get_environ(self):
            environ = super().get_environ()
            environ.pop("headers_raw", None)
            body_timer = _body_deadline(self.connection, environ["eventlet.input"], timeout,
                                        eventlet.hubs.get_hub().schedule_call_global)
            if body_timer is not None:
                self.body_timer = body_timer
            set_idle = environ.get("eventlet.set_idle")
            if set_idle is not None:  # eventlet's WebSocket calls it once its handshake is sent

                def opened():
                    set_idle()
                    self.headers = no_headers

                environ["eventlet.set_idle"] = opened
            return environ

        def finish(self):
            try:
                super().finish()
            finally:
                _forget_environ(self)

    return SmallBuffers


def _freeze_startup_objects() -> None:
    """What the start created (modules, the application, SQLAlchemy's mappers...: some 200,000
    objects) lives as long as the process: moved out of the garbage collector's reach, so that
    its full collections, every few hundred connections, scan what came after only (they held
    the loop 0.12-0.15 s of CPU each during a reconnect storm of 500 phones)."""
    import gc

    gc.collect()
    gc.freeze()


# Ready sockets eventlet's hub serves between two passes over its timers (0: all of them).
EVENTS_PER_POLL = 64


_polls = 0  # eventlet's loop's polls so far (`_fair_hub`): it turned when this changed


def _fair_hub() -> None:
    """eventlet's hub serves every socket that epoll reports ready before it looks at its timers
    again: 5,000 phones voting at once were 5,000 reads and handlers in one stretch (~0.65 s),
    during which no timer fired - no group commit (its tasks wake by timer), no ack, no
    heartbeat. Asking epoll for at most `EVENTS_PER_POLL` ready sockets at a time (the others
    stay ready: epoll reports them at the next pass) lets the timers in between: the writes of
    the first sockets are committed and acknowledged while the others are read.
    `LIVE_EVENTS_PER_POLL` overrides it (0: eventlet's own way). Its polls are counted
    (`_polls`): a socket's messages handled with no poll between came in a row (`_InARow`)."""
    import eventlet.hubs

    hub = eventlet.hubs.get_hub()
    cap = int(os.environ.get("LIVE_EVENTS_PER_POLL", EVENTS_PER_POLL))
    epoll = getattr(hub, "poll", None)
    if cap <= 0 or type(hub).__module__ != "eventlet.hubs.epolls" or epoll is None:
        return  # another hub (poll, selects...): its own way

    def do_poll(seconds):
        global _polls
        _polls += 1
        return epoll.poll(-1 if seconds is None else seconds, cap)

    hub.do_poll = do_poll


class _Turns:
    """At most `cap` gevent WebSockets' messages parsed and handled between two passes over the
    loop's timers; the others wait in line, in their order of arrival (`_fair_gevent_hub`)."""

    def __init__(self, loop, cap: int):
        from collections import deque

        from gevent.hub import Waiter

        self.cap = cap
        self.served = 0  # messages handled since the loop last polled
        self.line = deque()
        self.longest = 0  # the longest line seen (tests, benchmarks)
        self._waiter = Waiter
        self._new_turn = loop.prepare()  # runs once per turn of the loop, before it polls
        self._new_turn.start(self._reset)
        self._release = loop.timer(0.0)  # at the next pass over the timers

    def _reset(self) -> None:
        self.served = 0

    def wait_turn(self) -> None:
        """Return at once while this turn has room and nobody waits; else wait in line."""
        self.served += 1
        if self.served <= self.cap and not self.line:
            return
        waiter = self._waiter()
        self.line.append(waiter)
        self.longest = max(self.longest, len(self.line))
        if not self._release.active:
            self._release.start(self._serve_line)
        waiter.get()

    def _serve_line(self) -> None:
        """In the hub, at a pass over the timers: the next `cap` in line handle their messages."""
        try:
            for _ in range(min(self.cap, len(self.line))):
                self.line.popleft().switch(None)
        finally:
            if self.line:
                self._release.start(self._serve_line)


_turns: _Turns | None = None


def turn_figures() -> dict:
    """Under gevent with turns (`_fair_gevent_hub`): the messages waiting in line now and the
    longest line since the start (/healthz); empty otherwise."""
    if _turns is None:
        return {}
    return {"turn_line": len(_turns.line), "turn_line_max": _turns.longest}


def _fair_gevent_hub() -> None:
    """gevent's loop (libev) runs every socket that epoll reports ready before its timers: 5,000
    phones voting at once were 5,000 frames parsed and handled in one stretch, during which no
    timer fired (no group commit, no ack, no heartbeat), as under eventlet (`_fair_hub`) but
    with no cap to ask epoll for. Each WebSocket's reader still reads its socket when it is
    ready (a system call, its bytes kept), but parses and handles them only in turn: at most
    `EVENTS_PER_POLL` per turn of the loop (`LIVE_EVENTS_PER_POLL`; 0: gevent's own way), the
    others in line, served `EVENTS_PER_POLL` at a time at each pass over the timers."""
    global _turns
    import gevent

    cap = int(os.environ.get("LIVE_EVENTS_PER_POLL", EVENTS_PER_POLL))
    if cap > 0 and _turns is None:
        _turns = _Turns(gevent.get_hub().loop, cap)


def unmask(data, mask, length=None, offset=0) -> bytes:
    """`data[:length]` XOR the 4-byte WebSocket `mask` (from its byte `offset`): eventlet's
    `RFC6455WebSocket._apply_mask`, on whole integers instead of byte by byte (it built one
    bytes object per byte of every frame a phone sends: ~5 % of a burst's CPU)."""
    if length is None:
        length = len(data)
    if length <= 0:
        return b""
    key = bytes(mask[(offset + i) % 4] for i in range(4)) * (length // 4 + 1)
    value = int.from_bytes(data[:length], "little") ^ int.from_bytes(key[:length], "little")
    return value.to_bytes(length, "little")


def _fast_unmask() -> None:
    from eventlet import websocket

    websocket.RFC6455WebSocket._apply_mask = staticmethod(unmask)


def _empty_message_ends_socket() -> None:
    """An empty WebSocket message is no Engine.IO packet: python-engineio raised on it outside
    its guard, and eventlet answered the raise by writing an HTTP 500 into the WebSocket's
    stream (and, with its default `debug`, the traceback). It ends the socket instead, as a
    closed connection does: the same as gevent's wrapper (`_lean_gevent_websockets`)."""
    import eventlet
    from eventlet import websocket

    cls = websocket.RFC6455WebSocket
    if getattr(cls, "_palabre_empty_ends", False):
        return
    wait = cls.wait

    def wait_for_a_message(self):
        in_a_row = self.__dict__.get("_palabre_in_a_row")
        if in_a_row is None:
            in_a_row = self._palabre_in_a_row = _InARow(eventlet.sleep)  # sleep(0): a timer
        # eventlet reads each frame from the socket when asked: one already there comes
        # without a switch. The loop turned meanwhile if it polled (`_fair_hub`; without it,
        # every message counts as in a row).
        message = wait(self)
        in_a_row.one(_polls != in_a_row.polls)
        in_a_row.polls = _polls
        return None if message in ("", b"") else message

    cls.wait = wait_for_a_message
    cls._palabre_empty_ends = True


def _stateless_compression(mode: str) -> None:
    from live import wsdeflate

    if mode == "eventlet":
        from eventlet import websocket

        wsdeflate.install(mode, websocket)
    else:
        wsdeflate.install(mode)


@functools.cache
def green_event_class():
    """`threading.Event`'s interface (set, clear, is_set, wait with a timeout) over eventlet's own
    `eventlet.event.Event`. python-engineio gives eventlet `eventlet.green.threading.Event`: the
    standard library's pure-Python Event over a Condition, which allocates a lock for every wait
    and wakes each waiter through a green lock and a semaphore; the write queue waits on one per
    write (`live.writer`). Measured: 20.7 against 13.3 us for a wait and its wake-up (a green
    thread's start included), about 7 us of CPU per vote."""
    import eventlet.event

    class GreenEvent(eventlet.event.Event):
        def is_set(self) -> bool:
            return self.ready()

        def set(self) -> None:
            if not self.ready():
                self.send(True)

        def clear(self) -> None:
            if self.ready():
                self.reset()

        def wait(self, timeout=None) -> bool:
            super().wait(timeout)  # None when the timeout came first
            return self.ready()

    return GreenEvent


class _Getter:
    """A green thread waiting in `GreenQueue.get`."""

    __slots__ = ("greenlet", "deadline", "done")

    def __init__(self, greenlet, deadline):
        self.greenlet, self.deadline, self.done = greenlet, deadline, False


_EMPTY = object()  # what a getter is woken with when its timeout came first


class FewItems(list):
    """What a deque is used for (append, popleft, remove, len) for the few items a socket's
    queues hold: a deque allocates a block of 64 slots even empty (744 bytes), an empty list 56.
    `popleft` moves the rest (a few items: cheaper than the deque's block)."""

    __slots__ = ()

    def popleft(self):
        return self.pop(0)


class GreenQueue:
    """The queue of each Engine.IO socket (the packets its writer task sends) under eventlet:
    what python-engineio uses of `eventlet.queue.Queue` (put, get with or without a timeout,
    task_done, join), for less. eventlet's queue starts a `Timeout` (a timer made, pushed on the
    hub's heap, then cancelled) for every `get(timeout=...)` that waits, which the writer of
    every socket does after each packet it sends (its timeout: the ping interval and timeout,
    45 s), and a waiter object per get. Here a get that waits records its deadline, and the
    queue keeps one timer for its earliest deadline: when it fires, getters past their deadline
    get `queue.Empty`, and it is set again for the next deadline. Measured on a put, a get that
    waited and a switch: 7.8 us with eventlet's queue, 5.0 us here."""

    __slots__ = ("_items", "_getters", "_unfinished", "_all_done", "_handing_out", "_timer_at")
    get_hub = getcurrent = Empty = None  # eventlet's, set by `_lean_eventlet_primitives`

    def __init__(self, maxsize=0):
        self._items = FewItems()
        self._getters: list = []  # rarely more than one (a list: lighter than a deque)
        self._unfinished = 0
        self._all_done = None  # a GreenEvent join() waits on
        self._handing_out = False
        self._timer_at = None  # when the timer of the earliest deadline fires, if one is set

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put(self, item, block=True, timeout=None) -> None:
        self._items.append(item)
        self._unfinished += 1
        if self._getters and not self._handing_out:
            self._handing_out = True
            self.get_hub().schedule_call_global(0, self._hand_out)

    def put_nowait(self, item) -> None:
        self.put(item)

    def _hand_out(self) -> None:
        """From the hub: give the items to the waiting getters, in order."""
        self._handing_out = False
        while self._items and self._getters:
            getter = self._getters.pop(0)
            if not getter.done:
                getter.done = True
                getter.greenlet.switch(self._items.popleft())  # back here when it waits again

    def get(self, block=True, timeout=None):
        if self._items:
            return self._items.popleft()
        if not block or (timeout is not None and timeout <= 0):
            raise self.Empty
        hub = self.get_hub()
        getter = _Getter(self.getcurrent(), None if timeout is None else time.monotonic() + timeout)
        self._getters.append(getter)
        if getter.deadline is not None and (self._timer_at is None or getter.deadline < self._timer_at):
            self._timer_at = getter.deadline
            hub.schedule_call_global(timeout, self._expire, getter.deadline)
        try:
            item = hub.switch()
        finally:
            if not getter.done:  # killed while waiting
                getter.done = True
                self._getters.remove(getter)
        if item is _EMPTY:
            raise self.Empty
        return item

    def get_nowait(self):
        return self.get(block=False)

    def _expire(self, at: float) -> None:
        """From the hub, at the earliest deadline it was set for: getters past theirs get
        `queue.Empty`; the timer is set again for the next deadline."""
        if self._timer_at != at:
            return  # superseded by a timer for an earlier deadline
        self._timer_at = None
        now = time.monotonic()
        for getter in list(self._getters):
            if getter.done or getter.deadline is None:
                continue
            if getter.deadline <= now:
                getter.done = True
                self._getters.remove(getter)
                getter.greenlet.switch(_EMPTY)
            elif self._timer_at is None or getter.deadline < self._timer_at:
                self._timer_at = getter.deadline
        if self._timer_at is not None:
            self.get_hub().schedule_call_global(self._timer_at - now, self._expire, self._timer_at)

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if not self._unfinished and self._all_done is not None:
            self._all_done.set()
            self._all_done = None

    def join(self) -> None:
        if self._unfinished:
            if self._all_done is None:
                self._all_done = green_event_class()()
            self._all_done.wait()


def _lean_eventlet_primitives() -> None:
    """Under eventlet, python-engineio's events (and so the write queue's) are `GreenEvent`s and
    its sockets' queues `GreenQueue`s."""
    from engineio.async_drivers import eventlet as engineio_eventlet

    drivers = getattr(engineio_eventlet, "_async", None)
    if not isinstance(drivers, dict) or "event" not in drivers or "queue" not in drivers:
        return  # another python-engineio: its own way
    import eventlet.hubs
    from eventlet.support import greenlets

    GreenQueue.get_hub = staticmethod(eventlet.hubs.get_hub)
    GreenQueue.getcurrent = staticmethod(greenlets.getcurrent)
    GreenQueue.Empty = drivers["queue_empty"]  # eventlet's `queue.Empty` (the standard library's)
    drivers["event"] = green_event_class()
    drivers["queue"] = GreenQueue
    _fewer_deques()


def _fewer_deques() -> None:
    """Three of the four deques each socket kept under eventlet (744 bytes each, most of them
    empty for the socket's whole life; 2.2 KB a phone) are `FewItems`: the links of its
    connection's green thread (eventlet's server pool links every one), the waiters of its
    WebSocket's send lock; and its WebSocket's message queue of the old (hixie) protocol, which
    an RFC 6455 WebSocket never uses, is not made. (The fourth, the writer's queue, is
    `GreenQueue`'s.)"""
    from eventlet import greenthread, websocket

    if getattr(greenthread.GreenThread.link, "few", False):
        return
    link = greenthread.GreenThread.link

    def few_links(self, func, *args, **kwargs):
        if self._exit_funcs is None:
            self._exit_funcs = FewItems()
        return link(self, func, *args, **kwargs)

    few_links.few = True
    greenthread.GreenThread.link = few_links
    init = websocket.RFC6455WebSocket.__init__

    def lighter(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._msgs = None  # read by the old protocol's `wait` only
        self._sendlock._waiters = FewItems()

    websocket.RFC6455WebSocket.__init__ = lighter


def _ping_without_a_task() -> None:
    """Engine.IO pings each socket from a green thread of its own, asleep for `ping_interval`
    (25 s) between two pings: 7.5 KB of memory per socket under eventlet, more under gevent.
    The ping is a timer of the event loop instead (what that thread did when it woke up: send
    a PING unless closed), every `ping_interval` from the previous ping's sending."""
    import time

    from engineio import packet
    from engineio import socket as engineio_socket

    socket_class = engineio_socket.Socket
    if not hasattr(socket_class, "schedule_ping") or not hasattr(socket_class, "_send_ping"):
        return  # another python-engineio: its own way

    def ping(sock) -> None:
        if not sock.closing and not sock.closed:
            sock.last_ping = time.time()
            try:
                sock.send(packet.Packet(packet.PING))
            except Exception:  # noqa: BLE001, S110 - closed meanwhile: nothing to ping
                pass

    later = _timer_of_the_loop()

    def schedule_ping(sock) -> None:
        # (engineio's rule: only once the previous ping was answered.) The next ping comes
        # `ping_interval` after the previous one was sent, not after its answer was read: a
        # socket read late on a busy server (or answered late by a busy client) was pinged every
        # interval + that delay, and python-engineio's client, which gives up when it has had
        # nothing to send for max(ping_interval, ping_timeout) + 5 s, dropped a screen's socket
        # during a 4,000-phone vote stream.
        sent = sock.last_ping
        if sent:
            sock.last_ping = None
            later(max(0.0, sock.server.ping_interval - (time.time() - sent)), ping, sock)

    socket_class.schedule_ping = schedule_ping


def _writer_when_needed(mode: str) -> None:
    """A WebSocket's writer green thread runs only while it has packets to send
    (live/outbox.py), not for the socket's whole life: ~7 KB less per phone."""
    from live import outbox

    if mode == "gevent":
        import gevent
        import gevent.event

        hub = gevent.get_hub
        writers = outbox.Writers(gevent.spawn_raw, lambda fn, *args: hub().loop.run_callback(fn, *args),
                                 lambda: hub().switch())
        outbox.install(writers.start, gevent.event.Event)
    else:
        import eventlet
        import eventlet.hubs

        hub = eventlet.hubs.get_hub
        writers = outbox.Writers(eventlet.spawn_n, lambda fn, *args: hub().schedule_call_global(0, fn, *args),
                                 lambda: hub().switch())
        outbox.install(writers.start, green_event_class())
    _websocket_called_directly(mode)


def direct(wsgi_app):
    """`wsgi_app`, called with one C-level frame less under each request: an object's bound
    `__call__` rather than the object. CPython 3.11 runs a Python function called from Python
    in its caller's interpreter loop; calling an object goes through C (a new loop, its C
    stack), and a WebSocket's green thread keeps the C stack it waits on, saved, for the
    socket's whole life: ~750 bytes a phone for each such layer under its reader."""
    if isinstance(wsgi_app, (types.FunctionType, types.MethodType)):
        return wsgi_app
    return wsgi_app.__call__


def _websocket_called_directly(mode: str) -> None:
    """python-engineio calls its WebSocket object (`ws(environ, start_response)`) under every
    phone's reader: its bound `__call__` instead (`direct`)."""
    import importlib

    drivers = importlib.import_module(f"engineio.async_drivers.{mode}")._async
    made = drivers.get("websocket")
    if made is None or getattr(made, "direct", False):
        return

    def websocket(handler, server):
        return made(handler, server).__call__

    websocket.direct = True
    drivers["websocket"] = websocket


def _timer_of_the_loop():
    """`later(seconds, fn, *args)`: call fn(*args) from the event loop itself after `seconds`
    (it must not block: a ping only queues a packet)."""
    if "gevent" in sys.modules and async_mode() == "gevent":
        import gevent

        def later(seconds: float, fn, *args) -> None:
            timer = gevent.get_hub().loop.timer(seconds)

            def fire() -> None:
                timer.close()
                fn(*args)

            timer.start(fire)

        return later
    import eventlet.hubs

    return lambda seconds, fn, *args: eventlet.hubs.get_hub().schedule_call_global(seconds, fn, *args)


def exit_now(app, code: int = 0) -> None:
    """End the process at once after `serve` returned: close the database, stop the workers.

    Everything acknowledged is committed already. The render and archive workers are
    terminated rather than asked to finish (a graceful shutdown of the archive worker alone
    took seconds), and the interpreter's own shutdown (joining green threads) is skipped:
    the server then stops within the 5 s a service manager or a venue's Ctrl-C expects.
    """
    import logging
    import multiprocessing
    import sys

    try:
        app.extensions["palabre.store"].dispose()  # the last connection checkpoints SQLite's WAL
        for child in multiprocessing.active_children():
            child.terminate()  # not joined: the pools' own threads wait on them already
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def effective_mode(configured: str) -> str:
    """The async mode to use: the configured one if its library patched this process, else threading.

    The CLI, the test client and plain `flask` commands run unpatched; they must not start an
    event-loop server mode they cannot honour.
    """
    import sys

    if configured == "eventlet" and "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("socket"):
            return "eventlet"
    if configured == "gevent" and "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    return "threading"


# PostgreSQL drivers known to wait for the server without holding the event loop once the
# process is monkey patched: psycopg 3 waits in Python under gevent by itself, and under
# eventlet once its wait function is the select() one (eventlet's green select: no
# 1,024-descriptor limit). Measured by tests/test_multiprocess_postgres.py.
COOPERATIVE_DRIVERS = ("psycopg",)


def cooperative_database(url: str, mode: str) -> None:
    """Under eventlet or gevent, make the PostgreSQL driver wait cooperatively, or refuse to start.

    A driver that waits inside C code (psycopg2 without a wait callback, psycopg 3's C wait
    function, asyncpg...) would freeze every socket of the process while one query waits for a
    lock: StartRefused, naming the driver and what to use instead. SQLite is not concerned (its
    waits for a lock are short and polled: `live.store`).
    """
    if mode not in ("eventlet", "gevent") or not url.startswith("postgresql"):
        return
    from sqlalchemy.engine import make_url

    from live.errors import StartRefused

    driver = make_url(url).get_driver_name()
    if driver == "psycopg":
        from psycopg import waiting

        if mode == "eventlet" and "PSYCOPG_WAIT_FUNC" not in os.environ:
            waiting.wait = waiting.wait_select
        if waiting.wait is getattr(waiting, "wait_c", None):
            raise StartRefused(
                f"psycopg waits for PostgreSQL in C code under {mode} (PSYCOPG_WAIT_FUNC="
                f"{os.environ.get('PSYCOPG_WAIT_FUNC', '')!r}): one slow query would freeze "
                "every connection. Unset PSYCOPG_WAIT_FUNC.")
        return
    if driver not in COOPERATIVE_DRIVERS:
        raise StartRefused(
            f"the PostgreSQL driver {driver!r} would block the whole server under {mode} while "
            "a query waits (a lock held by another session froze every socket): use "
            "LIVE_DATABASE_URL=postgresql+psycopg://... (psycopg 3, in requirements.txt).")
