"""The real server driven from outside: launch it, seed its database, connect clients.

`Server` runs `python wsgi.py` as a subprocess on 127.0.0.1 (a free port, its own SQLite file;
in the tests, `wsgi.py` run in a child of tests/forkserver.py, which did its imports once);
`prepare` / `prepare_wordcloud` seed a session before it starts; `connect` opens a Socket.IO
client over WebSocket, `join_cookie` opens the join link like a phone; `room` gives a server
with a facilitator and a screen connected, phones join with `Room.join` and vote with
`Room.burst`. Tests use it through `support.py`; the benchmarks (`python -m bench burst`,
`python -m bench cloudlatency`, `scripts/screenshots.py`) drive the server with the very same code.
It imports nothing from pytest. Needs the Socket.IO client (`python-socketio[client]`,
`websocket-client`): requirements-dev.txt.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import http.client
import json
import os
import random
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from live.runtime import DEFAULT_MODE

ROOT = Path(__file__).resolve().parent.parent
# The async mode of every server a test or a benchmark starts without choosing one: the server's
# own default, unless PALABRE_TEST_ASYNC_MODE names the other (to run the whole suite under it).
MODE = os.environ.get("PALABRE_TEST_ASYNC_MODE") or DEFAULT_MODE
OPTIONS = ("Agree", "Disagree", "Not sure", "Pass")
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


# --- the server process -------------------------------------------------------------------

def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_ports(count: int, attempts: int = 200) -> int:
    """The first of `count` consecutive TCP ports free on 127.0.0.1 right now (a server started
    with LIVE_PROCESSES=count listens on LIVE_PORT, LIVE_PORT + 1, ...)."""
    for _ in range(attempts):
        first = free_port()
        if first + count > 65536:
            continue
        probes = []
        try:
            for port in range(first, first + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def stop_process(process) -> None:
    """Stop a process a test started (SIGTERM, then SIGKILL after 10 s); None or gone is fine."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# --- the fork server (tests only) ---------------------------------------------------------

# Set by tests/conftest.py: servers start as children of tests/forkserver.py (wsgi.py's imports
# done once per async mode and test process) instead of `python wsgi.py`. The benchmarks and
# scripts, which do not load conftest, keep `python wsgi.py`.
FORK_SERVERS = False


class ForkedProcess:
    """A server forked by the fork server, driven as a `subprocess.Popen` is (pid, poll, wait,
    terminate, kill, send_signal, returncode). Its exit status comes from the fork server, its
    parent."""

    def __init__(self, pid: int, forks: _ForkServer):
        self.pid = pid
        self.args = ["wsgi.py"]
        self._forks = forks

    @property
    def returncode(self) -> int | None:
        return self._forks.status(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        status = self._forks.wait(self.pid, timeout)
        if status is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return status

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _ForkServer:
    """tests/forkserver.py for one async mode, started with the first server of that mode."""

    _running: dict[str, _ForkServer] = {}
    _guard = threading.Lock()

    def __init__(self, mode: str):
        self.mode = mode
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "forkserver.py"), mode, str(ROOT)], cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("LIVE_")},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lock = threading.Lock()  # one fork request at a time
        self.changed = threading.Condition()
        self.started: list[int] = []
        self.exited: dict[int, int] = {}
        threading.Thread(target=self._read, name=f"forkserver-{mode}", daemon=True).start()

    @classmethod
    def of(cls, mode: str) -> _ForkServer:
        with cls._guard:
            forks = cls._running.get(mode)
            if forks is None or forks.process.poll() is not None:
                forks = cls._running[mode] = cls(mode)
            return forks

    @classmethod
    def stop_all(cls) -> None:
        """Close every fork server's stdin: each stops the servers it started, then exits."""
        with cls._guard:
            running, cls._running = list(cls._running.values()), {}
        for forks in running:
            with contextlib.suppress(OSError):
                forks.process.stdin.close()
        for forks in running:
            try:
                forks.process.wait(30)
            except subprocess.TimeoutExpired:
                forks.process.kill()
                forks.process.wait(10)

    def _read(self) -> None:
        for line in self.process.stdout:
            message = json.loads(line)
            with self.changed:
                if "pid" in message:
                    self.started.append(message["pid"])
                else:
                    self.exited[message["exited"]] = message["status"]
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def fork(self, env: dict, log: Path) -> ForkedProcess:
        """A new server process: `wsgi.py` run with `env`, its output appended to `log`."""
        request = json.dumps({"env": env, "cwd": str(ROOT), "log": str(log)}) + "\n"
        with self.lock:
            self.process.stdin.write(request.encode())
            self.process.stdin.flush()
            with self.changed:
                # The first request waits for the imports (seconds); later ones for a fork.
                if not self.changed.wait_for(lambda: self.started or self.process.poll() is not None, 120):
                    raise RuntimeError(f"the fork server ({self.mode}) did not answer")
                if not self.started:
                    raise RuntimeError(f"the fork server ({self.mode}) stopped")
                return ForkedProcess(self.started.pop(0), self)

    def status(self, pid: int) -> int | None:
        with self.changed:
            return self.exited.get(pid)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        with self.changed:
            self.changed.wait_for(lambda: pid in self.exited or self.process.poll() is not None, timeout)
            return self.exited.get(pid)


