"""Several server processes for `python -m bench load --processes N`: the set-up an operator
runs (docs/deployment.md), on one machine.

- N server processes on consecutive free 127.0.0.1 ports, started as docs/deployment.md tells
  an operator: one `LIVE_PROCESSES=N python wsgi.py`, which builds the application once and
  forks the others from it (live/launcher.py); with `--separate-processes`, N `python wsgi.py`
  started together by one `sh` (as before the launcher, for comparison). The benchmark's
  process-tree figures (RSS, PSS, CPU) cover every server and its workers; every process has
  the same secret key, database and message queue;
- Redis as Flask-SocketIO's message queue: `--queue URL`, or a private `redis-server` on a free
  port in the scratch folder (no persistence), stopped at the end;
- nginx in front, with the very ```nginx block of docs/deployment.md (its ports changed):
  `hash $remote_addr consistent`, so each phone's client connects from its own loopback address
  (127.x.y.z, as phones at a venue each have their own) and stays on one process;
- or, with `--shared-port`, no proxy: `LIVE_SHARED_PORT=1`, every process on one port, the
  kernel placing each connection by its client address (`live.runtime.listen_shared`); the
  benchmark asks each process for its figures from an address that reaches it.

nginx is what the deployment guide tells an operator to run past one machine. A plain
SO_REUSEPORT group (without the program that steers by address) would scatter the requests of a
phone that falls back to long-polling over processes that do not hold its session; one port per
process handed to the clients would need the phones to pick a port, when the join link and the
QR code name one address.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.load import (
    MAX_CLIENTS,
    ClientProcess,
    Hall,
    gate_config,
    prepare_hall,
    process_tree,
    stored_query,
    tree_cpu,
    tree_pss_mb,
    tree_rss_mb,
    tree_waited,
)
from bench.loadclient import CONCURRENT_JOINS
from tests.realserver import (
    ROOT,
    address_for_process,
    connected_to_itself,
    free_port,
    free_ports,
    http_get,
    prepare_wordcloud,
    sqlite_url,
    stop_process,
)

DOCS = ROOT / "docs" / "deployment.md"


def binary(name: str) -> str:
    """The path of a system binary (Debian puts nginx in /usr/sbin); SystemExit without it."""
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}")
                                        if os.access(p, os.X_OK)), None)
    if found is None:
        raise SystemExit(f"--processes needs {name} (Debian: apt install {name})")
    return found


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
            return not connected_to_itself(probe)
    except OSError:
        return False


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


class PrivateRedis:
    """redis-server on a free port in `workdir`, without persistence."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        with open(self.workdir / "redis.log", "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the system's redis-server
                [binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_until(lambda: listening(self.port), 10):
            raise RuntimeError("redis-server did not start")
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)


def nginx_config(workdir: Path, port: int, backends: list[int], connections: int,
                 workers: str = "1") -> str:
    """nginx.conf around the documented block (ports changed), sized for `connections`."""
    found = re.search(r"```nginx\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    if not found:
        raise RuntimeError("docs/deployment.md has no ```nginx block")
    block, listens = re.subn(r"listen\s+\d+;", f"listen 127.0.0.1:{port} backlog=4096;", found.group(1))
    server = re.search(r"    server 127\.0\.0\.1:\d+([^;\n]*);", block)  # with its parameters
    servers = "".join(f"    server 127.0.0.1:{b}{server.group(1) if server else ''};\n" for b in backends)
    block, upstreams = re.subn(r"(    server 127\.0\.0\.1:\d+[^;\n]*;\n)+", servers, block)
    if listens != 1 or upstreams != 1:
        raise RuntimeError("the documented nginx block changed shape")
    paths = ""
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / name).mkdir(exist_ok=True)
        paths += f"    {name}_temp_path {workdir / name};\n"
    user = "user root;\n" if os.geteuid() == 0 else ""
    # Each proxied socket holds two connections (client and upstream) in one worker, and so do
    # the join pages in flight (64 per client process): with only 512 to spare, nginx ran out
    # near the end of a 5,000-phone join on two processes and closed a new connection at once
    # ("worker_connections are not enough"): one phone's join page failed (ServerDisconnected).
    per_worker = 2 * (connections + CONCURRENT_JOINS * MAX_CLIENTS) + 512
    return (f"{user}worker_processes {workers};\ndaemon off;\npid {workdir}/nginx.pid;\n"
            f"worker_rlimit_nofile {per_worker + 64};\n"
            f"error_log {workdir}/nginx-error.log warn;\n"
            f"events {{ worker_connections {per_worker}; }}\n"
            f"http {{\n    access_log off;\n{paths}{block}}}\n")


