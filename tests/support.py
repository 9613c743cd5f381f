"""Helpers for tests that run the real server (`python wsgi.py`) as a subprocess.

The server launcher and the Socket.IO clients live in `realserver.py` (next to this module),
which the benchmarks (`python -m bench burst`...) also drive; this module re-exports them and adds
what only tests need. Every server is bound to 127.0.0.1 and stopped when its `with` block ends,
even on failure; the server's log is printed when a test fails inside the block.

Bounded waits on a condition instead of fixed sleeps: `wait_until(predicate, timeout)` for any
condition; for the app's own test client, `wait_for_event` (the next push that satisfies a
condition) and `pushes_settled` (everything the app had to push has gone out). `chromium()` is
the one way the browser tests start Chromium.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from realserver import (  # noqa: F401 - re-exported for the tests
    MODE,
    OPTIONS,
    Burst,
    Listener,
    Room,
    Server,
    Setup,
    close_all,
    connect,
    free_port,
    http_get,
    join_cookie,
    join_phones,
    new_cid,
    prepare,
    prepare_wordcloud,
    room,
    send_word,
    skewed_choices,
    sqlite_url,
    stored_votes,
    svg_words,
)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
VOTES_UNIQUE = "uq_votes_one_per_participant"


@contextmanager
def server_room(workdir: Path, mode: str = MODE, **options) -> Iterator[Room]:
    """`realserver.room`, printing the server's log if the block fails."""
    with room(workdir, mode, **options) as the_room:
        try:
            yield the_room
        except BaseException:
            print(f"--- server log ({mode}, {the_room.url}) ---\n{the_room.server.log_tail(60)}")
            raise


@contextmanager
def server(database: Path, mode: str = MODE, **config) -> Iterator[Server]:
    """A bare server on `database` (no clients), stopped on exit."""
    process = Server(database, mode, **config)
    try:
        yield process.start()
    except BaseException:
        print(f"--- server log ({mode}) ---\n{process.log_tail(60)}")
        raise
    finally:
        process.stop()


@contextmanager
def workshop(database: Path, title: str = "Atelier 1 : un numérique plus sobre") -> Iterator[tuple]:
    """A new database file holding one event (Chartres, 2022) and one workshop session, opened in
    one write transaction: yields `(db, session)` to add activities to, then commits and closes."""
    from live import create_app
    from live.sessions import service as sessions

    app = create_app({"SECRET_KEY": "browser-test", "DATABASE_URL": sqlite_url(database),
                      "ASYNC_MODE": "threading"})
    store = app.extensions["palabre.store"]
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Human Tech Days 2022 — Chartres", "Chartres", "2022-04-05")
            yield db, sessions.create_session(db, event, "workshop", title)
    finally:
        store.dispose()


