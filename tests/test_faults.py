"""Faults a venue meets, survived by the real server (`python wsgi.py`) in its own process.

kill -9 in the middle of a burst, SIGTERM and SIGINT, a background loop that raises, the port
already taken, the database locked by another process or the disk full for a moment. Clients are
python-socketio over WebSocket (see `realserver.py`); outcomes are read in the SQLite file. Loop
failures and the full disk are injected into the server process by `tests/faultinject/`
(imported at start-up through PYTHONPATH; it patches nothing unless the test asks).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from realserver import MODE, ROOT, room
from support import (
    Listener,
    Room,
    Server,
    connect,
    http_get,
    new_cid,
    prepare,
    prepare_wordcloud,
    query,
    send_word,
    server,
    sqlite_url,
    wait_until,
)

pytestmark = pytest.mark.server

FAULTS = Path(__file__).parent / "faultinject"
SECRET = "k-the-same-secret-key-across-restarts"  # phones keep their identity


class FaultyServer(Server):
    """The real server, with failures injected while `control` (a JSON file) asks for them."""

    def __init__(self, database: Path, mode: str = MODE, **config):
        super().__init__(database, mode, **config)
        self.control = Path(database).with_suffix(".faults.json")
        self.inject()

    def inject(self, **faults) -> None:
        """Ask for failures, e.g. inject(presence=1) or inject(disk_full=True)."""
        self.control.write_text(json.dumps(faults))

    def _env(self) -> dict:
        env = super()._env()
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(FAULTS), env.get("PYTHONPATH")) if p)
        env["PALABRE_FAULTS"] = str(self.control)
        return env


@contextmanager
def faulty_room(setup, mode: str = MODE, **config) -> Iterator[Room]:
    """A FaultyServer on `setup`'s database, a facilitator and a screen connected."""
    with room(Path(setup.database).parent, mode, setup, server_class=FaultyServer,
              screen_events=("cloud",), **config) as the_room:
        try:
            yield the_room
        except BaseException:
            print(f"--- server log ({mode}) ---\n{the_room.server.log_tail(80)}")
            raise


def healthz(url: str) -> dict:
    status, _headers, body = http_get(url, "/healthz")
    assert status == 200, status
    return json.loads(body)


def options_of(client_snapshot: dict) -> list[int]:
    return [o["id"] for o in client_snapshot["current"]["options"]]


@contextmanager
def write_lock(database: Path) -> Iterator[sqlite3.Connection]:
    """Hold SQLite's write lock from another process's point of view (another connection)."""
    con = sqlite3.connect(database, isolation_level=None, timeout=10)
    try:
        con.execute("BEGIN IMMEDIATE")
        yield con
    finally:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()


# --- the port already taken -------------------------------------------------------------------

