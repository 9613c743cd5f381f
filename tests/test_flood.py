"""Abuse is cheap to refuse: a socket that keeps flooding is cut off, a new socket with the same
cookie does not start with a fresh budget, the others go on voting, and one address cannot mint
participants (each with a fresh budget) without end."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import choose_language
from realserver import http_get
from support import Listener, connect, join_cookie, new_cid, server_room, wait_until

from live.ratelimit import WINDOW_SECONDS, Buckets

BUDGET = 40  # RATE_LIMIT_PER_10S in the server below: the default
ROOT = Path(__file__).resolve().parent.parent


def _flood(phone, activity: int, count: int) -> dict:
    """Send `count` votes without waiting; how they were answered."""
    answers = {"ok": 0, "rate_limited": 0, "other": 0}
    lock = threading.Lock()

    def on_ack(data=None, *_rest):
        code = "ok" if data.get("ok") else data["error"]["code"]
        with lock:
            answers[code if code in answers else "other"] += 1

    for n in range(count):
        if not phone.connected:
            break
        try:
            phone.emit("vote", {"cid": f"f{n}-{new_cid()}", "activity": activity, "choice": 1},
                       callback=on_ack)
        except Exception:  # noqa: BLE001 - cut off meanwhile
            break
    return answers


def _health(url: str, reset: bool = False) -> dict:
    status, _headers, body = http_get(url, "/healthz?reset=1" if reset else "/healthz")
    assert status == 200
    return json.loads(body)


@pytest.mark.server
def test_a_flooding_socket_is_cut_off_and_its_next_socket_starts_with_no_fresh_budget(tmp_path):
    with server_room(tmp_path, RATE_LIMIT_PER_10S=BUDGET) as room:
        room.command("show")
        room.command("open")
        activity, options = room.setup.activity, room.setup.options
        cookie = join_cookie(room.url, room.setup.code)
        flooder = connect(room.url, {"code": room.setup.code, "lang": "en"}, cookie=cookie)
        honest = room.join(1)[0]
        room.phones.append(flooder)

        _health(room.url, reset=True)
        start = time.monotonic()
        answers = _flood(flooder, activity, 20000)
        assert wait_until(lambda: not flooder.connected, 15), answers  # cut off
        refilled = (time.monotonic() - start) * BUDGET / WINDOW_SECONDS
        # Refusing costs the loop next to nothing: its largest stall in CPU time (the time it
        # waited for a core on a busy machine left out) stays far below 100 ms.
        assert _health(room.url)["max_loop_cpu_gap_ms"] < 100
        # The budget and what refilled meanwhile (4 a second: the 40 accepted votes wait for
        # their commits one after the other, 1-3 s on a busy machine), no more.
        assert answers["ok"] <= BUDGET + 1 + refilled, (answers, refilled)
        ack = honest.call("vote", {"cid": new_cid(), "activity": activity, "choice": options[0]},
                          timeout=15)
        assert ack["ok"], ack  # the others go on

        again = connect(room.url, {"code": room.setup.code, "lang": "en"}, cookie=cookie)
        room.phones.append(again)
        second = _flood(again, activity, 300)
        assert wait_until(lambda: not again.connected, 15), second  # cut off again, at once
        assert second["ok"] <= 5, second  # not a fresh budget of 40


@pytest.mark.server
def test_unknown_events_count_against_the_budget_too(tmp_path):
    with server_room(tmp_path, RATE_LIMIT_PER_10S=BUDGET) as room:
        listener = Listener("results")
        phone = connect(room.url, {"code": room.setup.code, "lang": "en"},
                        cookie=join_cookie(room.url, room.setup.code), listener=listener)
        room.phones.append(phone)
        for n in range(500):
            if not phone.connected:
                break
            try:
                phone.emit("no_such_event", {"cid": str(n)})
            except Exception:  # noqa: BLE001 - cut off meanwhile
                break
        assert wait_until(lambda: not phone.connected, 15)


def test_new_participants_are_limited_per_address(app, live):
    app.config["JOIN_RATE_PER_MINUTE"] = 3
    pages = [choose_language(app.test_client()).get(f"/j/{live['code']}") for _ in range(4)]
    assert [page.status_code for page in pages[:3]] == [200, 200, 200]
    assert pages[3].status_code == 404 and b"Too many actions" in pages[3].data
    # A participant already known comes back freely (a reload, a reconnection).
    again = choose_language(app.test_client())
    app.config["JOIN_RATE_PER_MINUTE"] = 0
    assert again.get(f"/j/{live['code']}").status_code == 200
    app.config["JOIN_RATE_PER_MINUTE"] = 3
    assert again.get(f"/j/{live['code']}").status_code == 200


def test_refusing_keeps_no_history():
    """A refused action costs one dictionary entry, whatever the number already refused: no
    list of past events to filter again on every event."""
    buckets = Buckets()
    start = time.monotonic()
    allowed = sum(buckets.hit("p1", 40, 10, now=start + n / 100000) for n in range(20000))
    assert allowed == 40
    assert buckets.state["p1"][:1] != [] and len(buckets.state["p1"]) == 3
    assert buckets.strikes("p1") == 20000 - 40
    assert buckets.hit("p1", 40, 10, now=start + 10)  # refilled: allowed again, strikes reset
    assert buckets.strikes("p1") == 0


# A socket's backlog (a flooding client's frames, all there already), read by the server's own
# WebSocket under each async library, while a timer ticks, as the heartbeat and the group
# commit do: how many messages in a row were handed on with no tick in between.
BACKLOG = textwrap.dedent("""
    import sys
    mode, backlog = sys.argv[1], 400
    if mode == "gevent":
        from gevent import monkey
        monkey.patch_all()
        import gevent as hub
        from engineio.async_drivers import gevent as driver
        from live import runtime

        runtime._lean_gevent_websockets()

        class Read:  # simple-websocket's server once its reader has read the whole backlog
            input_buffer = [f"4{n}" for n in range(backlog)]

            def receive(self, timeout=None):
                return self.input_buffer.pop(0) if self.input_buffer else None

        ws = driver._async["websocket"].__new__(driver._async["websocket"])
        ws.ws = Read()
    else:
        import eventlet as hub
        hub.monkey_patch()
        import socket
        from eventlet import websocket
        from live import runtime

        runtime._fair_hub()
        runtime._empty_message_ends_socket()
        ours, theirs = socket.socketpair()
        ws = websocket.RFC6455WebSocket(ours, {}, version=13)
        client = websocket.RFC6455WebSocket(theirs, {}, version=13, client=True)
        theirs.sendall(b"".join(client._pack_message(f"4{n}", masked=True) for n in range(backlog)))

    ticks = [0]

    def tick():  # a timer at each turn of the loop (eventlet's sleep(0) is one, gevent's is not)
        while True:
            hub.sleep(0 if mode == "eventlet" else 0.0005)
            ticks[0] += 1

    hub.spawn(tick)
    hub.sleep(0.002)
    seen = []
    for _ in range(backlog):
        assert ws.wait() is not None
        seen.append(ticks[0])
    runs = [seen.count(t) for t in set(seen)]
    print(max(runs), len(seen))
