"""Under eventlet, python-engineio's events and its sockets' packet queues are Palabre's leaner
ones (`runtime.green_event_class`, `runtime.GreenQueue`): they must behave as the ones they
replace where Engine.IO and the write queue use them (order, timeouts, join, a waiter killed),
and a real eventlet server still acknowledges, pushes and lets go of a silent phone with them
(tests/test_memory.py, tests/test_real_server.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from support import new_cid, server_room

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
