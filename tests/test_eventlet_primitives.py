"""Under eventlet, python-engineio's events and its sockets' packet queues are Palabre's leaner
ones (`runtime.green_event_class`, `runtime.GreenQueue`): they must behave as the ones they
replace where Engine.IO and the write queue use them (order, timeouts, join, a waiter killed),
and a real eventlet server still acknowledges, pushes and lets go of a silent phone with them
(tests/test_memory.py, tests/test_real_server.py)."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from realserver import prepare
from support import join_cookie, new_cid, open_poll, server, server_room

ROOT = Path(__file__).resolve().parent.parent

CHECKS = textwrap.dedent("""
    import eventlet
    eventlet.monkey_patch()
    import time
    from engineio.async_drivers import eventlet as driver
    from live import runtime

    runtime._lean_eventlet_primitives()
    assert driver._async["queue"] is runtime.GreenQueue
    Event, Queue, Empty = driver._async["event"], driver._async["queue"], driver._async["queue_empty"]

    # a queue: items in order to a waiting getter, put from another green thread
    q, got = Queue(), []
    def writer():
        while True:
            try:
                item = q.get(timeout=5)
            except Empty:
                got.append("empty")
                return
            q.task_done()
            if item is None:
                return
            got.append(item)
    task = eventlet.spawn(writer)
    eventlet.sleep(0)
    for i in range(100):
        q.put(i)
        if i % 7 == 0:
            eventlet.sleep(0)
    q.put(None)
    task.wait()
    assert got == list(range(100)), got
    q.join()  # every item was marked done: returns at once

    # get without waiting, and a timeout (Engine.IO's writer gives up after it)
    try:
        q.get(block=False)
        raise AssertionError("an empty queue gave an item")
    except Empty:
        pass
    started = time.monotonic()
    try:
        q.get(timeout=0.2)
        raise AssertionError("no timeout")
    except Empty:
        assert 0.15 <= time.monotonic() - started < 2
    # several getters, the earlier deadline first, the later one still served by a put
    late, early = [], []
    def wait_for(timeout, into):
        try:
            into.append(q.get(timeout=timeout))
        except Empty:
            into.append("empty")
    a = eventlet.spawn(wait_for, 5, late)
    b = eventlet.spawn(wait_for, 0.1, early)
    eventlet.sleep(0.3)
    assert early == ["empty"] and late == [], (early, late)
    q.put("x")
    a.wait(); b.wait()
    assert late == ["x"], late
    # a getter killed while waiting leaves the queue usable
    dead = eventlet.spawn(q.get)
    eventlet.sleep(0)
    dead.kill()
    q.put("kept")
    assert q.get(timeout=1) == "kept"
    # join waits until every item put was marked done
    q2, joined = Queue(), []
    q2.put(1)
    waiter = eventlet.spawn(lambda: (q2.join(), joined.append(True)))
    eventlet.sleep(0.05)
    assert joined == []
    q2.get(); q2.task_done()
    waiter.wait()
    assert joined == [True]

    # an event: set wakes its waiters, wait times out with False, clear makes it wait again
    e, woken = Event(), []
    waiters = [eventlet.spawn(lambda: woken.append(e.wait())) for _ in range(3)]
    eventlet.sleep(0)
    assert not e.is_set() and woken == []
    e.set()
    e.set()  # twice: no harm
    for w in waiters:
        w.wait()
    assert woken == [True, True, True] and e.is_set() and e.wait(0.01) is True
    e.clear()
    started = time.monotonic()
    assert e.wait(0.1) is False and time.monotonic() - started >= 0.08

    # links of a green thread (eventlet's server pool links each connection's) and a
    # WebSocket's send lock keep no deque: still called, and woken, in order
    from eventlet import greenthread, semaphore, websocket
    calls = []
    t = eventlet.spawn(lambda: None)
    for n in range(3):
        t.link(lambda _t, n=n: calls.append(n))
    t.wait(); eventlet.sleep(0)
    assert calls == [0, 1, 2] and isinstance(t._exit_funcs, runtime.FewItems), calls
    ws = websocket.RFC6455WebSocket(None, {}, 13)
    assert ws._msgs is None and isinstance(ws._sendlock._waiters, runtime.FewItems)
    lock, order = ws._sendlock, []
    def hold(n):
        with lock:
            order.append(n)
            eventlet.sleep(0.01)
    lock.acquire()
    holders = [eventlet.spawn(hold, n) for n in range(4)]
    eventlet.sleep(0.02)
    lock.release()
    for h in holders:
        h.wait()
    assert order == [0, 1, 2, 3] and not lock._waiters, order
    print("ok")
