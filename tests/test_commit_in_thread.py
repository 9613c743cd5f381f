"""SQLite's group commit in a native thread: a slow disk does not hold the event loop.

A COMMIT in SQLite's WAL mode with `synchronous=FULL` waits for the disk (fsync): about a
millisecond on this machine's disk, tens of milliseconds on an SD card, a cheap laptop's eMMC
or a disk other programs keep busy; the event loop was held that long for every group commit.
The write queue's commits now run in a native thread (`Store.write(commit_in_thread=True)`),
the loop serving the other phones meanwhile. Here each COMMIT is made to take 300 ms (the
driver's connection class, as a slow disk would) in a process patched for each async mode;
a green thread ticks every 10 ms, and its largest gap is the loop's longest hold.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from realserver import prepare

ROOT = Path(__file__).resolve().parent.parent
COMMIT_SECONDS = 0.3

PROBE = """
import json, os, sqlite3, sys, time
mode, url, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
os.environ["LIVE_ASYNC_MODE"] = mode
from live import runtime
runtime.monkey_patch()
if mode == "eventlet":
    from eventlet.patcher import original
    blocking_sleep = original("time").sleep
else:
    from gevent.monkey import get_original
    blocking_sleep = get_original("time", "sleep")
from sqlalchemy import event
from live import create_app
from live.realtime import socketio
from live.sessions import service as sessions

app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k"})
store, writer = app.extensions["palabre.store"], app.extensions["palabre.writer"]

class SlowDisk(sqlite3.Connection):
    def commit(self):
        blocking_sleep(delay)  # the disk's fsync, as slow as an SD card's under load
        super().commit()

@event.listens_for(store.engine, "do_connect")
def slow_disk(dialect, record, cargs, cparams):
    cparams["factory"] = SlowDisk

store.engine.dispose()  # connections opened by the start: new ones, through the slow disk
ticks = []
def tick():
    while True:
        ticks.append(time.monotonic())
        socketio.sleep(0.01)
socketio.start_background_task(tick)
socketio.sleep(0.1)

def longest_hold(start, end):
    seen = [t for t in ticks if start - 0.05 <= t <= end + 0.05]
    return max(b - a for a, b in zip(seen, seen[1:]))

def timed(write):
    started = time.monotonic()
    write()
    return started, time.monotonic()

took, holds = [], []
for n in range(3):  # one after the other: three group commits
    start, end = timed(lambda: writer.run(lambda db: sessions.create_event(db, f"queued {n}")))
    socketio.sleep(0.05)
    took.append(end - start)
    holds.append(longest_hold(start, end))

def in_place():
    with store.write() as db:
        sessions.create_event(db, "in place")

start, end = timed(in_place)
socketio.sleep(0.05)
in_place_hold = longest_hold(start, end)
print(json.dumps({"took": took, "holds": holds, "in_place_hold": in_place_hold}))
"""


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_slow_disk_does_not_hold_the_loop_during_a_group_commit(tmp_path, mode):
    database = tmp_path / "palabre.db"
    prepare(database)
    done = subprocess.run([sys.executable, "-c", PROBE, mode, f"sqlite:///{database}", str(COMMIT_SECONDS)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    # The control: a commit made in place (not by the write queue) holds the loop, and the
    # green thread sees it.
    assert figures["in_place_hold"] >= COMMIT_SECONDS * 0.9, figures
    # The write queue's commits: each write answered only once its commit returned (acknowledged
    # = stored), and the loop ticked on meanwhile (a hold under a third of a commit's time).
    assert all(took >= COMMIT_SECONDS for took in figures["took"]), figures
    assert max(figures["holds"]) < COMMIT_SECONDS / 3, figures
    with closing(sqlite3.connect(database)) as con:
        titles = sorted(row[0] for row in con.execute("select title from events where title like 'queued %'"
                                                      " or title = 'in place'"))
    assert titles == ["in place", "queued 0", "queued 1", "queued 2"]
