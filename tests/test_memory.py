"""Memory with a hall connected: what each phone's socket costs the server, in both async modes.

A hall of 5,000 phones must fit in 400 MB with the server's workers (issue 12). The bound per
socket here is loose (a few hundred sockets; the machine is shared): it catches what would
double the cost of a socket, such as a zlib compressor kept by every socket for WebSocket
compression, which every browser offers (measured with 200 phones: 184 KB per socket against
60 KB under eventlet, 191 KB against 82 KB under gevent).
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import zlib
from base64 import b64encode
from pathlib import Path

import pytest
from realserver import prepare, prepare_wordcloud
from support import (
    Listener,
    children,
    connect,
    join_cookie,
    open_poll,
    send_word,
    server,
    server_room,
    wait_until,
)

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
PER_SOCKET_KB = 120  # measured 60 KB (eventlet) and 82 KB (gevent); 184-191 KB with compression
OFFER = "permessage-deflate; client_max_window_bits"  # what Chromium and Firefox send


def handshake(port: int, extensions: str) -> str:
    """The head of the server's answer to a WebSocket handshake offering `extensions`."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        return open_websocket(sock, port, extensions)


def open_websocket(sock: socket.socket, port: int, extensions: str = "") -> str:
    """Send a WebSocket handshake (Engine.IO's) on `sock`; the head of the server's answer."""
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {b64encode(b'palabre-memory12').decode()}\r\n"
        f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n")
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return head.split(b"\r\n\r\n")[0].decode("latin-1")


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_websocket_compression_keeps_no_context_between_messages(tmp_path, mode):
    """A browser's offer of permessage-deflate is agreed without context takeover either way and
    with the phone's smallest window (live/wsdeflate.py): a large message (the snapshot) arrives
    compressed on its own, readable by a fresh inflater; small ones (Engine.IO's open packet)
    arrive plain; the phone's own compressed messages (its CONNECT, a vote), each compressed on
    its own, are understood."""
    from live import wsdeflate

    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    with server(setup.database, mode) as running:
        cookie = join_cookie(running.url, setup.code)
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
            frames = Frames(sock)
            head = frames.open(running.port, OFFER, cookie)
            agreed = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
                      if line.lower().startswith("sec-websocket-extensions:")]
            assert head.startswith("HTTP/1.1 101") and len(agreed) == 1, head
            params = {p.strip() for p in agreed[0].split(";")}
            assert {"permessage-deflate", "server_no_context_takeover", "client_no_context_takeover",
                    f"client_max_window_bits={wsdeflate.CLIENT_WINDOW_BITS}"} <= params, params
            frames.window_bits = wsdeflate.CLIENT_WINDOW_BITS
            opened, compressed = frames.next()
            assert opened.startswith("0{") and not compressed  # small: as it is
            frames.send("40" + json.dumps({"code": setup.code, "lang": "en"}))
            seen = frames.until(lambda text: text.startswith('42["snapshot"'))
            snapshot, compressed = seen[-1]
            assert compressed and len(snapshot) >= wsdeflate.MIN_BYTES, (len(snapshot), compressed)
            assert all(not c for text, c in seen if len(text) < wsdeflate.MIN_BYTES), seen
            vote = {"cid": "memory12-1", "activity": setup.activity, "choice": setup.options[0]}
            frames.send("421" + json.dumps(["vote", vote]))
            answer, _ = frames.until(lambda text: text.startswith("431"))[-1]
    assert '"ok":true' in answer.replace(" ", ""), answer