class Nginx:
    def __init__(self, workdir: Path, workers: str = "1"):
        self.workdir = workdir
        self.workers = workers  # worker_processes (1, as docs/deployment.md says; "auto": one per core)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, backends: list[int], connections: int) -> Nginx:
        conf = self.workdir / "nginx.conf"
        conf.write_text(nginx_config(self.workdir, self.port, backends, connections, self.workers))
        error_log = self.workdir / "nginx-error.log"
        self.process = subprocess.Popen(  # noqa: S603 - the system's nginx
            [binary("nginx"), "-c", str(conf), "-p", str(self.workdir), "-e", str(error_log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if not wait_until(lambda: listening(self.port), 10):
            raise RuntimeError(f"nginx did not start: {error_log.read_text(errors='replace')}")
        return self

    def rss_mb(self) -> float:
        """nginx's master and workers."""
        if self.process is None:
            return 0.0
        return sum(rss_mb(p) for p in process_tree(self.process.pid))

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)


class PortTaken(RuntimeError):
    """A server could not bind its port: another process took it after it was found free."""


class Cluster:
    """N real servers behind nginx, sharing a database and a Redis queue; quacks like
    `bench.load.HallServer` (`url`, `process`, `start`, `stop`) for the scenarios."""

    def __init__(self, workdir: Path, mode: str, processes: int, database_url: str,
                 queue: str | None, connections: int, separate: bool = False,
                 nginx_workers: str = "1", shared: bool = False, **config):
        self.workdir, self.mode, self.count = workdir, mode, processes
        self.separate = separate  # N `python wsgi.py` rather than one LIVE_PROCESSES=N
        if shared and separate:
            raise SystemExit("--shared-port and --separate-processes do not go together: the "
                             "shared port's sockets are made by one start, before it forks")
        self.shared = shared  # LIVE_SHARED_PORT: one port, no nginx
        self.database_url, self.queue_url, self.connections = database_url, queue, connections
        self.config = config
        self.secret = "k-" + os.urandom(24).hex()  # the same across a restart: phones keep their cookies
        self.redis = None if queue else PrivateRedis(workdir)
        self.nginx = None if shared else Nginx(workdir, nginx_workers)
        self.ports: list[int] = []
        self.process: subprocess.Popen | None = None  # the `sh` whose children are the servers
        self.first_up = 0.0  # (monotonic) when the first server answered after the last start

    @property
    def url(self) -> str:
        if self.nginx is None:
            return f"http://127.0.0.1:{self.ports[0]}" if self.ports else "http://127.0.0.1:0"
        return self.nginx.url

    @property
    def backends(self) -> list[tuple[str, str | None]]:
        """Each process: (its URL, the source address to ask it from: None on its own port;
        on a shared port, a loopback address the kernel gives to that process)."""
        if self.shared:
            return [(self.url, address_for_process(i, self.count)) for i in range(self.count)]
        return [(f"http://127.0.0.1:{p}", None) for p in self.ports]

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_")}
        env.update({"LIVE_ASYNC_MODE": self.mode, "LIVE_HOST": "127.0.0.1",
                    "LIVE_SHARED_PORT": "1" if self.shared else "0",
                    "LIVE_PUBLIC_URL": self.url, "LIVE_DATABASE_URL": self.database_url,
                    "LIVE_MESSAGE_QUEUE": self.queue_url or self.redis.url,
                    "LIVE_SECRET_KEY": self.secret, "PYTHONUNBUFFERED": "1",
                    "LIVE_JOIN_RATE_PER_MINUTE": "1000000"})
        env.update({f"LIVE_{key}": str(value) for key, value in self.config.items()})
        return env

    def script(self) -> str:
        """The documented command line: `LIVE_PORT=... LIVE_PROCESSES=N python wsgi.py` (its
        first process is the tree's root); separately, one `LIVE_PORT=... python wsgi.py &`
        per process under an `sh`."""
        if not self.separate:
            log = shlex.quote(str(self.workdir / f"server-{self.mode}.log"))
            return (f"exec env LIVE_PORT={self.ports[0]} LIVE_PROCESSES={self.count} "
                    f"{shlex.quote(sys.executable)} wsgi.py >{log} 2>&1")
        lines = ["pids=", "trap 'kill -TERM $pids 2>/dev/null; wait' TERM INT"]
        for index, port in enumerate(self.ports):
            log = shlex.quote(str(self.workdir / f"server-{index}-{self.mode}.log"))
            lines.append(f"LIVE_PORT={port} {shlex.quote(sys.executable)} wsgi.py >{log} 2>&1 &")
            lines.append('pids="$pids $!"')
        lines.append("wait")
        return "\n".join(lines)

    def start(self, timeout: float = 90.0) -> Cluster:
        if self.redis is not None:
            self.redis.start()
        for attempt in range(3):
            if self.separate:
                self.ports = [free_port() for _ in range(self.count)]
            elif self.shared:
                self.ports = [free_port()]
            else:
                first = free_ports(self.count)
                self.ports = list(range(first, first + self.count))
            try:
                self._start_servers(timeout)
                break
            except PortTaken:
                # Free when probed, taken before the servers bound it (another test's server
                # on the same machine): new ports.
                if attempt == 2:
                    self.stop()
                    raise
            except BaseException:
                self.stop()
                raise
        if self.nginx is not None:
            self.nginx.start(self.ports, self.connections)
        return self

    def _start_servers(self, timeout: float) -> None:
        self.process = subprocess.Popen(["/bin/sh", "-c", self.script()], cwd=ROOT,  # noqa: S603
                                        env=self._env(), stdin=subprocess.DEVNULL,
                                        start_new_session=True)

        def answering(backend: tuple[str, str | None]) -> bool:
            try:
                return http_get(backend[0], "/healthz", timeout=2, source=backend[1])[0] == 200
            except OSError:
                return False

        # The room is back as soon as one process answers (nginx sends the phones to those that
        # do): its moment is kept (`first_up`); then every one is waited for.
        started = time.monotonic()
        if wait_until(lambda: self.process.poll() is None and any(map(answering, self.backends)),
                      timeout, 0.05):
            self.first_up = time.monotonic()
        if not wait_until(lambda: self.process.poll() is None and all(map(answering, self.backends)),
                          max(1.0, timeout - (time.monotonic() - started)), 0.05):
            tails = "\n".join(self.log_tail(i) for i in range(self.count))
            self._stop_servers()
            error = PortTaken if "already in use" in tails else RuntimeError
            raise error(f"the servers did not start:\n{tails}")

    def restart(self, timeout: float = 90.0) -> float:
        """Every server process at once, as an operator restarts the documented command line
        (or `systemctl restart` of every unit): SIGTERM to all, then all started again on the
        same ports, nginx and Redis left running; the moment the first one answered again (the
        phones come back through it while the others start: once all answered, the last of
        5,000 phones was back 0.06 s later), returned once every one answers."""
        self._stop_servers()
        self._start_servers(timeout)
        return self.first_up

    def _stop_servers(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            group = process.pid  # the sh and every server: a session of their own
            for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
                try:
                    os.killpg(group, sig)
                except ProcessLookupError:
                    break
                if wait_until(lambda: process.poll() is not None and not _group_alive(group), grace, 0.05):
                    break

    def log_tail(self, index: int, lines: int = 20) -> str:
        path = self.workdir / (f"server-{index}-{self.mode}.log" if self.separate
                               else f"server-{self.mode}.log")
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        self._stop_servers()
        if self.redis is not None:
            self.redis.stop()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
        return True
    except ProcessLookupError:
        return False


# --- the hall of `python -m bench load` on several processes ----------------------------------

# Each process's /healthz counts of its writes since it started (live/writer.py, live/store.py).
WRITE_FIGURES = ("group_commits", "write_lock_waits", "write_lock_tries", "write_lock_waited_ms",
                 "write_lock_longest_ms", "write_lock_held_ms", "write_lock_held_cpu_ms",
                 "write_lock_held_longest_ms")
UNSUPPORTED = {"soak": "counts one server's open files"}


def _increase(now: dict, then: dict) -> dict:
    """How much each of a process's write counts (`WRITE_FIGURES`, not the longest ones) grew
    from `then` (its /healthz at the phase's reset) to `now`; nothing if it is not the same
    process (restarted since: its counts began again)."""
    if now.get("pid") is None or now.get("pid") != then.get("pid"):
        return {}
    return {k: round(now[k] - then[k], 1) for k in WRITE_FIGURES
            if not k.endswith("longest_ms") and k in now and k in then}


def postgres_schema(url: str) -> str:
    """A new empty schema in the PostgreSQL database of `url`; the URL that works in it."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{os.urandom(6).hex()}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", schema


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def database_of(args, folder: Path) -> tuple[str, Callable[[], None]]:
    """The database URL of the run, and what to do once it is over."""
    if args.db == "sqlite":
        return sqlite_url(folder / "palabre.db"), lambda: None
    base = args.database_url or os.environ.get("PALABRE_POSTGRES_URL", "")
    if not base:
        raise SystemExit("--db postgresql needs --database-url or PALABRE_POSTGRES_URL "
                         "(postgresql+psycopg://user:password@127.0.0.1/db)")
    url, schema = postgres_schema(base)
    return url, lambda: drop_schema(base, schema)


def cluster_hall(folder: Path, args, clients: int, participants: int, scenario: str):
    """`bench.load.hall` for several processes: the servers behind nginx, Redis, the staff
    connected through nginx, the phones' client processes each on its own loopback addresses."""
    from contextlib import contextmanager

    if scenario in UNSUPPORTED or scenario == "typing" and args.db != "sqlite":
        raise SystemExit(f"--scenario {scenario} runs on one process on SQLite only "
                         f"({UNSUPPORTED.get(scenario, 'its word cloud is seeded in SQLite')})")

    @contextmanager
    def running():
        url, cleanup = database_of(args, folder)
        database = folder / "palabre.db"
        try:
            if scenario == "typing":
                setup, polls = prepare_wordcloud(database, entries_per_participant=3), None
            else:
                setup, polls = prepare_hall(database, url)
            servers = Cluster(folder, args.mode, args.processes, url, args.queue,
                              participants + 64, getattr(args, "separate_processes", False),
                              getattr(args, "nginx_workers", "1"),
                              getattr(args, "shared_port", False), **gate_config(args))
            the_hall = ClusterHall(servers, setup, polls, folder, url)
            the_hall.client_kind = getattr(args, "client", the_hall.client_kind)
            try:
                servers.start()
                the_hall.start_staff()
                the_hall.start_clients(clients)
                yield the_hall
            finally:
                try:
                    the_hall.close()
                finally:
                    servers.stop()
        finally:
            cleanup()
    return running()


class ClusterHall(Hall):
    """A hall whose server is a `Cluster`: /healthz asked of every process directly (each
    one's connections and largest stall), votes counted in whichever database it is."""

    def __init__(self, server: Cluster, setup, polls, workdir: Path, database_url: str):
        super().__init__(server, setup, polls, workdir)
        self.database_url = database_url
        self.each: list[dict] = []
        self.at_reset: list[dict] = []  # each process's /healthz at the reset that began the phase

    def start_clients(self, count: int) -> None:
        self.clients = [ClientProcess(self.url, self.setup.code, self.workdir / f"client-{i}.log",
                                      source=i, kind=self.client_kind) for i in range(count)]

    def profiled_pids(self) -> list[tuple[str, int]]:
        """Every server process (their pids from /healthz) and the client processes."""
        return [(f"server{i}", h["pid"]) for i, h in enumerate(self.each) if h.get("pid")] + [
            (f"client{i}", c.process.pid) for i, c in enumerate(self.clients)]

    def waits_now(self) -> dict:
        """`Hall.waits_now`, and nginx's."""
        nginx = self.server.nginx
        return {**super().waits_now(),
                "nginx": tree_waited(nginx.process.pid) if nginx and nginx.process else 0.0}

    def cpu_now(self) -> dict:
        """`Hall.cpu_now`, and nginx's and Redis's CPU (they share the cores too)."""
        redis, nginx = self.server.redis, self.server.nginx
        return {**super().cpu_now(),
                "nginx": tree_cpu(nginx.process.pid) if nginx and nginx.process else 0.0,
                "redis": tree_cpu(redis.process.pid) if redis and redis.process else 0.0}

    def health(self, reset: bool = False) -> dict:
        if reset:
            self.mark()
        each = []
        for url, source in self.server.backends:
            try:
                status, _h, body = http_get(url, "/healthz?reset=1" if reset else "/healthz",
                                            timeout=30, source=source)
                each.append(json.loads(body) if status == 200 else {})
            except (OSError, ValueError):
                each.append({})
        self.each = each
        if reset:
            self.at_reset = each
        gaps = [h.get("max_loop_gap_ms") for h in each if h.get("max_loop_gap_ms") is not None]
        lines = [h["connect_most_waiting"] for h in each if h.get("connect_most_waiting") is not None]
        return {"connections": sum(h.get("connections", 0) for h in each),
                "max_loop_gap_ms": max(gaps) if gaps else None,
                "connect_most_waiting": max(lines) if lines else None}

    def stored(self, activity: int, changes: bool = False) -> int:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return connection.execute(text(stored_query(changes)), {"a": activity}).scalar()
        finally:
            engine.dispose()

    def cluster_figures(self) -> dict:
        """Each process's connections, largest stall (since the scenario's reset), RSS of
        its tree and CPU since it started; nginx's and Redis's RSS and CPU since they started
        (in neither rss_mb nor cpu_s)."""
        servers = {h["pid"] for h in self.each if h.get("pid")}

        def own(pid: int) -> list[int]:  # its tree without the servers forked from it
            tree = process_tree(pid)
            others = {p for s in servers - {pid} if s in tree for p in process_tree(s)}
            return [p for p in tree if p not in others]

        def figure(h: dict, measure, digits: int):
            return round(sum(measure(p, alone=True) for p in own(h["pid"])), digits) if h.get("pid") else None

        each = [{"connections": h.get("connections"), "stall_ms": h.get("max_loop_gap_ms"),
                 "stall_cpu_ms": h.get("max_loop_cpu_gap_ms"), "stall_held_ms": h.get("max_loop_held_ms"),
                 "rss_mb": figure(h, tree_rss_mb, 1), "pss_mb": figure(h, tree_pss_mb, 1),
                 "cpu_since_start_s": figure(h, tree_cpu, 2),
                 # the writes: group commits, waits for SQLite's lock held by the other process
                 **{k: h[k] for k in WRITE_FIGURES if k in h},
                 # the same counts within the phase (from its reset), the longest ones left out
                 "writes_in_phase": _increase(h, at_reset)}
                for h, at_reset in zip(self.each, self.at_reset or [{}] * len(self.each), strict=False)]
        redis, nginx = self.server.redis, self.server.nginx
        redis_pid = redis.process.pid if redis and redis.process else None
        return {"per_process": each, "nginx_rss_mb": round(nginx.rss_mb(), 1) if nginx else 0.0,
                "nginx_cpu_since_start_s": round(tree_cpu(nginx.process.pid), 2)
                if nginx and nginx.process else None,
                "redis_rss_mb": round(rss_mb(redis_pid), 1) if redis_pid else None,
                "redis_cpu_since_start_s": round(tree_cpu(redis_pid), 2) if redis_pid else None}
