"""Helpers of the multi-process tests: a private Redis, nginx from docs/deployment.md, several
real servers on one database, and clients placed on a chosen process through nginx.

Redis and nginx are the Debian packages' binaries, started by the test on free 127.0.0.1 ports
and stopped by it. Without them the tests skip, or fail when PALABRE_REQUIRE_REDIS=1 /
PALABRE_REQUIRE_NGINX=1 (CI sets both). nginx hashes the client's address onto a process (the
documented `hash $remote_addr consistent`), so each client here connects from its own loopback
address (127.0.0.x) and is placed on the process it is meant for.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from realserver import ROOT, Listener, Server, free_port, free_ports, http_get, stop_process
from sqlalchemy import create_engine, text

DOCS = ROOT / "docs" / "deployment.md"


def require(binary: str, variable: str) -> str:
    """The path of a system binary; skip without it, or fail when `variable`=1."""
    found = shutil.which(binary) or next((p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}")
                                          if os.access(p, os.X_OK)), None)
    if found is None:
        reason = f"{binary} is not installed"
        if os.environ.get(variable) == "1":
            pytest.fail(f"{reason} and {variable}=1", pytrace=False)
        pytest.skip(reason)
    return found


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    """Poll `predicate` until true, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


# --- Redis ----------------------------------------------------------------------------------

class Redis:
    """A private redis-server on a free port; `stop()` and `start()` again on the same port."""

    def __init__(self, workdir: Path):
        self.binary = require("redis-server", "PALABRE_REQUIRE_REDIS")
        self.workdir = Path(workdir)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> Redis:
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - the process keeps it
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        if not wait_until(self.answers, 10):
            raise RuntimeError("redis-server did not start")
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)


# --- nginx ----------------------------------------------------------------------------------