class Frames:
    """WebSocket frames over a raw socket, as a phone's browser sends and reads them: each
    message it sends compressed on its own; each compressed one it reads inflated by a fresh
    inflater (no context kept, as agreed), so that one relying on an earlier message fails."""

    def __init__(self, sock: socket.socket):
        self.sock, self.buffer = sock, b""
        self.window_bits = 15  # the window the phone compresses with (as agreed)

    def open(self, port: int, extensions: str, cookie: str) -> str:
        """The WebSocket handshake (Engine.IO's); the head of the server's answer."""
        self.sock.sendall(
            ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
             f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
             f"Sec-WebSocket-Key: {b64encode(b'palabre-memory12').decode()}\r\n"
             f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            assert chunk, self.buffer
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        return head.decode("latin-1")

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the socket"
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def next(self) -> tuple[str, bool]:
        first, second = self._read(2)
        assert first & 0x80, "a fragmented message"
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(self._read(2), "big")
        elif length == 127:
            length = int.from_bytes(self._read(8), "big")
        payload, compressed = self._read(length), bool(first & 0x40)
        if compressed:
            payload = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        if first & 0x0F == 0x9:  # a ping (none expected this soon): answered
            return self.next()
        return payload.decode(), compressed

    def until(self, done, limit: int = 50) -> list[tuple[str, bool]]:
        seen = []
        for _ in range(limit):
            seen.append(self.next())
            if seen[-1][0] == "2":  # Engine.IO's ping
                self.send("3", compress=False)
            if done(seen[-1][0]):
                return seen
        raise AssertionError(f"not received: {seen}")

    def send(self, text: str, compress: bool = True) -> None:
        payload = text.encode()
        if compress:
            deflater = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.window_bits)
            payload = (deflater.compress(payload) + deflater.flush(zlib.Z_SYNC_FLUSH))[:-4]
        mask = b"mask"
        head = bytes([0x81 | (0x40 if compress else 0)])
        size = len(payload)
        head += bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_connected_phone_costs_the_server_a_bounded_memory(mode):
    """200 phones (each offering compression, as browsers do) join through the real server: the
    server's resident memory grows by less than PER_SOCKET_KB per phone."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "load", "--scenario", "join", "--participants", "200",
         "--clients", "1", "--mode", mode, "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["joined"] == 200 and figures["failed"] == 0, figures
    assert 0 < figures["server_rss_per_socket_kb"] < PER_SOCKET_KB, figures


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_worker_processes_start_when_a_cloud_needs_them_and_stop_when_idle(tmp_path, mode):
    """No process but the server's own at start and while phones join; a word cloud's command
    starts its render worker (and multiprocessing's resource tracker); both stop once idle for
    WORKER_IDLE_SECONDS; the next entry starts them again and its image reaches the screen."""
    setup = prepare_wordcloud(tmp_path / "palabre.db")
    with sqlite3.connect(setup.database) as db:  # the join banner on screen, not the cloud
        db.execute("update live_sessions set current_activity_id = null")
    with server_room(tmp_path, mode, setup=setup, WORKER_IDLE_SECONDS=1) as the_room:
        pid = the_room.server.process.pid
        phone = connect(the_room.url, {"code": setup.code, "lang": "en"},
                        cookie=join_cookie(the_room.url, setup.code))
        the_room.phones.append(phone)
        assert children(pid) == [], "a worker process started with the server"
        the_room.command("show")  # the cloud on screen: its render worker starts
        assert wait_until(lambda: len(children(pid)) >= 2, 30), children(pid)
        assert wait_until(lambda: children(pid) == [], 60), f"still running when idle: {children(pid)}"
        the_room.command("close")
        assert wait_until(lambda: children(pid) != [], 30)
        the_room.command("open")
        heard = Listener("cloud")
        the_room.phones.append(connect(the_room.url, {"token": setup.screen, "lang": "en"}, listener=heard))
        assert send_word(phone, setup, "sobriété")["ok"]
        assert heard.wait_for(lambda listener: listener.count("cloud") > 0, 30), "no image after the restart"


def test_a_server_restarted_with_a_cloud_on_screen_starts_its_render_worker(tmp_path):
    setup = prepare_wordcloud(tmp_path / "palabre.db")
    with server(setup.database) as running:
        assert wait_until(lambda: len(children(running.process.pid)) >= 2, 30)


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_pings_come_from_timers_of_the_loop_at_the_interval(tmp_path, mode):
    """Engine.IO's pings are timers of the event loop, not a green thread asleep per socket
    (several KB each): a socket answering them is pinged at the interval, again and again."""
    import websocket

    database = tmp_path / "palabre.db"
    prepare(database)
    with server(database, mode, PING_INTERVAL=1, PING_TIMEOUT=5) as running:
        address = running.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        raw = websocket.create_connection(address, timeout=10)
        try:
            assert json.loads(raw.recv()[1:])["pingInterval"] == 1000
            started, pings = time.monotonic(), 0
            while pings < 4 and time.monotonic() - started < 20:
                if raw.recv() == "2":
                    pings += 1
                    raw.send("3")
            assert pings == 4 and 2.5 <= time.monotonic() - started <= 15
        finally:
            raw.close()


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_phone_gone_silent_is_let_go_of_connection_included(tmp_path, mode):
    """A phone that vanishes (no answer to pings, not even to the close) is closed after
    PING_INTERVAL + PING_TIMEOUT, its TCP connection included: under gevent simple-websocket
    waited for the phone's answer to its close for ever, a socket and its greenlet left behind
    for each phone gone."""
    database = tmp_path / "palabre.db"
    prepare(database)
    with server(database, mode, PING_INTERVAL=1, PING_TIMEOUT=1) as running, \
            socket.create_connection(("127.0.0.1", running.port), timeout=20) as sock:
        assert open_websocket(sock, running.port).startswith("HTTP/1.1 101")
        started, ended = time.monotonic(), False
        while not ended and time.monotonic() - started < 20:  # the server's frames, never answered
            try:
                ended = sock.recv(4096) == b""
            except TimeoutError:
                break
        assert ended, "the server kept the silent phone's connection open"


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_phone_that_talks_but_never_answers_pings_is_let_go(tmp_path, mode):
    """A phone that keeps sending (Engine.IO NOOPs) but never answers a ping is let go after
    PING_INTERVAL + PING_TIMEOUT: its connection ends (python-engineio sends no CLOSE packet
    then). Under eventlet the packets of a WebSocket are sent by a writer started when one is
    queued, not by one waiting for the socket's whole life (live/outbox.py): the WebSocket is
    still closed, at the same time."""
    import websocket

    database = tmp_path / "palabre.db"
    prepare(database)
    with server(database, mode, PING_INTERVAL=1, PING_TIMEOUT=2) as running:
        address = running.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        raw = websocket.create_connection(address, timeout=1)
        seen, ended, started = [], False, time.monotonic()
        try:
            assert raw.recv().startswith("0{")
            while not ended and time.monotonic() - started < 30:
                raw.send("6")  # talking, never answering the pings
                try:
                    message = raw.recv()
                except websocket.WebSocketTimeoutException:
                    continue
                except websocket.WebSocketConnectionClosedException:
                    ended = True
                    continue
                ended = message == ""
                seen.append(message)
        finally:
            raw.close()
        assert "2" in seen and ended, seen
        assert 3 <= time.monotonic() - started < 20


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_phone_gets_every_answer_of_a_quick_series_once(tmp_path, mode):
    """A phone sends 60 events in one write: it gets 60 answers, one for each, none twice
    (under eventlet its writer starts and ends as packets come, live/outbox.py)."""
    setup = prepare(tmp_path / "palabre.db")
    with server(setup.database, mode, RATE_LIMIT_PER_10S=100000) as running:
        cookie = join_cookie(running.url, setup.code)
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
            frames = Frames(sock)
            assert frames.open(running.port, "", cookie).startswith("HTTP/1.1 101")
            frames.until(lambda m: m.startswith("0{"))
            frames.send("40" + json.dumps({"code": setup.code, "lang": "en"}), compress=False)
            frames.until(lambda m: m.startswith("40"))
            for number in range(60):
                frames.send(f'42{number}["no_such_event", {{}}]', compress=False)
            answers: list[str] = []

            def all_answered(message: str) -> bool:
                if message.startswith("43"):
                    answers.append(message)
                return len(answers) >= 60

            frames.until(all_answered, limit=300)
            numbers = [int(m[2:m.index("[")]) for m in answers]
            assert sorted(numbers) == list(range(60)), numbers


def test_a_server_loads_the_libraries_of_walls_clouds_and_qr_codes_when_first_used(tmp_path):
    """A hall of phones voting keeps out of memory what only a moderation queue (rapidfuzz), a
    word cloud's words (snowballstemmer) or a QR code (segno) need: about 5 MB per process, each
    loaded by its first use."""
    database = tmp_path / "palabre.db"
    prepare(database)
    probe = ("import sys; from live import create_app; create_app({'DATABASE_URL': sys.argv[1], "
             "'SECRET_KEY': 'k'}); lazy = ('rapidfuzz', 'snowballstemmer', 'segno'); "
             "print(sorted(m for m in lazy if m in sys.modules)); "
             "from live.wordclouds.normalize import group_key; from live.qr import qr_svg; "
             "from live.boards.similar import duplicates; group_key('durables', 'fr'); "
             "qr_svg('http://127.0.0.1/j/ABC'); duplicates([(1, 'réparer')], [(2, 'réparer')]); "
             "print(sorted(m for m in lazy if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe, f"sqlite:///{database}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-2:] == ["[]", "['rapidfuzz', 'segno', 'snowballstemmer']"]


def test_eventlet_resolves_names_in_a_thread_without_dnspython(tmp_path):
    """Under eventlet a server leaves out eventlet's resolver and dnspython (8 MB of each
    process): a name is resolved in a thread, and a slow lookup does not hold the event loop
    (a green thread ticks every 10 ms meanwhile)."""
    database = tmp_path / "palabre.db"
    prepare(database)
    probe = """