def _forkable(env: dict) -> bool:
    """Whether a server with `env` may be forked: not when it changes what the interpreter does
    at its start (PYTHONPATH with a sitecustomize, as tests/test_faults.py's injected failures,
    PYTHONMALLOC...), which a fork would not do again."""
    return all(env.get(name) == os.environ.get(name)
               for name in {*env, *os.environ} if name.startswith("PYTHON") and name != "PYTHONUNBUFFERED")


def stop_fork_servers() -> None:
    """Stop the fork servers of this process, and the servers they started (the session's end)."""
    _ForkServer.stop_all()


atexit.register(stop_fork_servers)


class Server:
    """The real server (`python wsgi.py`) as a subprocess on 127.0.0.1. Always `stop()` it.

    `config` holds extra settings without their `LIVE_` prefix, e.g. RATE_LIMIT_PER_10S=100000.
    The server's output goes to `log` (next to the database unless given).
    """

    def __init__(self, database: Path, mode: str = MODE, log: Path | None = None, **config):
        self.database = Path(database)
        self.mode = mode
        self.config = config
        self.log_path = Path(log) if log else self.database.with_suffix(".server.log")
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._log = None
        # Kept across `restart`: phones keep their cookies when the server comes back.
        self._secret = "k-" + secrets.token_urlsafe(32)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_")}
        env.update({
            "LIVE_ASYNC_MODE": self.mode,
            "LIVE_HOST": "127.0.0.1",
            "LIVE_PORT": str(self.port),
            "LIVE_PUBLIC_URL": self.url,
            "LIVE_DATABASE_URL": sqlite_url(self.database),
            # A prefix keeps it a string (LIVE_* values are parsed as JSON when they can be).
            "LIVE_SECRET_KEY": self._secret,
            "PYTHONUNBUFFERED": "1",
            # Every phone of a test or a benchmark comes from 127.0.0.1 (a test may set it lower).
            "LIVE_JOIN_RATE_PER_MINUTE": "1000000",
            "LIVE_ADMIT_PER_SECOND": "0",  # no join line but where a test or a benchmark asks for one
        })
        env.update({f"LIVE_{key}": str(value) for key, value in self.config.items()})
        return env

    def start(self, timeout: float = 30.0) -> Server:
        """Start the server and wait until it answers HTTP (a free port is retried if taken)."""
        atexit.register(self.stop)
        for _attempt in range(3):
            self.port = free_port()
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop()
            self.process = self._launch()
            if self._wait_until_answering(timeout):
                return self
            taken = "already in use" in self.log_tail()  # "Port N is already in use"
            self.stop()
            if not taken:
                break
        raise RuntimeError(f"the server ({self.mode}) did not start; its log ends with:\n{self.log_tail()}")

    def restart(self, timeout: float = 60.0) -> float:
        """SIGTERM, then the same server on the same port with the same secret key (a venue's
        restart: the phones' cookies still hold); the moment it answers again."""
        port = self.port
        self.stop()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop()
        self.port = port
        self.process = self._launch()
        if not self._wait_until_answering(timeout):
            raise RuntimeError(f"the server did not come back:\n{self.log_tail()}")
        return time.monotonic()

    def _launch(self) -> subprocess.Popen | ForkedProcess:
        """`python wsgi.py`, or the same forked from the fork server in the tests."""
        env = self._env()
        if FORK_SERVERS and _forkable(env):
            self._log.flush()
            return _ForkServer.of(self.mode).fork(env, self.log_path)
        return subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)

    def _wait_until_answering(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                status, _headers, _body = http_get(self.url, "/", timeout=2)
                return status > 0  # any HTTP answer: the templates may not exist yet
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        process, self.process = self.process, None
        stop_process(process)
        if self._log is not None:
            self._log.close()
            self._log = None

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the server process has used so far; None where /proc is missing."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (AttributeError, OSError, ValueError, IndexError):
            return None

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server printed."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


# --- the database -------------------------------------------------------------------------

@dataclass
class Setup:
    """A session with one poll, created in the database before the server starts."""

    database: Path
    session_id: int
    code: str
    facilitator: str
    moderator: str
    screen: str
    activity: int
    options: list[int]


def prepare(database: Path, poll_type: str = "single", options: tuple[str, ...] = OPTIONS) -> Setup:
    """Migrate `database` and create an event, a session (in English) and a draft poll in it."""
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store, upgrade

    url = sqlite_url(database)
    upgrade(url)
    store = Store(url)
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Vote burst")
            live_session = sessions.create_session(db, event, "round_table", "Burst", locale="en")
            activity = polls.add_poll(db, live_session, poll_type, "Which one?", list(options))
            return Setup(Path(database), live_session.id, live_session.join_code,
                         live_session.facilitator_token, live_session.moderator_token,
                         live_session.screen_token, activity.id,
                         [o.id for o in polls.options_of(db, activity)])
    finally:
        store.dispose()


def stored_votes(database: Path, activity: int) -> tuple[int, Counter]:
    """Read the SQLite file directly: the number of vote rows and the count per option id."""
    with closing(sqlite3.connect(database, timeout=10)) as con:
        total = con.execute("select count(*) from votes where activity_id = ?", (activity,)).fetchone()[0]
        counts: Counter = Counter()
        for (choice,) in con.execute("select choice from votes where activity_id = ?", (activity,)):
            counts.update(json.loads(choice))
    return total, counts


# --- clients ------------------------------------------------------------------------------

def connected_to_itself(sock) -> bool:
    """Whether a connection to a port of this machine came back to its own socket: Linux now and
    then connects to a port of the ephemeral range that nothing listens on from that same port
    (TCP's simultaneous open), and what is sent is read back as the answer. Nothing listens."""
    return sock.getsockname() == sock.getpeername()


def address_for_process(index: int, count: int, skip: int = 0) -> str:
    """The `skip`-th loopback address 127.0.0.x (x from 2) whose connections a shared port's
    program gives to process `index` of `count` (`live.runtime.process_of`)."""
    from live.runtime import process_of

    found = (a for a in (f"127.0.0.{x}" for x in range(2, 255)) if process_of(a, count) == index)
    for _ in range(skip):
        next(found)
    return next(found)


def http_get(base_url: str, path: str, cookie: str | None = None,
             timeout: float = 10, source: str | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One GET without following redirects: (status, headers, body); from the loopback address
    `source` when given (on a shared port, the address picks the process)."""
    host, port = base_url.split("//", 1)[1].split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=timeout,
                                     source_address=(source, 0) if source else None)
    try:
        con.connect()
        if connected_to_itself(con.sock):
            raise ConnectionRefusedError(f"nothing listens on port {port}")
        con.request("GET", path, headers={"Accept-Language": "en", **({"Cookie": cookie} if cookie else {})})
        response = con.getresponse()
        return response.status, response.headers, response.read()
    finally:
        con.close()


def join_cookie(base_url: str, code: str) -> str:
    """Open the join link like a phone; return the Cookie header its answer sets (the participant id)."""
    status, headers, _body = http_get(base_url, f"/j/{code}")
    jar = SimpleCookie()
    for line in headers.get_all("Set-Cookie") or []:
        jar.load(line)
    if status != 200 or "session" not in jar:
        raise RuntimeError(f"GET /j/{code} answered {status} without a session cookie")
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def new_cid() -> str:
    """A client-generated id for one message."""
    return uuid.uuid4().hex[:16]


class Listener:
    """Keeps every message of the named events a client receives, in arrival order."""

    def __init__(self, *names: str):
        self.names = names
        self.received: dict[str, list[tuple[float, object]]] = {name: [] for name in names}
        self._changed = threading.Condition()

    def attach(self, client) -> None:
        """Record `client`'s messages (call before connecting)."""
        for name in self.names:
            client.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable:
        def record(data=None, *_rest):
            with self._changed:
                self.received[name].append((time.perf_counter(), data))
                self._changed.notify_all()
        return record

    def messages(self, name: str) -> list:
        """The payloads received for `name`, oldest first."""
        with self._changed:
            return [data for _t, data in self.received[name]]

    def count(self, name: str) -> int:
        """How many messages of `name` arrived."""
        with self._changed:
            return len(self.received[name])

    def wait_for(self, predicate: Callable[[Listener], bool], timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until `predicate(self)` holds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.1))
        return True

    def quiet_for(self, name: str, seconds: float, timeout: float) -> bool:
        """Wait until no `name` message has arrived for `seconds` (at most `timeout` in all)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._changed:
                last = self.received[name][-1][0] if self.received[name] else 0.0
            if time.perf_counter() - last >= seconds:
                return True
            time.sleep(seconds / 4)
        return False


def connect(base_url: str, auth: dict, cookie: str | None = None, listener: Listener | None = None,
            timeout: float = 15):
    """A python-socketio client connected over WebSocket only (no reconnection, no SIGINT hook)."""
    import socketio

    client = socketio.Client(reconnection=False, handle_sigint=False, request_timeout=timeout)
    refused: list = []
    client.on("connect_error", lambda data=None: refused.append(data))
    if listener is not None:
        listener.attach(client)
    try:
        client.connect(base_url, headers={"Cookie": cookie} if cookie else {}, auth=auth,
                       transports=["websocket"], wait_timeout=timeout)
    except socketio.exceptions.ConnectionError as exc:
        raise ConnectionError(f"connection refused: {refused or exc}") from exc
    return client


def close_all(clients: list, workers: int = 32) -> None:
    """Disconnect every client (in parallel), ignoring the ones already gone."""
    def close(client):
        # The client's reader thread consumes the server's reply to the WebSocket close frame,
        # so `ws.close()` would wait its full 3 s timeout for it whenever the server keeps the
        # TCP connection open after the close handshake (gevent's server does, correctly).
        ws = getattr(client.eio, "ws", None)
        if ws is not None:
            ws.close = functools.partial(ws.close, timeout=0.2)
        try:
            client.disconnect()
        except Exception:  # noqa: BLE001 - best effort: the server may be gone already
            pass

    clients = [client for client in clients if client is not None]
    if clients:
        with ThreadPoolExecutor(min(workers, len(clients))) as pool:
            list(pool.map(close, clients))


# --- a room with a facilitator, a screen and N phones -------------------------------------

@dataclass
class Burst:
    """What one burst of votes gave."""

    size: int
    acks: list[dict]
    latencies: list[float]  # seconds, per vote: from its emit to its ack
    wall: float  # seconds, from the release of the burst to the last ack
    sent: Counter = field(default_factory=Counter)  # option id -> votes sent

    @property
    def acked(self) -> int:
        """How many acks arrived."""
        return sum(1 for ack in self.acks if ack is not None)

    @property
    def ok(self) -> int:
        """How many acks were positive."""
        return sum(1 for ack in self.acks if isinstance(ack, dict) and ack.get("ok"))

    def percentile(self, q: float) -> float:
        """The q-th percentile (nearest rank) of the ack latencies, in seconds."""
        values = sorted(self.latencies)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(q / 100 * len(values)) - 1))]


class Room:
    """A running server with a session, a facilitator and a screen connected, and N phones."""

    def __init__(self, server: Server, setup: Setup):
        self.server = server
        self.setup = setup
        self.facilitator = None
        self.screen = Listener("results", "state", "snapshot", "presence")
        self.screen_client = None
        self.phones: list = []
        self.cookies: list[str] = []

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def command(self, action: str, activity: int | None = None) -> dict:
        """A facilitator command over the socket; raises unless acknowledged ok."""
        ack = self.facilitator.call("command", {"cid": new_cid(), "action": action,
                                                "activity": activity or self.setup.activity}, timeout=15)
        if not ack.get("ok"):
            raise RuntimeError(f"command {action} refused: {ack}")
        return ack

    def join(self, count: int, cookie: str | None = None, workers: int = 32) -> list:
        """Connect `count` phones in parallel, each with its own cookie (or all with `cookie`)."""
        def one(_index):
            jar = cookie or join_cookie(self.url, self.setup.code)
            client = connect(self.url, {"code": self.setup.code, "lang": "en"}, cookie=jar)
            return jar, client

        made: list = []
        failure: BaseException | None = None
        with ThreadPoolExecutor(max(1, min(workers, count))) as pool:
            for future in [pool.submit(one, i) for i in range(count)]:
                try:
                    made.append(future.result())
                except Exception as exc:  # noqa: BLE001 - keep the others, so that close() closes them
                    failure = failure or exc
        self.cookies += [jar for jar, _client in made]
        self.phones += [client for _jar, client in made]
        if failure is not None:
            raise failure
        return [client for _jar, client in made]

    def burst(self, choices: list[int], phones: list | None = None, timeout: float = 60) -> Burst:
        """Every phone votes at once (phone i for option `choices[i]`); wait for every ack.

        The emits only queue a packet for each client's own writer thread, so the N votes leave
        within milliseconds of each other; acks are timed by the callbacks.
        """
        phones = phones if phones is not None else self.phones
        size = len(phones)
        acks: list = [None] * size
        sent_at: list = [0.0] * size
        acked_at: list = [None] * size
        lock = threading.Lock()
        remaining = [size]
        done = threading.Event()

        def callback(index):
            def on_ack(data=None, *_rest):
                now = time.perf_counter()
                with lock:
                    acks[index], acked_at[index] = data, now
                    remaining[0] -= 1
                    if remaining[0] == 0:
                        done.set()
            return on_ack

        payloads = [{"cid": new_cid(), "activity": self.setup.activity, "choice": choices[i]}
                    for i in range(size)]
        release = time.perf_counter()
        for index, phone in enumerate(phones):
            sent_at[index] = time.perf_counter()
            phone.emit("vote", payloads[index], callback=callback(index))
        if size == 0:
            done.set()
        done.wait(timeout)
        with lock:
            times = [(sent_at[i], t) for i, t in enumerate(acked_at) if t is not None]
            wall = max(t for _s, t in times) - release if times else float("nan")
            return Burst(size, list(acks), [t - s for s, t in times], wall, Counter(choices[:size]))

    def settled_results(self, expected_answers: int, timeout: float = 10) -> dict | None:
        """The screen's last "results" once it shows `expected_answers` and nothing more arrives."""
        interval = float(self.server.config.get("PUSH_INTERVAL", 0.1))
        self.screen.wait_for(
            lambda s: bool(s.messages("results")) and s.messages("results")[-1].get("answers")
            == expected_answers, timeout)
        self.screen.quiet_for("results", max(0.5, 5 * interval), timeout)
        messages = self.screen.messages("results")
        return messages[-1] if messages else None

    def loop_gap(self, reset: bool = False) -> float | None:
        """The server's largest event-loop stall (ms) since the last reset, from /healthz.

        The first call starts the server's heartbeat task. None if /healthz does not answer.
        """
        try:
            status, _headers, body = http_get(self.url, "/healthz?reset=1" if reset else "/healthz")
            return json.loads(body)["max_loop_gap_ms"] if status == 200 else None
        except (OSError, ValueError, KeyError):
            return None

    def stored(self) -> tuple[int, Counter]:
        """The votes stored for the poll, read from the SQLite file."""
        return stored_votes(self.setup.database, self.setup.activity)

    def close(self) -> None:
        """Disconnect every client."""
        clients = [*self.phones, self.facilitator, self.screen_client]
        self.phones, self.facilitator, self.screen_client = [], None, None
        close_all(clients)


@contextmanager
def room(workdir: Path, mode: str = MODE, setup: Setup | None = None, *,
         server_class: type[Server] = Server, screen_events: tuple[str, ...] = (),
         **config) -> Iterator[Room]:
    """A server with a facilitator and a screen connected; phones join with `Room.join`.

    The database is `setup`'s (made with `prepare`), or a fresh one in `workdir` with a draft
    4-option single-choice poll. `server_class` may be a Server subclass (fault injection);
    the screen also listens to `screen_events`. Every client and the server are stopped on
    exit, even on failure.
    """
    workdir = Path(workdir)
    setup = setup or prepare(workdir / "palabre.db")
    config.setdefault("RATE_LIMIT_PER_10S", 100000)
    config.setdefault("PUSH_INTERVAL", 0.1)
    server = server_class(setup.database, mode, log=workdir / f"server-{mode}.log", **config)
    the_room = Room(server, setup)
    if screen_events:
        the_room.screen = Listener("results", "state", "snapshot", "presence", *screen_events)
    try:
        server.start()
        the_room.facilitator = connect(server.url, {"token": setup.facilitator, "lang": "en"})
        the_room.screen_client = connect(server.url, {"token": setup.screen, "lang": "en"},
                                         listener=the_room.screen)
        yield the_room
    finally:
        try:
            the_room.close()
        finally:
            server.stop()


def skewed_choices(options: list[int], count: int, seed: int = 7) -> list[int]:
    """`count` choices over `options`, unevenly spread (so that equal counts prove something)."""
    rng = random.Random(seed)
    weights = [len(options) - i for i in range(len(options))]
    return rng.choices(options, weights=weights, k=count)


# --- word clouds --------------------------------------------------------------------------

def prepare_wordcloud(database: Path, locale: str = "en", reveal: bool = True, **settings) -> Setup:
    """Migrate `database`; create a session with a word cloud, shown, open and (by default) revealed."""
    from live.sessions import service as sessions
    from live.store import Store, upgrade
    from live.wordclouds import service as clouds

    url = sqlite_url(database)
    upgrade(url)
    store = Store(url)
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Human Tech Days", "Chartres")
            live_session = sessions.create_session(db, event, "round_table", "Un numérique sobre",
                                                   locale=locale)
            activity = clouds.add_wordcloud(db, live_session, "En un mot : un numérique sobre, c'est… ?",
                                            settings)
            ids = (live_session.id, live_session.join_code, live_session.facilitator_token,
                   live_session.moderator_token, live_session.screen_token, activity.id)
        for action in ("show", "open") + (("reveal",) if reveal else ()):
            with store.write() as db:
                sessions.apply_command(db, sessions.get_session(db, ids[0]), action, ids[5])
        return Setup(Path(database), ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], [])
    finally:
        store.dispose()