""")


def test_lean_primitives_behave_as_engineios():
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", CHECKS], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_votes_and_pushes_through_an_eventlet_server(tmp_path):
    """Through the real server (eventlet, the primitives installed by `runtime.serve`): 20 phones
    vote at once (their handlers wait on the write queue's events together), each gets its
    ack, and the screen's count reaches 20; a phone's votes in a row are answered in order."""
    with server_room(tmp_path) as room:
        room.command("show")
        room.command("open")
        phones = room.join(20)
        options = room.setup.options
        burst = room.burst([options[i % len(options)] for i in range(20)])
        assert [ack["ok"] for ack in burst.acks] == [True] * 20
        assert room.screen.wait_for(lambda s: any(
            m.get("answers") == 20 for m in s.messages("results")), 15)
        for option in options * 2:
            ack = phones[0].call("vote", {"cid": new_cid(), "activity": room.setup.activity,
                                          "choice": option}, timeout=15)
            assert ack["ok"] and ack["choice"] == [option]


def _masked(text: str) -> bytes:
    """A phone's text frame (masked, as a browser sends it)."""
    data, mask = text.encode(), os.urandom(4)
    size = len(data)
    head = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _texts(sock: socket.socket, buffer: bytearray) -> Iterator[str]:
    """The server's text frames (unmasked, uncompressed: no extension offered)."""
    while True:
        while len(buffer) < 2 or len(buffer) < _frame_size(buffer):
            chunk = sock.recv(65536)
            if not chunk:
                return
            buffer += chunk
        size, start = _frame_size(buffer), 2 if buffer[1] & 127 < 126 else 4
        frame = bytes(buffer[start:size])
        del buffer[:size]
        yield frame.decode()


def _frame_size(buffer: bytearray) -> int:
    length = buffer[1] & 127
    if length < 126:
        return 2 + length
    return 4 + int.from_bytes(buffer[2:4], "big") if len(buffer) >= 4 else 1 << 30


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_frames_split_or_together_are_each_read_once(tmp_path, mode):
    """A vote whose frame comes one byte per TCP segment, and three votes in one segment, are
    each read whole and answered once, in order, with the writers' packet queues and the write
    queue's events of `runtime` (eventlet) as with gevent's."""
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    with server(setup.database, mode) as running, \
            socket.create_connection(("127.0.0.1", running.port), timeout=15) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(
            ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
             f"Host: 127.0.0.1:{running.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Origin: http://127.0.0.1:{running.port}\r\n"
             f"Cookie: {join_cookie(running.url, setup.code)}\r\n"
             "Sec-WebSocket-Key: cGFsYWJyZS1ldmVudGxldA==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        texts = _texts(sock, bytearray())
        assert next(texts).startswith("0{")
        sock.sendall(_masked("40" + json.dumps({"code": setup.code, "lang": "en"})))
        assert any(t.startswith('42["snapshot"') for t in itertools.islice(texts, 10))

        def vote(ack: int, option: int) -> bytes:
            payload = {"cid": f"split-{ack}", "activity": setup.activity, "choice": option}
            return _masked(f"42{ack}" + json.dumps(["vote", payload]))

        for byte in vote(1, setup.options[0]):  # one byte per segment
            sock.send(bytes([byte]))
        sock.sendall(vote(2, setup.options[1]) + vote(3, setup.options[2]) + vote(4, setup.options[0]))
        answers = _acks(texts, 4)
    assert [a[:3] for a in answers] == ["431", "432", "433", "434"], answers
    assert all('"ok":true' in a.replace(" ", "") for a in answers), answers


def _acks(texts: Iterator[str], count: int) -> list[str]:
    found = []
    for text in itertools.islice(texts, 50):
        if text.startswith("43"):
            found.append(text)
            if len(found) == count:
                break
    return found