""")


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_sockets_backlog_gives_the_loop_turns_while_it_is_handled(mode):
    """A flooding socket's frames are all there already: its reader never waited, so the loop
    never turned while thousands were handled (refused, then dropped after the cut-off), and
    the others, the heartbeat and the group commit waited 70-110 ms of CPU. Every few messages
    in a row, the reader now gives the loop a turn (`runtime._InARow`)."""
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", BACKLOG, mode], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    longest, handled = map(int, done.stdout.split())
    assert handled == 400
    assert longest <= 10, f"{longest} messages handled in a row with no timer run"


@pytest.mark.server
def test_a_flooder_that_keeps_sending_after_its_cut_off_is_no_longer_read(tmp_path):
    """A hostile client neither closes its connection when it is cut off nor stops sending.
    Socket.IO's disconnect alone left its Engine.IO connection open, and the server went on
    reading (and dropping) every frame it sent, for as long as it sent them. The server now
    closes the connection at the cut-off: the client's sends fail soon after."""
    import websocket

    with server_room(tmp_path, RATE_LIMIT_PER_10S=BUDGET) as room:
        room.command("show")
        room.command("open")
        activity, options = room.setup.activity, room.setup.options
        cookie = join_cookie(room.url, room.setup.code)
        address = room.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        raw = websocket.create_connection(address, cookie=cookie, timeout=5)
        try:
            assert raw.recv().startswith("0")  # Engine.IO's handshake
            raw.send(json.dumps({"code": room.setup.code, "lang": "en"}).join(("40", "")))
            opening = [raw.recv(), raw.recv()]  # the snapshot, and Socket.IO's CONNECT answer
            assert any(frame.startswith("40") for frame in opening), opening
            start, sent, refused_at = time.monotonic(), 0, None
            while time.monotonic() - start < 6:  # sends, never reads, for 6 s at most
                try:
                    raw.send(f'42{sent}["vote",{{"cid":"r{sent}","activity":{activity},"choice":{options[0]}}}]')
                except (websocket.WebSocketException, OSError):
                    refused_at = time.monotonic() - start
                    break
                sent += 1
            # Cut off after its budget (40 votes, a fraction of a second): the server closed the
            # connection, and the sends failed well before the 6 s were over.
            assert refused_at is not None and refused_at < 4, (sent, refused_at)
        finally:
            raw.close()
        honest = room.join(1)[0]  # the others are still served
        ack = honest.call("vote", {"cid": new_cid(), "activity": activity, "choice": options[0]}, timeout=15)
        assert ack["ok"], ack
