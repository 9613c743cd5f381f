"""Health and event-loop responsiveness: `GET /healthz` (from this machine only).

A heartbeat task wakes every 10 ms; the largest gap between two wake-ups tells how long the
event loop was blocked (a render or a database call held it). Benchmarks read and reset it.
The same gap in CPU time of the loop's thread (`max_loop_cpu_gap_ms`) leaves out the time the
process waited for a core: on a loaded machine, what the loop itself did without yielding. The
gap less the time the loop's thread waited in the kernel's run queue for a core
(`max_loop_held_ms`, from `/proc/thread-self/schedstat` on Linux) keeps what the loop's CPU
time misses, a call that blocked it (a disk write, a lock), and leaves out what only a busy
machine adds: tests bound it where a wall-clock bound would fail on a loaded CI machine. The
kernel stamps those waits with a clock updated at its tick, so a beat's figure can be a tick
(4 ms at 250 Hz) short: a figure for stalls of tens of milliseconds and more.
"""

from __future__ import annotations

import os
import threading
import time

from flask import Blueprint, abort, current_app, jsonify, request

from live import auth, cluster, loops, realtime, runtime
from live.loops import Loop
from live.realtime import socketio

bp = Blueprint("health", __name__)
TICK = 0.01


class RunQueueClock:
    """The seconds the calling thread has waited for a core so far (Linux's schedstat, second
    field, in ns), read with one `pread` of a file opened once: 1-2 µs. 0.0 forever where the
    file does not exist (another system, or a kernel without it)."""

    def __init__(self):
        self.fd: int | None = None
        self.thread: int | None = None

    def __call__(self) -> float:
        if self.thread != threading.get_native_id():  # the file is the thread's that opened it
            self.close()
            self.thread = threading.get_native_id()
            try:
                self.fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
            except OSError:
                self.fd = None
        if self.fd is None:
            return 0.0
        try:
            return int(os.pread(self.fd, 128, 0).split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class Heartbeat:
    """Measures the event loop's largest stall."""

    def __init__(self):
        self.max_gap = 0.0
        self.max_cpu_gap = 0.0
        self.max_held = 0.0
        self.last = 0.0
        self.last_cpu = 0.0
        self.last_queued = 0.0
        self.queued = RunQueueClock()  # the seconds the loop's thread waited for a core so far
        self.beats = 0
        self.loop = Loop("heartbeat", socketio, self._beat, lambda: TICK)

    def start(self) -> None:
        """Start the heartbeat task (idempotent; never after stop)."""
        if not self.loop.running:
            self.last, self.last_cpu = time.perf_counter(), time.thread_time()
            self.last_queued = self.queued()
        self.loop.start()

    def stop(self) -> None:
        """Stop the heartbeat task for good (the server is shutting down)."""
        self.loop.stop()
        self.queued.close()

    def _beat(self) -> None:
        thread = self.queued.thread
        now, cpu, queued = time.perf_counter(), time.thread_time(), self.queued()
        gap = now - self.last - TICK
        self.max_gap = max(self.max_gap, gap)
        self.max_cpu_gap = max(self.max_cpu_gap, cpu - self.last_cpu)
        if self.queued.thread == thread:  # (the loop's first beat in another thread than its start)
            self.max_held = max(self.max_held, gap - (queued - self.last_queued))
        self.last, self.last_cpu, self.last_queued = now, cpu, queued
        self.beats += 1


def _gate_figures(gate) -> dict:
    """The connect gate's line (live/connectgate.py): set-ups waiting now, the longest line."""
    if gate is None:
        return {}
    return gate.figures()


@bp.get("/healthz")
def healthz():
    """Liveness, open connections and the largest event-loop stall since the last reset."""
    if not auth.is_local_request():
        abort(404)
    beat: Heartbeat = current_app.extensions["palabre.heartbeat"]
    beat.start()
    body = {"ok": True, "async_mode": socketio.async_mode, "connections": realtime.connection_count(),
            "max_loop_gap_ms": round(beat.max_gap * 1000, 1),
            "max_loop_cpu_gap_ms": round(beat.max_cpu_gap * 1000, 1),
            "max_loop_held_ms": round(beat.max_held * 1000, 1), "beats": beat.beats,
            "loop_errors": loops.error_counts(),
            "queued_writes": current_app.extensions["palabre.writer"].queued(),
            "group_commits": current_app.extensions["palabre.writer"].commits,
            **current_app.extensions["palabre.store"].figures(),
            "pid": os.getpid(), "queue": cluster.queue_state(socketio.server.manager),
            **_gate_figures(current_app.extensions.get("palabre.connect_gate")),
            **runtime.turn_figures()}
    collector = current_app.extensions.get("palabre.collector")
    if collector is not None:  # the garbage collector's full passes (live/collector.py)
        body["gc_full_passes"] = collector.passes
        body["gc_longest_full_ms"] = round(collector.longest * 1000, 1)
    if request.args.get("reset"):
        beat.max_gap = beat.max_cpu_gap = beat.max_held = 0.0
    return jsonify(body)