import os, sys, time
os.environ["LIVE_ASYNC_MODE"] = "eventlet"
from live import runtime
runtime.monkey_patch()
from live import create_app
create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "k"})
import socket
import eventlet
from eventlet.patcher import original
blocking, pause = original("socket"), original("time").sleep
lookup = blocking.getaddrinfo
blocking.getaddrinfo = lambda *args, **kwargs: (pause(0.5), lookup(*args, **kwargs))[1]
ticks = []
def tick():
    while len(ticks) < 200:
        ticks.append(time.monotonic())
        eventlet.sleep(0.01)
ticker = eventlet.spawn(tick)
eventlet.sleep(0.05)
started = time.monotonic()
address = socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)[0][4][0]
took = time.monotonic() - started
ticker.kill()
during = [t for t in ticks if started <= t <= started + took]
print("dns" in sys.modules, address, round(took, 2), len(during))
"""
    done = subprocess.run([sys.executable, "-c", probe, f"sqlite:///{database}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded, address, took, ticks = done.stdout.split()
    assert loaded == "False" and address in ("127.0.0.1", "::1"), done.stdout
    assert float(took) >= 0.5 and int(ticks) >= 10, done.stdout  # the loop went on meanwhile


def test_a_waiting_reader_keeps_no_c_stack_for_the_wsgi_layers_objects():
    """A phone's reader waits under every WSGI layer for the socket's whole life, and greenlet
    keeps the C stack it waits on: a layer that is an object called (Flask's app, the Socket.IO
    middleware, Engine.IO's WebSocket) added ~750 bytes of it per phone; called through
    `runtime.direct` (its bound `__call__`), none."""
    import tracemalloc

    import greenlet

    from live import runtime

    class Layer:
        def __init__(self, inner):
            self.inner = inner

        def __call__(self, environ):
            return self.inner(environ)

    main = greenlet.getcurrent()

    def saved_per_reader(wrap) -> float:
        app = lambda environ: main.switch()  # noqa: E731 - the reader's wait
        for _ in range(4):
            app = wrap(Layer(app))
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            readers = [greenlet.greenlet(app) for _ in range(200)]
            for reader in readers:
                reader.switch({})
            return (tracemalloc.get_traced_memory()[0] - before) / len(readers)
        finally:
            tracemalloc.stop()
            for reader in readers:
                reader.throw(greenlet.GreenletExit)

    called = saved_per_reader(lambda layer: layer)
    direct = saved_per_reader(runtime.direct)
    assert called - direct > 4 * 500, (called, direct)


def test_the_application_calls_no_object_under_a_request(tmp_path):
    """What the WSGI server calls, and each layer of Palabre's in turn, is a function or a
    bound method: no object called through C under a phone's reader (see above)."""
    import types

    from live import create_app, runtime

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", "SECRET_KEY": "k"})
    plain = (types.FunctionType, types.MethodType)
    assert isinstance(runtime.direct(app), types.MethodType)
    layer, seen = app.wsgi_app, 0
    while isinstance(layer, types.FunctionType) and layer.__closure__:
        layer = next(c.cell_contents for c in layer.__closure__  # the layer it wraps
                     if callable(c.cell_contents) and not isinstance(c.cell_contents, type))
        assert isinstance(layer, plain), layer
        seen += 1
    assert seen >= 1


def test_eventlets_connection_handler_is_made_without_a_c_level_call():
    """eventlet serves a connection from its handler's `__init__` (a phone's reader waits in
    it): made by `runtime._made_directly`, the handler runs it in the caller's interpreter
    loop, and keeps ~750 bytes less of saved C stack per phone; it serves all the same."""
    import tracemalloc

    import greenlet

    from live import runtime

    main = greenlet.getcurrent()

    class Handler:
        def __init__(self, conn_state, server):
            self.served = conn_state
            main.switch()  # the reader's wait

    def saved_per_reader(make) -> float:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            readers = [greenlet.greenlet(lambda: make("conn", "server")) for _ in range(200)]
            for reader in readers:
                reader.switch()
            return (tracemalloc.get_traced_memory()[0] - before) / len(readers)
        finally:
            tracemalloc.stop()
            for reader in readers:
                assert isinstance(reader.switch(), Handler)  # served, then made

    called = saved_per_reader(Handler)
    direct = saved_per_reader(runtime._made_directly(Handler))
    assert called - direct > 500, (called, direct)


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_closed_http_connection_is_freed_at_once(tmp_path, mode):
    """A connection the server is done with (a join page's, through a proxy that closes each
    upstream connection; a phone gone) is freed when it closes, not at the garbage collector's
    next full pass: 60 requests, each on its own connection, leave none of their connection
    handlers alive with the collector off. eventlet's handler and its environ referred to each
    other (1,300-1,800 such connections waited in each process after 5,000 phones joined)."""
    database = tmp_path / "palabre.db"
    prepare(database)
    probe = """
import gc, os, sys
os.environ["LIVE_ASYNC_MODE"] = sys.argv[2]
from live import runtime
runtime.monkey_patch()
from live import create_app
import socket
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "k"})
if sys.argv[2] == "eventlet":
    import eventlet
    door = eventlet.listen(("127.0.0.1", 0))
    eventlet.spawn(runtime._eventlet_server, app, door, 100)
    pause = eventlet.sleep
else:
    import gevent
    door = gevent.socket.socket()
    door.bind(("127.0.0.1", 0))
    door.listen(50)
    runtime._gevent_server(app, door, 100).start()
    pause = gevent.sleep
port = door.getsockname()[1]
def fetch():
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n")
    answer = b""
    while chunk := c.recv(4096):
        answer += chunk
    c.close()
    return answer
fetch()
gc.collect()
gc.disable()
answers = [fetch() for _ in range(60)]
pause(0.3)
handlers = sum(1 for o in gc.get_objects() if type(o).__name__ == "SmallBuffers")
print(sum(a.startswith(b"HTTP/1.1 200") for a in answers), handlers)
"""
    done = subprocess.run([sys.executable, "-c", probe, f"sqlite:///{database}", mode], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answered, alive = map(int, done.stdout.split()[-2:])
    assert answered == 60 and alive == 0, done.stdout


# A gevent server in this process, 40 raw WebSockets opened to it: the green threads per socket,
# then a WebSocket ping and a close on one of them (test below).
GEVENT_READER_PROBE = """
import gc, os, sys
os.environ["LIVE_ASYNC_MODE"] = "gevent"
from live import runtime
runtime.monkey_patch()
from live import create_app
import gevent, greenlet, socket
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "k"})
from live.realtime import socketio
door = gevent.socket.socket()
door.bind(("127.0.0.1", 0))
door.listen(50)
gevent.spawn(runtime.serve, app, socketio, door, 200, out=lambda *a: None)
port = door.getsockname()[1]
HEAD = ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\n"
        "Upgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: cGFsYWJyZS1tZW1vcnkxMg==\\r\\n"
        "Sec-WebSocket-Version: 13\\r\\n\\r\\n" % port).encode()
class Phone:
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(HEAD)
        self.buf = b""
        while b"\\r\\n\\r\\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        self.buf = self.buf.split(b"\\r\\n\\r\\n", 1)[1]
    def need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError
            self.buf += chunk
    def frame(self):
        self.need(2)
        opcode, size, at = self.buf[0] & 0x0F, self.buf[1] & 0x7F, 2
        if size == 126:
            self.need(4)
            size, at = int.from_bytes(self.buf[2:4], "big"), 4
        self.need(at + size)
        payload, self.buf = self.buf[at:at + size], self.buf[at + size:]
        return opcode, payload
    def send(self, opcode, payload=b""):
        mask = b"mask"
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask
                          + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
def green_threads():
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet))
first = Phone()
first.frame()
first.sock.close()
gevent.sleep(0.3)
before = green_threads()
phones = [Phone() for _ in range(40)]
opened = sum(p.frame()[1].startswith(b"0{") for p in phones)
gevent.sleep(0.3)
per_phone = (green_threads() - before) / len(phones)
phone = phones[0]
phone.send(9, b"hi")
pong = phone.frame()
phone.send(8, (1000).to_bytes(2, "big"))
while (closing := phone.frame())[0] != 8:
    pass
def served():  # the server's descriptors of its phones' connections
    inodes = {line.split()[9] for line in open("/proc/net/tcp").readlines()[1:]
              if line.split()[1].endswith(":%04X" % port) and line.split()[3] != "0A"}
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink("/proc/self/fd/" + fd)[8:-1] in inodes  # socket:[inode]
        except OSError:
            pass  # the listing's own descriptor, closed
    return count
gc.disable()
phone.sock.close()
for other in phones[1:]:
    other.send(1)  # an empty message: the server ends the socket
gevent.sleep(0.5)
print(opened, per_phone, pong == (10, b"hi"), closing == (8, (1000).to_bytes(2, "big")), served())
"""


def test_a_gevent_websocket_is_read_by_the_green_thread_that_handles_it(tmp_path):
    """Under gevent a phone's WebSocket is read by Engine.IO's reader itself: one green thread a
    phone (simple-websocket started a second one per socket, only to read and hand over each
    message: ~10 KB a phone, 45 MB for 5,000). It still answers a WebSocket ping and a close
    (the suite's real clients, the rest), and a socket it ends is closed at once, not when the
    collector comes to it (a flooder cut off was not reset for seconds)."""
    database = tmp_path / "palabre.db"
    prepare(database)
    done = subprocess.run([sys.executable, "-c", GEVENT_READER_PROBE, f"sqlite:///{database}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    opened, per_phone, pong, closed, served = done.stdout.split()[-5:]
    assert opened == "40" and float(per_phone) <= 1.2, done.stdout
    assert pong == closed == "True", done.stdout
    assert served == "0", done.stdout  # the 39 ended by the server, the one closed by the phone