def query(database: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a query on the SQLite file, read directly (not through the app)."""
    with closing(sqlite3.connect(database, timeout=10)) as con:
        return con.execute(sql, params).fetchall()


def open_poll(setup: Setup, show: bool = True, reveal: bool = False) -> None:
    """Show and open the prepared poll through the service, before the server starts."""
    from live.sessions import service as sessions
    from live.store import Store

    store = Store(sqlite_url(setup.database))
    try:
        for action in (["show"] if show else []) + ["open"] + (["reveal"] if reveal else []):
            with store.write() as db:
                sessions.apply_command(db, sessions.get_session(db, setup.session_id), action,
                                       setup.activity)
    finally:
        store.dispose()


def drop_vote_uniqueness(database: Path) -> None:
    """Rebuild the `votes` table WITHOUT its unique (activity_id, participant_id) constraint.

    A scratch schema for proving that the constraint, and nothing else, keeps one vote per
    participant per poll. Fails loudly if the constraint is not found where expected.
    """
    with closing(sqlite3.connect(database)) as con:
        (ddl,) = con.execute(
            "select sql from sqlite_master where type = 'table' and name = 'votes'").fetchone()
        loose, found = re.subn(rf",\s*CONSTRAINT {VOTES_UNIQUE} UNIQUE \(activity_id, participant_id\)",
                               "", ddl)
        assert found == 1, f"the votes table has no {VOTES_UNIQUE} constraint to drop:\n{ddl}"
        indexes = [sql for (sql,) in con.execute(
            "select sql from sqlite_master where type = 'index' and tbl_name = 'votes' and sql is not null")]
        con.isolation_level = None
        con.execute("PRAGMA foreign_keys=OFF")
        con.execute("BEGIN")
        con.execute(loose.replace("CREATE TABLE votes", "CREATE TABLE votes_loose", 1))
        con.execute("INSERT INTO votes_loose SELECT * FROM votes")
        con.execute("DROP TABLE votes")
        con.execute("ALTER TABLE votes_loose RENAME TO votes")
        for sql in indexes:
            con.execute(sql)
        con.execute("COMMIT")
        unique = [row for row in con.execute("PRAGMA index_list(votes)") if row[2]]
        assert not unique, f"votes still has a unique index: {unique}"


def _missing(message: str) -> NoReturn:
    """Skip the test (or the module) for a missing browser; fail when PALABRE_REQUIRE_BROWSER=1."""
    if os.environ.get("PALABRE_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " and PALABRE_REQUIRE_BROWSER=1", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def chromium_or_skip() -> str:
    """The system's Chromium (PALABRE_CHROMIUM, else `chromium` on PATH); never a downloaded one.

    Skips the test when there is none, or fails it when PALABRE_REQUIRE_BROWSER=1.
    """
    configured = os.environ.get("PALABRE_CHROMIUM")
    path = configured if configured and os.access(configured, os.X_OK) else None
    path = path or shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    _missing("Chromium is not installed (PALABRE_CHROMIUM, or `chromium` on PATH)")


def playwright_or_skip():
    """`playwright.sync_api`, or skip (fail when PALABRE_REQUIRE_BROWSER=1) if not installed.

    Browser test modules take `expect` from it: `expect = playwright_or_skip().expect`.
    """
    try:
        import playwright.sync_api as api
    except ImportError:
        _missing("Playwright is not installed (requirements-dev.txt)")
    return api


_CHROMIUM: dict = {"depth": 0}  # this process's Playwright and Chromium, started by the first browser test


def _running_chromium(api, executable: str):
    """The Chromium this process launched (one per pytest-xdist worker, launched again if it
    died), stopped when the process's tests end. Launching it and its Playwright driver takes
    1.5-2 s, more than many a browser test: once per process instead of once per test."""
    browser = _CHROMIUM.get("browser")
    if browser is not None and browser.is_connected():
        return browser
    if "playwright" not in _CHROMIUM:
        _CHROMIUM["playwright"] = api.sync_playwright().start()
        atexit.register(_stop_chromium)  # beside tests/conftest.py's, for any other user
    browser = _CHROMIUM["playwright"].chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                                      headless=True)
    _CHROMIUM["browser"] = browser
    return browser


def _wake_playwright() -> None:
    """Playwright's sync API runs its asyncio loop in a greenlet of this thread: while it lives,
    asyncio sees a loop running in the thread, and `asyncio.run` (or a library that checks for a
    running loop) fails in the tests that follow. Between `chromium()` blocks the loop is set
    aside (`_rest_playwright`), as if Playwright had stopped, and set back here before any call
    into Playwright."""
    if "resting" in _CHROMIUM:
        asyncio.events._set_running_loop(_CHROMIUM.pop("resting"))


def _rest_playwright() -> None:
    if "playwright" in _CHROMIUM and "resting" not in _CHROMIUM:
        _CHROMIUM["resting"] = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(None)


def _stop_chromium() -> None:
    _wake_playwright()
    browser, playwright = _CHROMIUM.pop("browser", None), _CHROMIUM.pop("playwright", None)
    try:
        if browser is not None and browser.is_connected():
            browser.close()
    finally:
        if playwright is not None:
            playwright.stop()


@contextmanager
def chromium() -> Iterator:
    """The one way a test starts a browser: the system's Chromium, headless, through Playwright,
    with no network of its own (CHROMIUM_ARGS). What the block opened in it (every context, so
    every page, cookie and storage) is closed when the block ends, even on failure: the next
    block finds the browser as a new one. The browser itself stays up for the process's next
    tests (`_running_chromium`; tests/conftest.py stops it at the end).

    Skips when Chromium or Playwright is missing, fails instead when PALABRE_REQUIRE_BROWSER=1.
    """
    executable = chromium_or_skip()
    api = playwright_or_skip()
    _wake_playwright()
    _CHROMIUM["depth"] += 1
    try:
        browser = _running_chromium(api, executable)
        before = set(browser.contexts)
        try:
            yield browser
        finally:
            if browser.is_connected():
                for context in browser.contexts:
                    if context not in before:
                        context.close()
    finally:
        _CHROMIUM["depth"] -= 1
        if _CHROMIUM["depth"] == 0:
            _rest_playwright()


def wait_until(predicate, timeout: float, step: float = 0.05, sleep=time.sleep) -> bool:
    """Wait (at most `timeout` seconds, looking every `step`) until `predicate()` is true; return
    whether it is. `sleep` is the loop's own under eventlet or the app's test client
    (`socketio.sleep`). A bounded wait on a condition, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        sleep(step)
    return bool(predicate())


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (a server's workers and helpers; zombies left out)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def process_alive(pid: int) -> bool:
    """True while process `pid` runs (a zombie has exited, whoever reaps it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def still_running(pids, timeout: float = 10) -> list[int]:
    """Wait (at most `timeout` s) until every process of `pids` has exited; those that have not."""
    wait_until(lambda: not any(process_alive(pid) for pid in pids), timeout)
    return [pid for pid in pids if process_alive(pid)]


def goto_live(page, url: str, timeout: float = 15.0) -> None:
    """Open `url` in a Playwright page and wait (at most `timeout` s) until its socket has received
    the server's `snapshot`: the page is live and the server's pushes reach it."""
    heard: list[bool] = []

    def watch(websocket):
        websocket.on("framereceived", lambda frame: '"snapshot"' in str(frame) and heard.append(True))

    page.on("websocket", watch)
    try:
        page.goto(url)
        deadline = time.monotonic() + timeout
        while not heard and time.monotonic() < deadline:
            page.wait_for_timeout(20)  # lets Playwright deliver the page's events meanwhile
    finally:
        page.remove_listener("websocket", watch)
    assert heard, f"{url}: the page's socket never received its snapshot"


# --- the app's own test client (flask-socketio) -------------------------------------------

def wait_for_event(sock, name: str, predicate=lambda payload: True, timeout: float = 3.0,
                   seen: list | None = None):
    """The first `name` payload a test-client socket received that satisfies `predicate`, waiting
    at most `timeout` seconds (None if none came). Events looked at are consumed; the `name`
    payloads among them, the one returned included, are appended to `seen` when given."""
    from live.realtime import socketio

    deadline = time.monotonic() + timeout
    while True:
        for event in sock.get_received():
            if event["name"] != name:
                continue
            payload = event["args"][0] if event["args"] else None
            if seen is not None:
                seen.append(payload)
            if predicate(payload):
                return payload
        if time.monotonic() > deadline:
            return None
        socketio.sleep(0.02)


def pushes_settled(app, timeout: float = 30.0) -> bool:
    """Wait until everything the app had to push has been pushed: the broadcaster has nothing
    pending (results held back by the phones' once-a-second limit included) and has ticked
    twice since the call, and no word-cloud render is pending. A condition, not a sleep: the
    first render starts a worker process, ~3 s on a quiet machine and more than 5 s under CI's
    load, so the default wait is long (a passing test never waits for it)."""
    from live.realtime import socketio

    broadcaster = app.extensions["palabre.broadcaster"]
    images = app.extensions["palabre.cloud_images"]
    start = broadcaster.ticks
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ticked = not broadcaster.loop.running or broadcaster.ticks >= start + 2
        if ticked and broadcaster.idle() and images.idle():
            return True
        socketio.sleep(0.02)
    return False


def race(writes) -> list:
    """Run each `(store, fn)` of `writes` in a thread of its own, all released at once, each as
    `fn(db)` in one write of its store: two Store objects on one database stand for two server
    processes (on PostgreSQL their transactions run at the same time). The outcomes, in finishing
    order: what `fn` returned ("ok" for None), a DomainError's code, or another exception's repr
    (a refusal by the database: the failure these races look for)."""
    import threading

    from live.errors import DomainError

    outcomes: list = []
    start = threading.Barrier(len(writes))

    def run(store, fn):
        start.wait()
        try:
            with store.write() as db:
                result = fn(db)
            outcomes.append("ok" if result is None else result)
        except DomainError as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - reported, the test's assertion names it
            outcomes.append(repr(exc)[:200])

    threads = [threading.Thread(target=run, args=write) for write in writes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