def documented_nginx_block() -> str:
    """The ```nginx block of docs/deployment.md, as an operator copies it."""
    found = re.search(r"```nginx\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert found, "docs/deployment.md has no ```nginx block"
    return found.group(1)


def nginx_config(workdir: Path, port: int, backends: list[int]) -> str:
    """nginx.conf around the documented block, with its ports changed to the test's."""
    block = documented_nginx_block()
    block, listens = re.subn(r"listen\s+\d+;", f"listen 127.0.0.1:{port};", block)
    server = re.search(r"    server 127\.0\.0\.1:\d+([^;\n]*);", block)  # with its parameters
    servers = "".join(f"    server 127.0.0.1:{b}{server.group(1) if server else ''};\n" for b in backends)
    block, upstreams = re.subn(r"(    server 127\.0\.0\.1:\d+[^;\n]*;\n)+", servers, block)
    assert listens == 1 and upstreams == 1, "the documented nginx block changed shape"
    temp = {name: workdir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir(exist_ok=True)
    paths = "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}worker_processes 1;\ndaemon off;\npid {workdir}/nginx.pid;\n"
            f"error_log {workdir}/nginx-error.log warn;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n    access_log off;\n{paths}{block}}}\n")


class Nginx:
    """nginx in front of `backends` on a free port, started and stopped by the test."""

    def __init__(self, workdir: Path, port: int):
        self.binary = require("nginx", "PALABRE_REQUIRE_NGINX")
        self.workdir = Path(workdir)
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, backends: list[int]) -> Nginx:
        conf = self.workdir / "nginx.conf"
        conf.write_text(nginx_config(self.workdir, self.port, backends))
        self.process = subprocess.Popen(
            [self.binary, "-c", str(conf), "-p", str(self.workdir),
             "-e", str(self.workdir / "nginx-error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False

        if not wait_until(listening, 10):
            raise RuntimeError(f"nginx did not start: {(self.workdir / 'nginx-error.log').read_text()}")
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)


# --- the database ---------------------------------------------------------------------------

def empty_postgres_schema(url: str) -> str:
    """A new empty schema in the PostgreSQL database of `url`; the URL that works in it."""
    schema = f"test_{secrets.token_hex(6)}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def drop_postgres_schema(url: str) -> None:
    """Drop the schema `empty_postgres_schema` made (best effort: a server still closing its
    connections must not fail the test; the session's first run drops what is left)."""
    schema = url.rsplit("search_path%3D", 1)[1]
    engine = create_engine(url.rsplit("options=", 1)[0].rstrip("?&"))
    try:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    except Exception as exc:  # noqa: BLE001 - left for the next run's clean-up
        print(f"schema {schema} not dropped: {exc}")
    finally:
        engine.dispose()


def scalar(url: str, sql: str, **params):
    """One value read from the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def prepare_workshop(url: str) -> dict:
    """Migrate `url`; a session (English) with a 4-option poll and a pre-moderated idea wall."""
    from live.boards import service as boards
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store, upgrade

    upgrade(url)
    store = Store(url)
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Scale out")
            live_session = sessions.create_session(db, event, "workshop", "Two processes", locale="en")
            poll = polls.add_poll(db, live_session, "single", "Which one?", ["A", "B", "C", "D"])
            wall = boards.add_board(db, live_session, "ideas", "Ideas?", {"premoderation": True})
            return {"id": live_session.id, "code": live_session.join_code,
                    "facilitator": live_session.facilitator_token,
                    "moderator": live_session.moderator_token, "screen": live_session.screen_token,
                    "poll": poll.id, "options": [o.id for o in polls.options_of(db, poll)],
                    "wall": wall.id}
    finally:
        store.dispose()


# --- servers and clients ----------------------------------------------------------------------

def servers(workdir: Path, url: str, modes: tuple[str, ...], **config) -> list[Server]:
    """Real servers (not started) on one database, sharing one secret key."""
    config.setdefault("SECRET_KEY", "k-" + secrets.token_urlsafe(32))
    config.setdefault("RATE_LIMIT_PER_10S", 100000)
    config.setdefault("ADMIN_PASSWORD", "pw-" + secrets.token_urlsafe(8))
    return [Server(Path(workdir) / f"unused-{i}.db", mode, log=Path(workdir) / f"server-{i}-{mode}.log",
                   DATABASE_URL=url, **config) for i, mode in enumerate(modes)]


class Backend:
    """One process of a `Forked` start, asked directly (its port)."""

    def __init__(self, port: int, family: Forked):
        self.port, self.family = port, family

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.family.log_path

    def log_tail(self, lines: int = 40) -> str:
        return self.family.log_tail(lines)


class Forked(Server):
    """`LIVE_PROCESSES=N python wsgi.py`: the application built once, N - 1 processes forked
    from it, on consecutive ports (live/launcher.py). `backends`: one per process."""

    def __init__(self, workdir: Path, url: str, mode: str, processes: int = 2, **config):
        config.setdefault("SECRET_KEY", "k-" + secrets.token_urlsafe(32))
        config.setdefault("RATE_LIMIT_PER_10S", 100000)
        config.setdefault("ADMIN_PASSWORD", "pw-" + secrets.token_urlsafe(8))
        super().__init__(Path(workdir) / "unused.db", mode, log=Path(workdir) / f"forked-{mode}.log",
                         DATABASE_URL=url, PROCESSES=processes, **config)
        self.count = processes

    @property
    def backends(self) -> list[Backend]:
        return [Backend(self.port + i, self) for i in range(self.count)]

    def start(self, timeout: float = 60.0) -> Forked:
        self.port = free_ports(self.count)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=self._env(),
                                        stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT)

        def answering() -> bool:
            try:
                return self.process.poll() is None and all(
                    http_get(b.url, "/healthz", timeout=2)[0] == 200 for b in self.backends)
            except OSError:
                return False

        if not wait_until(answering, timeout, 0.1):
            self.stop()
            raise RuntimeError(f"the processes did not start:\n{self.log_tail()}")
        return self

    def pids(self) -> list[int]:
        return [health(b)["pid"] for b in self.backends]


def health(server: Server) -> dict:
    """A process's /healthz, asked directly (not through nginx)."""
    status, _headers, body = http_get(server.url, "/healthz")
    assert status == 200, status
    return json.loads(body)


def join_cookie_from(address: str, base_url: str, code: str) -> str:
    """The join page opened from `address` (a phone); the Cookie header it sets."""
    import http.client

    host, port = base_url.split("//", 1)[1].split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=15, source_address=(address, 0))
    try:
        con.request("GET", f"/j/{code}", headers={"Accept-Language": "en"})
        response = con.getresponse()
        response.read()
        jar = SimpleCookie()
        for line in response.headers.get_all("Set-Cookie") or []:
            jar.load(line)
    finally:
        con.close()
    assert response.status == 200 and "session" in jar, response.status
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def connect_from(address: str, base_url: str, auth: dict, cookie: str | None = None,
                 listener: Listener | None = None):
    """A Socket.IO client (WebSocket) from the loopback `address`, with a browser's Origin."""
    import socketio

    host, port = base_url.split("//", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=15, source_address=(address, 0))
    # The page's origin, as a browser sends it (the WebSocket library sends one of its own).
    client = socketio.Client(reconnection=False, handle_sigint=False, request_timeout=15,
                             websocket_extra_options={"socket": sock, "origin": base_url})
    if listener is not None:
        listener.attach(client)
    client.connect(base_url, headers={"Cookie": cookie} if cookie else {}, auth=auth,
                   transports=["websocket"], wait_timeout=15)
    return client