def _second_server(port: int, database: Path, mode: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_")}
    env.update({"LIVE_PORT": str(port), "LIVE_HOST": "127.0.0.1", "LIVE_ASYNC_MODE": mode,
                "LIVE_DATABASE_URL": sqlite_url(database), "LIVE_SECRET_KEY": "k-second",
                "LIVE_ADMIN_PASSWORD": "second-server-password", "LANG": "C.UTF-8"})
    venv = ROOT / ".venv" / "bin" / "python"
    if venv.exists() and (ROOT / "Makefile").exists():
        # `make run` itself, without reinstalling anything (-o: take those targets as made).
        command = ["make", "-s", "-o", ".venv/.installed-run", "-o",
                   "translations/fr/LC_MESSAGES/messages.mo", "run"]
    else:
        command = [sys.executable, "wsgi.py"]
    return subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_second_server_on_a_taken_port_exits_with_a_clear_message(tmp_path, mode):
    first_db = tmp_path / "first.db"
    prepare(first_db)
    with server(first_db, mode) as first:
        port = int(first.url.rsplit(":", 1)[1])
        second = _second_server(port, tmp_path / "second.db", mode)

        assert second.returncode != 0, second.stdout
        assert f"Port {port} is already in use" in second.stderr, second.stderr[-2000:]
        assert "Traceback" not in second.stderr, second.stderr[-2000:]
        assert "Palabre is running" not in second.stdout
        # The first server still has the port, alone.
        assert first.alive() and healthz(first.url)["ok"]


# --- SIGTERM and SIGINT -------------------------------------------------------------------------

@pytest.mark.parametrize("mode, signum", [("eventlet", signal.SIGTERM), ("eventlet", signal.SIGINT),
                                          ("gevent", signal.SIGTERM), ("gevent", signal.SIGINT)])
def test_a_stop_signal_refuses_new_work_finishes_queued_writes_and_exits_within_5_s(tmp_path, mode, signum):
    """Votes wait in the write queue (another process holds the database's write lock) when the
    signal comes: the server closes its port and refuses new votes, then, the lock released,
    commits and acknowledges every queued vote, and exits 0 within 5 s of the signal."""
    setup = prepare(tmp_path / "palabre.db")
    phones_count = 40
    with faulty_room(setup, mode, SQLITE_BUSY_TIMEOUT=20) as room:
        for action in ("show", "open"):
            room.command(action)
        phones = room.join(phones_count + 1)
        late, phones = phones[-1], phones[:-1]
        options = room.setup.options
        port = int(room.url.rsplit(":", 1)[1])
        acks: list = []
        done = threading.Event()

        def on_ack(data=None, *_rest):
            acks.append(data)
            if len(acks) == phones_count:
                done.set()

        with write_lock(setup.database):
            for index, phone in enumerate(phones):
                phone.emit("vote", {"cid": new_cid(), "activity": setup.activity,
                                    "choice": options[index % len(options)]}, callback=on_ack)
            assert wait_until(lambda: healthz(room.url)["queued_writes"] >= phones_count - 16, 20), \
                healthz(room.url)
            process = room.server.process
            signalled = time.monotonic()
            process.send_signal(signum)
            assert wait_until(lambda: "stopping" in room.server.log_tail(), 5), room.server.log_tail()
            if signum == signal.SIGTERM:  # again, as from a service manager and LIVE_PROCESSES'
                process.send_signal(signum)  # first process both: the queued writes still finish

            assert process.poll() is None  # still finishing the queued writes
            with pytest.raises(OSError):  # no new connection
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            refused = late.call("vote", {"cid": new_cid(), "activity": setup.activity,
                                         "choice": options[0]}, timeout=10)
            assert refused["ok"] is False and refused["error"]["code"] == "server_stopping", refused
            assert acks == []
        # The lock is released: the queued votes commit, their acks leave, the process ends.
        process.wait(10)
        elapsed = time.monotonic() - signalled
        assert done.wait(5), f"{len(acks)} acks of {phones_count}"

    print(f"\n{mode} {signal.Signals(signum).name}: exited {elapsed:.2f} s after the signal")
    assert process.returncode == 0, room.server.log_tail()
    assert elapsed < 5.0
    assert all(ack["ok"] for ack in acks), acks
    assert query(setup.database, "select count(*) from votes") == [(phones_count,)]
    assert query(setup.database, "PRAGMA integrity_check") == [("ok",)]


# --- kill -9 in the middle of a burst -----------------------------------------------------------

def _open_polls(setup, count: int) -> list[tuple[int, list[int]]]:
    """`count` more open polls in the session (the first, `setup.activity`, is on screen)."""
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store

    store = Store(sqlite_url(setup.database))
    made = []
    try:
        for number in range(count):
            with store.write() as db:
                live_session = sessions.get_session(db, setup.session_id)
                poll = polls.add_poll(db, live_session, "single", f"Question {number}?",
                                      ["Yes", "No", "Maybe"])
                made.append((poll.id, [o.id for o in polls.options_of(db, poll)]))
            with store.write() as db:
                sessions.apply_command(db, sessions.get_session(db, setup.session_id), "open", poll.id)
        for action in ("show", "open"):
            with store.write() as db:
                sessions.apply_command(db, sessions.get_session(db, setup.session_id), action,
                                       setup.activity)
    finally:
        store.dispose()
    return [(setup.activity, setup.options), *made]


def test_kill_9_during_a_1000_vote_burst_loses_no_acknowledged_vote(tmp_path):
    """200 phones each vote on 5 open polls at once (1,000 votes); the server is killed (SIGKILL)
    once about a third are acknowledged. After a restart: every acknowledged vote is stored,
    the database is intact, and each phone, reconnecting, gets a snapshot with its stored vote."""
    setup = prepare(tmp_path / "palabre.db")
    polls = _open_polls(setup, 4)
    phones_count = 200
    acked: dict[tuple[int, int], int] = {}  # (phone, poll) -> choice acknowledged
    lock = threading.Lock()

    def recorder(phone: int, poll: int, choice: int):
        def on_ack(data=None, *_rest):
            if isinstance(data, dict) and data.get("ok"):
                assert data["choice"] == [choice] and data["activity"] == poll
                with lock:
                    acked[(phone, poll)] = choice
        return on_ack

    with faulty_room(setup, SECRET_KEY=SECRET) as room:
        phones = room.join(phones_count)
        cookies = list(room.cookies)
        process = room.server.process
        for index, phone in enumerate(phones):
            for number, (poll, options) in enumerate(polls):
                choice = options[(index + number) % len(options)]
                phone.emit("vote", {"cid": new_cid(), "activity": poll, "choice": choice},
                           callback=recorder(index, poll, choice))
        assert wait_until(lambda: len(acked) >= 300, 60), f"only {len(acked)} acks"
        process.kill()
        process.wait(10)
        with lock:
            acknowledged = dict(acked)
    print(f"\nkill -9 after {len(acknowledged)} of {phones_count * len(polls)} votes acknowledged")
    assert len(acknowledged) < phones_count * len(polls), "the burst ended before the kill"

    assert query(setup.database, "PRAGMA integrity_check") == [("ok",)]
    with faulty_room(setup, SECRET_KEY=SECRET) as room:  # restart on the same file
        rows = query(setup.database, "select v.activity_id, p.device_key, v.choice from votes v "
                                     "join participants p on p.id = v.participant_id")
        assert query(setup.database, "PRAGMA integrity_check") == [("ok",)]
        # Reconnect each phone with its own cookie: its snapshot says what it voted.
        phones = []
        try:
            for cookie in cookies:
                phones.append(connect(room.url, {"code": setup.code, "lang": "en"}, cookie=cookie,
                                      listener=Listener("snapshot")))
        finally:
            room.phones += phones
        snapshots = [phone.call("sync", {"cid": new_cid()}, timeout=15)["snapshot"] for phone in phones]

    stored = {(activity, key): json.loads(choice) for activity, key, choice in rows}
    keys = [device_key(cookie, SECRET) for cookie in cookies]
    for (phone, poll), choice in acknowledged.items():
        assert stored.get((poll, keys[phone])) == [choice], (phone, poll, choice)
    # The poll on screen: each phone's snapshot shows what the database holds for it.
    for phone, snap in enumerate(snapshots):
        assert snap["current"]["id"] == setup.activity
        assert snap["current"]["mine"] == stored.get((setup.activity, keys[phone])), phone


def device_key(cookie: str, secret: str) -> str:
    """The participant key inside a phone's signed session cookie."""
    from flask import Flask

    app = Flask(__name__)
    app.secret_key = secret
    value = dict(part.split("=", 1) for part in cookie.split("; "))["session"]
    return app.session_interface.get_signing_serializer(app).loads(value)["pid"]


# --- a background loop that raises --------------------------------------------------------------

def test_background_loops_that_raise_log_it_and_go_on(tmp_path):
    """The broadcaster's presence step, a heartbeat tick and a cloud render each raise (injected):
    each failure is logged once with its traceback and counted in /healthz, and the loop goes
    on: the screen still gets the participant count, the heartbeat still beats, and the next
    word still reaches the cloud."""
    setup = prepare_wordcloud(tmp_path / "palabre.db")
    with faulty_room(setup) as room:
        server_process: FaultyServer = room.server
        healthz(room.url)  # starts the heartbeat
        server_process.inject(presence=1, heartbeat=1, clouds=1)

        # Presence: the first join's push fails; the next join's count still reaches the screen.
        room.join(1)
        assert wait_until(lambda: healthz(room.url)["loop_errors"].get("broadcaster") == 1, 10), \
            healthz(room.url)
        room.join(1)
        assert room.screen.wait_for(lambda s: any(
            m.get("participants") == 2 for m in s.messages("presence")), 10), room.screen.messages("presence")

        # Heartbeat: it failed once and beats on.
        assert wait_until(lambda: healthz(room.url)["loop_errors"].get("heartbeat") == 1, 5)
        beats = healthz(room.url)["beats"]
        assert wait_until(lambda: healthz(room.url)["beats"] > beats + 10, 5)

        # Clouds: the first render fails; the next word renders both.
        phone = room.phones[0]
        assert send_word(phone, setup, "sobriété")["ok"]
        assert wait_until(lambda: healthz(room.url)["loop_errors"].get("clouds") == 1, 10)
        assert send_word(phone, setup, "partage")["ok"]
        assert room.screen.wait_for(lambda s: bool(s.messages("cloud")), 10)

        log = server_process.log_tail(400)
        for name in ("broadcaster", "heartbeat", "clouds"):
            assert log.count(f"background loop {name!r} failed; it goes on") == 1, log
        assert log.count("injected failure") >= 3
        assert room.server.alive()


def test_a_blocking_call_on_the_loop_is_in_its_stall_less_the_waits_for_a_core(tmp_path):
    """The loop's thread blocked 400 ms in a C call (injected into a heartbeat tick), as a disk
    write or a lock taken on the loop would: /healthz counts it in `max_loop_held_ms`, the stall
    less the time the thread waited for a core, which tests bound where a wall-clock bound
    fails on a busy machine; the loop's CPU time does not see it."""
    setup = prepare(tmp_path / "palabre.db")
    with faulty_room(setup) as room:
        server_process: FaultyServer = room.server
        healthz(room.url)  # starts the heartbeat
        assert wait_until(lambda: healthz(room.url)["beats"] > 5, 5)
        http_get(room.url, "/healthz?reset=1")
        server_process.inject(block_loop_ms=400)
        assert wait_until(lambda: healthz(room.url)["max_loop_held_ms"] >= 350, 10), healthz(room.url)
        figures = healthz(room.url)
        assert figures["max_loop_gap_ms"] >= figures["max_loop_held_ms"], figures
        assert figures["max_loop_cpu_gap_ms"] < 300, figures
        # The reset clears it, and a loop that turns again stays far below.
        http_get(room.url, "/healthz?reset=1")
        time.sleep(0.5)  # beats without the block (the fault fires once)
        assert healthz(room.url)["max_loop_held_ms"] < 300
        assert room.server.alive()


# --- the database locked, the disk full -------------------------------------------------------

def test_a_locked_database_gets_a_clear_error_and_the_next_write_succeeds(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    with faulty_room(setup, SQLITE_BUSY_TIMEOUT=0.5) as room:
        for action in ("show", "open"):
            room.command(action)
        first, second = room.join(2)
        options = room.setup.options
        assert first.call("vote", {"cid": new_cid(), "activity": setup.activity, "choice": options[0]},
                          timeout=10)["ok"]
        cid = new_cid()
        with write_lock(setup.database):
            ack = second.call("vote", {"cid": cid, "activity": setup.activity, "choice": options[1]},
                              timeout=10)
            assert ack["ok"] is False and ack["error"]["code"] == "database_busy", ack
            assert "not saved" in ack["error"]["message"]
            assert healthz(room.url)["ok"]  # the event loop kept running meanwhile
        # Nothing of the refused vote was written; the same message, sent again, is stored.
        assert query(setup.database, "select count(*) from votes") == [(1,)]
        assert query(setup.database, "select count(*) from client_acks where client_id = ?", (cid,)) == [(0,)]
        again = second.call("vote", {"cid": cid, "activity": setup.activity, "choice": options[1]},
                            timeout=10)
        assert again["ok"], again
        assert query(setup.database, "select count(*) from votes") == [(2,)]
        assert "Traceback" not in room.server.log_tail(200)


def test_a_full_disk_gets_a_clear_error_nothing_half_written_and_the_next_write_succeeds(tmp_path):
    """The database may not grow (SQLite's max_page_count set to its size on each write, as a
    full disk would): one phone changes its vote until a change needs a new page and is refused."""
    setup = prepare(tmp_path / "palabre.db")
    with faulty_room(setup) as room:
        for action in ("show", "open"):
            room.command(action)
        (phone,) = room.join(1)
        options = room.setup.options
        room.server.inject(disk_full=True)
        last_ok, refused = None, None
        for attempt in range(400):
            cid, choice = new_cid(), options[attempt % len(options)]
            ack = phone.call("vote", {"cid": cid, "activity": setup.activity, "choice": choice}, timeout=10)
            if ack["ok"]:
                last_ok = choice
                continue
            refused = (cid, choice, ack)
            break
        assert refused is not None, "the database never filled up"
        cid, choice, ack = refused
        assert ack["error"]["code"] == "storage_full", ack
        assert "disk is full" in ack["error"]["message"]
        # Nothing half-written: the vote is the last acknowledged one, no ack kept for the refused.
        assert query(setup.database, "select choice from votes") == [(json.dumps([last_ok]),)]
        assert query(setup.database, "select count(*) from client_acks where client_id = ?", (cid,)) == [(0,)]
        assert query(setup.database, "PRAGMA integrity_check") == [("ok",)]

        room.server.inject(disk_full=False)  # room again
        again = phone.call("vote", {"cid": cid, "activity": setup.activity, "choice": choice}, timeout=10)
        assert again["ok"], again
        assert query(setup.database, "select choice from votes") == [(json.dumps([choice]),)]
        assert "Traceback" not in room.server.log_tail(400)