def svg_words(base_url: str, setup: Setup, v: str = "", accounted: bool = False) -> set[str]:
    """The words of the cloud's image as the screen gets it (`v`: the version pushed); with
    `accounted`, also those it lists as left out (no room at the smallest legible size: that
    image took them into account, and staff are told)."""
    from live.render import missing_words

    status, _headers, body = http_get(base_url, f"/cloud/{setup.activity}.svg?t={setup.screen}&v={v}")
    if status != 200:
        raise RuntimeError(f"GET cloud image answered {status}")
    drawn = {"".join(t.itertext()) for t in ET.fromstring(body).iter(SVG_TEXT)}
    return drawn | set(missing_words(body)) if accounted else drawn


def join_phones(base_url: str, setup: Setup, count: int, workers: int = 32) -> list:
    """`count` phones, each with its own cookie, connected over WebSocket."""
    def one(_index):
        cookie = join_cookie(base_url, setup.code)
        return connect(base_url, {"code": setup.code, "lang": "en"}, cookie=cookie)

    with ThreadPoolExecutor(max(1, min(workers, count))) as pool:
        return list(pool.map(one, range(count)))


def send_word(phone, setup: Setup, text: str, timeout: float = 15) -> dict:
    """One entry; the ack."""
    return phone.call("word:add", {"cid": new_cid(), "activity": setup.activity, "text": text},
                      timeout=timeout)
