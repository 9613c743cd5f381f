"""A phone coming back (a reconnection, a second tab): one read, no write, and a snapshot built
from the view every phone of the session shares plus its own parts. It gets its own vote, its
own items and its own pace, the current state version and the current counts; never another
participant's private parts; and it comes back while another process holds the database's
write lock (a backup, the command line), which a write on connect would have waited for."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing, contextmanager

import pytest
from conftest import cid, command, events_named
from test_boards_service import add_board

from live.realtime import socketio

MINE, THEIRS = "Couper la veille des écrans", "Un serveur pour deux salles"


def _browser(app, live):
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    return browser


def _connect(app, live, browser):
    return socketio.test_client(app, auth={"code": live["code"], "lang": "en"}, flask_test_client=browser)


def _snapshot(sock) -> dict:
    snaps = events_named(sock, "snapshot")
    assert snaps, "no snapshot on connect"
    return snaps[-1]


def _state_version(store, session_id) -> int:
    from live.sessions.model import LiveSession

    with store.read() as db:
        return db.get(LiveSession, session_id).version


def test_a_phone_coming_back_gets_its_own_vote_the_current_version_and_counts(app, live, poll, store):
    browsers = [_browser(app, live) for _ in range(3)]
    first, second, third = (_connect(app, live, b) for b in browsers)
    options = [o["id"] for o in _snapshot(first)["current"]["options"]]
    assert first.emit("vote", {"cid": cid(), "activity": poll, "choice": options[1]}, callback=True)["ok"]
    for sock in (first, second, third):
        sock.disconnect()
    # Back one after the other: the shared view serves them all, each with its own part.
    again = [_connect(app, live, b) for b in browsers]
    snaps = [_snapshot(s) for s in again]
    assert [s["current"]["mine"] for s in snaps] == [[options[1]], None, None]
    assert {s["version"] for s in snaps} == {_state_version(store, live["id"])}
    assert all(s["current"]["answers"] == 1 and s["participants"] == 3 for s in snaps)

    # A change here is seen by the next phone at once (not a second later from the shared view).
    assert again[1].emit("vote", {"cid": cid(), "activity": poll, "choice": options[0]}, callback=True)["ok"]
    command(store, live["id"], "reveal", poll)
    late = _connect(app, live, browsers[2])
    snap = _snapshot(late)
    assert snap["current"]["answers"] == 2 and snap["current"]["revealed"] is True
    assert snap["version"] == _state_version(store, live["id"])
    assert snap["current"]["mine"] is None
    assert sorted(o["count"] for o in snap["current"]["results"]["options"]) == [0, 1, 1]
    for sock in [*again, late]:
        sock.disconnect()


def test_the_shared_view_never_carries_a_participants_private_items_or_pace(app, live, store):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False, private=True)
    me_browser, other_browser = _browser(app, live), _browser(app, live)
    me, other = _connect(app, live, me_browser), _connect(app, live, other_browser)
    for sock, text in ((me, MINE), (other, THEIRS)):
        ack = sock.emit("board_post", {"cid": cid(), "activity": wall, "text": text, "column": 0},
                        callback=True)
        assert ack["ok"], ack
    facilitator = socketio.test_client(app, auth={"token": live["facilitator"], "lang": "en"})
    assert facilitator.emit("pulse_switch", {"cid": cid(), "on": True}, callback=True)["ok"]
    assert me.emit("pace", {"cid": cid(), "pace": "fast"}, callback=True)["ok"]
    assert me.emit("hand", {"cid": cid(), "up": True}, callback=True)["ok"]
    me.disconnect()
    other.disconnect()

    me, other = _connect(app, live, me_browser), _connect(app, live, other_browser)
    mine, theirs = _snapshot(me), _snapshot(other)
    assert [i["text"] for i in mine["current"]["mine"]["items"]] == [MINE]
    assert [i["text"] for i in theirs["current"]["mine"]["items"]] == [THEIRS]
    assert THEIRS not in json.dumps(mine, ensure_ascii=False)
    assert MINE not in json.dumps(theirs, ensure_ascii=False)
    assert mine["current"]["items"] is None and mine["current"]["published"] == 2  # the count only
    assert mine["pulse"] == {"on": True, "mine": "fast", "hand": {"ticket": 1, "place": 1}}
    assert theirs["pulse"] == {"on": True, "mine": None, "hand": None}
    for sock in (me, other, facilitator):
        sock.disconnect()


def test_a_phone_comes_back_while_another_process_holds_the_write_lock(app, live, poll, tmp_path):
    app.extensions["palabre.store"].busy_timeout = 3.0
    browser = _browser(app, live)
    _connect(app, live, browser).disconnect()  # joined: the participant exists
    with closing(sqlite3.connect(tmp_path / "palabre.db", timeout=1, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # a backup, the command line... holds the write lock
        try:
            started = time.monotonic()
            sock = _connect(app, live, browser)
            took = time.monotonic() - started
            assert sock.is_connected() and _snapshot(sock)["current"]["id"] == poll
            assert took < 2.0, f"the reconnection waited {took:.1f} s for the write lock"
        finally:
            other.execute("ROLLBACK")
    sock.disconnect()


def _frames_until(raw, wanted: str, timeout: float) -> bool:
    """Read frames until `wanted` arrives (True) or `timeout` passes or the socket closes (False)."""
    import websocket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            frame = raw.recv()
        except websocket.WebSocketTimeoutException:
            return False
        except (websocket.WebSocketConnectionClosedException, OSError):
            return False
        if frame == wanted:
            return True
        if frame == "":
            return False
    return False


@contextmanager
def _raw_engineio_socket(tmp_path, **settings):
    """A real server with `settings`, and a bare Engine.IO WebSocket to it (no Socket.IO on
    top: the test answers pings by hand): (the socket, its open packet). The server must still
    be running once the socket is closed."""
    import websocket
    from support import prepare, server

    database = tmp_path / "palabre.db"
    prepare(database)
    with server(database, **settings) as srv:
        address = srv.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        raw = websocket.create_connection(address, timeout=10)
        try:
            yield raw, json.loads(raw.recv()[1:])
        finally:
            raw.close()
        assert srv.alive()


def test_sockets_are_pinged_and_one_that_stops_answering_is_closed(tmp_path):
    """Under eventlet, pings are timers of the hub (not a sleeping green thread per socket):
    every socket still gets them at the interval, and a socket that stops answering is closed."""
    import websocket

    with _raw_engineio_socket(tmp_path, PING_INTERVAL=1, PING_TIMEOUT=1) as (raw, opened):
        assert opened["pingInterval"] == 1000
        started = time.monotonic()
        for _ in range(3):  # pinged, answered, pinged again
            assert _frames_until(raw, "2", 5), "no ping"
            raw.send("3")
        assert 1.5 <= time.monotonic() - started <= 8
        assert _frames_until(raw, "2", 5)  # then silence: the server closes the socket
        assert not _frames_until(raw, "never", 10) and time.monotonic() - started < 20
        with pytest.raises((websocket.WebSocketConnectionClosedException, OSError)):
            for _ in range(3):
                raw.send("3")
                raw.recv()


def test_pings_keep_their_interval_when_the_answers_come_late(tmp_path):
    """The server pings every `ping_interval` from the previous ping, however late the answer
    (within the timeout): a client answering 0.9 s late is pinged every second, not every 1.9 s
    (python-engineio's client gives up after max(interval, timeout) + 5 s without sending: a busy
    hall's screen lost its socket so)."""
    with _raw_engineio_socket(tmp_path, PING_INTERVAL=1, PING_TIMEOUT=3) as (raw, _opened):
        pinged = []
        for _ in range(4):
            assert _frames_until(raw, "2", 5), "no ping"
            pinged.append(time.monotonic())
            time.sleep(0.9)
            raw.send("3")
        gaps = [b - a for a, b in zip(pinged, pinged[1:], strict=False)]
        assert sum(gaps) / len(gaps) < 1.45, gaps  # 1.9 s each when counted from the answer


def test_the_join_page_of_a_returning_phone_writes_nothing(app, live, poll, tmp_path):
    """A phone that has joined reloads its page (a reconnection, a tab woken up): one read,
    nothing written. Another process holds the database's write lock meanwhile, with a short
    wait for it: a page that wrote (as every load of the join page did) would be refused."""
    app.extensions["palabre.store"].busy_timeout = 0.3
    browser = _browser(app, live)  # joined: the participant exists
    sock = _connect(app, live, browser)
    options = [o["id"] for o in _snapshot(sock)["current"]["options"]]
    assert sock.emit("vote", {"cid": cid(), "activity": poll, "choice": options[1]}, callback=True)["ok"]
    sock.disconnect()
    with closing(sqlite3.connect(tmp_path / "palabre.db", timeout=1, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # a backup, the command line... holds the write lock
        try:
            page = browser.get(f"/j/{live['code']}")
            assert page.status_code == 200
            html = page.get_data(as_text=True)
            assert "Question ?" in html and 'name="choice"' in html
            newcomer = app.test_client().get(f"/j/{live['code']}")  # a new phone must write: refused
            assert newcomer.status_code != 200
        finally:
            other.execute("ROLLBACK")
    assert app.test_client().get(f"/j/{live['code']}").status_code == 200  # and joins once it is free
