"""Several server processes from one start: `LIVE_PROCESSES=N python wsgi.py`.

The application is built once (modules imported, SQLAlchemy's mappers, templates, the
locales' data), then the process forks N - 1 copies of itself: each serves its own port
(`LIVE_PORT`, `LIVE_PORT + 1`, ...), behind nginx with sticky sessions
(docs/deployment.md), or its own socket of `LIVE_PORT` with `LIVE_SHARED_PORT`, and shares
the room with the others through Redis (`LIVE_MESSAGE_QUEUE`, required). What the start
built is shared between the processes by the kernel (copy-on-write), kept out of the garbage
collector's reach (`gc.freeze`) so that its passes do not copy it: two processes started
separately each held their own ~90 MB.

Why one port per process behind nginx, and not a plain port shared (SO_REUSEPORT): the kernel
would place each TCP connection on any process, and the requests of a phone that falls back to
long-polling would reach processes that do not hold its Engine.IO session. nginx's
`hash $remote_addr` keeps a phone on one process. On one machine, `LIVE_SHARED_PORT` does the
same without nginx: the listeners are one SO_REUSEPORT group on `LIVE_PORT` whose program
places each connection by the client's address (`runtime.listen_shared`); each process serves
its own socket of the group, and the others' are closed in it, so a socket closes with its
process.

What must not be shared is made again in each child, before it serves: the event loop
(`runtime.after_fork`), the database connections (the engine's pool is emptied before the
fork), the Redis clients and this process's identity in the message queue (the Socket.IO
manager's host id: messages a process published itself are skipped by it), the background
loops, the workers, the listener (each child keeps only its own). A child dies with the
first process (`PR_SET_PDEATHSIG`); the first process stops the others when it stops, and
stops (status 1, for a service manager to restart them all) when one of them dies.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import logging
import os
import signal
import time

from live import runtime

log = logging.getLogger(__name__)
# How long the first process waits for the others to finish their queued writes once stopped.
CHILD_STOP_SECONDS = runtime.STOP_DRAIN_SECONDS + runtime.STOP_FLUSH_SECONDS + 2.0
WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


class Family:
    """The processes of one start: this one's index and port, and (in the first) the others."""

    def __init__(self, index: int = 0, port: int | None = None):
        self.index, self.port = index, port
        self.children: dict[int, int] = {}  # pid -> port
        self.stopping = False
        self.lost: int | None = None  # the port of a child that died on its own

    @property
    def first(self) -> bool:
        return self.index == 0


def ports(first: int, processes: int) -> list[int]:
    return [first + i for i in range(max(1, processes))]


def fork_servers(app, socketio, listeners: list) -> tuple[Family, object]:
    """Fork one process per listener after the first; (this process's family, its listener).

    With one listener nothing happens. Call once the application is built and before
    anything runs (background loops, workers, the server)."""
    family = Family(0, listeners[0].getsockname()[1])
    if len(listeners) == 1:
        return family, listeners[0]
    _share_what_is_built(app)
    parent = os.getpid()
    for index, listener in enumerate(listeners[1:], 1):
        pid = os.fork()
        if pid == 0:
            _become_child(app, socketio, parent)
            for other in listeners:
                if other is not listener:
                    other.close()
            return Family(index, listener.getsockname()[1]), listener
        family.children[pid] = listener.getsockname()[1]
    for other in listeners[1:]:
        other.close()
    socketio.start_background_task(_watch, family)
    return family, listeners[0]


def _warm(app) -> None:
    """What the first pages load and keep, loaded once for every process: the templates
    compiled, the locales' data (babel's, some 6 MB, read by the first page that formats a
    number) and both catalogues. The counts these requests leave are forgotten."""
    from live import footprint

    for name in app.jinja_env.list_templates():
        try:
            app.jinja_env.get_template(name)
        except Exception:  # noqa: BLE001, S112 - a macro file or a fragment: loaded when used
            continue
    client = app.test_client()
    for lang in ("fr", "en"):
        client.get(f"/?lang={lang}", headers={"Accept-Language": lang})
    footprint.reset()


def _share_what_is_built(app) -> None:
    """Before the fork: no database connection inherited, what the start made frozen."""
    _warm(app)
    app.extensions["palabre.store"].engine.dispose()
    gc.collect()
    gc.freeze()  # the objects' headers are not written by the children's collections


def _become_child(app, socketio, parent: int) -> None:
    """In a new child: dies with its parent; its own loop, connections and queue identity."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the parent still stops its children
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    runtime.after_fork()
    app.extensions["palabre.store"].engine.dispose(close=False)
    manager = socketio.server.manager
    if hasattr(manager, "after_fork"):  # the message queue (live/cluster.py)
        manager.after_fork()


def _watch(family: Family) -> None:
    """In the first process: a child that dies on its own stops the whole family."""
    while family.children and not family.stopping:
        for pid, port in list(family.children.items()):
            if _reaped(pid):
                del family.children[pid]
                if not family.stopping:
                    family.lost = port
                    log.error("the server process on port %s (pid %s) stopped; stopping all", port, pid)
                    os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(WATCH_SECONDS)  # cooperative: the process is monkey patched


def _reaped(pid: int) -> bool:
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done != 0


def stop_children(family: Family, timeout: float = CHILD_STOP_SECONDS) -> None:
    """In the first process, once it stopped serving: SIGTERM to the others (each finishes its
    queued writes), waited for; SIGKILL to any still there after `timeout`."""
    family.stopping = True
    for pid in family.children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while family.children and time.monotonic() < deadline:
        for pid in [p for p in family.children if _reaped(p)]:
            del family.children[pid]
        time.sleep(0.05)
    for pid in list(family.children):
        _signal(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        del family.children[pid]


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise
