"""The garbage collector's full passes wait for a quiet room (live/collector.py): none while
writes come, one once the writes have stopped a moment, and one at the latest whatever happens;
the collector's own rule is back once the server stops."""

from __future__ import annotations

import gc
import time
import weakref

from live import collector
from live.collector import QuietCollector


class NoTasks:
    """A Socket.IO stand-in whose background tasks never run: the test takes each step."""

    server = None

    def start_background_task(self, fn):
        return None


socketio = NoTasks()


def test_full_passes_wait_for_quiet_and_never_longer_than_latest():
    idle = {"for": 0.0}
    watch = QuietCollector(socketio, lambda: idle["for"])
    before = gc.get_threshold()
    watch.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], collector.OUT_OF_REACH)
        assert not watch.step()  # just started: not due
        watch.last = time.monotonic() - collector.EVERY - 1
        assert not watch.step()  # due, but writes are under way
        idle["for"] = collector.QUIET / 2
        assert not watch.step()  # not quiet long enough
        idle["for"] = collector.QUIET
        assert watch.step() and watch.passes == 1
        assert not watch.step()  # just ran
        idle["for"] = 0.0
        watch.last = time.monotonic() - collector.LATEST
        assert watch.step() and watch.passes == 2  # busy, but it waited long enough
    finally:
        watch.stop()
    assert gc.get_threshold() == before


def test_a_full_pass_frees_cyclic_garbage():
    watch = QuietCollector(socketio, lambda: collector.QUIET)
    watch.start()
    try:
        class Node:
            pass

        freed = []
        node = Node()
        node.me = node
        weakref.finalize(node, freed.append, True)
        for _ in range(3):  # survives the young generations' passes into the oldest
            gc.collect(1)
        del node
        watch.last = time.monotonic() - collector.EVERY
        assert watch.step() and freed == [True]
    finally:
        watch.stop()


def test_votes_leave_no_cyclic_garbage(phone, poll):
    """A vote's group commit is freed by reference counting alone: its session, its rows and
    what it loaded are no cyclic garbage waiting for the collector (each group commit left
    some 300 objects so: 20-30 per vote in a steady stream, the young passes' main work)."""
    from conftest import cid
    from sqlalchemy.orm import Session

    socks = [phone() for _ in range(3)]
    options = [o["id"] for o in [e for e in socks[0].get_received() if e["name"] == "snapshot"][-1]
               ["args"][0]["current"]["options"]]
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for round_ in range(3):
            for index, sock in enumerate(socks):
                ack = sock.emit("vote", {"cid": cid(), "activity": poll,
                                         "choice": options[(index + round_) % len(options)]}, callback=True)
                assert ack["ok"], ack
        gc.collect()
        sessions = [o for o in gc.garbage if isinstance(o, Session)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert sessions == []
