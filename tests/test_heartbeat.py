"""The heartbeat's clock of the time a thread waited for a core (live/health.py, RunQueueClock).

`max_loop_held_ms` is the loop's largest stall less that wait: it must see the wait when the
thread shares its core with busy processes, and see none when the thread only slept. The busy
processes are real ones, pinned with this thread to one core, and stopped by the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from live.health import RunQueueClock

HOG = "import os, sys, time\nos.sched_setaffinity(0, {int(sys.argv[1])})\nend = time.monotonic() + 5\n" \
      "while time.monotonic() < end:\n    pass\n"

pytestmark = pytest.mark.skipif(not Path("/proc/thread-self/schedstat").exists(),
                                reason="Linux's schedstat only (the clock reads 0.0 elsewhere)")


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_thread_sharing_its_core_with_busy_processes_is_seen_waiting_for_it():
    clock = RunQueueClock()
    core = min(os.sched_getaffinity(0))
    before_affinity = os.sched_getaffinity(0)
    hogs = [subprocess.Popen([sys.executable, "-c", HOG, str(core)]) for _ in range(2)]
    try:
        os.sched_setaffinity(0, {core})  # this thread only (Linux: pid 0 is the calling thread)
        time.sleep(0.3)  # the busy processes are running on the core
        waited, cpu, wall = clock(), time.thread_time(), time.perf_counter()
        _spin(0.6)
        waited, cpu, wall = clock() - waited, time.thread_time() - cpu, time.perf_counter() - wall
    finally:
        os.sched_setaffinity(0, before_affinity)
        for hog in hogs:
            hog.kill()
            hog.wait()
        clock.close()
    print(f"wall {wall:.3f} s: ran {cpu:.3f} s, waited for the core {waited:.3f} s")
    # Three runnable tasks on one core: this one ran about a third of the time and waited the rest.
    assert waited > 0.25 * wall
    assert cpu + waited <= wall * 1.05 + 0.01


def test_a_thread_that_sleeps_waits_for_no_core():
    clock = RunQueueClock()
    try:
        waited = clock()
        for _ in range(10):
            time.sleep(0.03)
        waited = clock() - waited
    finally:
        clock.close()
    assert 0 <= waited < 0.05  # ten wake-ups, each a few ms at most on a loaded machine


def test_the_clock_follows_the_thread_that_reads_it():
    """The file read is the calling thread's: read from another thread, the clock opens that
    thread's own, not the first reader's."""
    import threading

    clock = RunQueueClock()
    try:
        clock()
        first = clock.thread
        seen = []
        thread = threading.Thread(target=lambda: seen.append((clock(), clock.thread)))
        thread.start()
        thread.join()
        assert seen and seen[0][1] != first and seen[0][1] == thread.native_id
    finally:
        clock.close()
