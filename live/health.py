"""Health and event-loop responsiveness: `GET /healthz` (from this machine only).

A heartbeat task wakes every 10 ms; the largest gap between two wake-ups tells how long the
event loop was blocked (a render or a database call held it). Benchmarks read and reset it.
The same gap in CPU time of the loop's thread (`max_loop_cpu_gap_ms`) leaves out the time the
process waited for a core: on a loaded machine, what the loop itself did without yielding.
"""

from __future__ import annotations

import os
import time

from flask import Blueprint, abort, current_app, jsonify, request

from live import auth, cluster, loops, realtime, runtime
from live.loops import Loop
from live.realtime import socketio

bp = Blueprint("health", __name__)
TICK = 0.01


class Heartbeat:
    """Measures the event loop's largest stall."""

    def __init__(self):
        self.max_gap = 0.0
        self.max_cpu_gap = 0.0
        self.last = 0.0
        self.last_cpu = 0.0
        self.beats = 0
        self.loop = Loop("heartbeat", socketio, self._beat, lambda: TICK)

    def start(self) -> None:
        """Start the heartbeat task (idempotent; never after stop)."""
        if not self.loop.running:
            self.last, self.last_cpu = time.perf_counter(), time.thread_time()
        self.loop.start()

    def stop(self) -> None:
        """Stop the heartbeat task for good (the server is shutting down)."""
        self.loop.stop()

    def _beat(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.max_gap = max(self.max_gap, now - self.last - TICK)
        self.max_cpu_gap = max(self.max_cpu_gap, cpu - self.last_cpu)
        self.last, self.last_cpu = now, cpu
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
            "max_loop_cpu_gap_ms": round(beat.max_cpu_gap * 1000, 1), "beats": beat.beats,
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
        beat.max_gap = beat.max_cpu_gap = 0.0
    return jsonify(body)
