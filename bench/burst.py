"""A vote burst through the real server: N participants vote at the same moment, measured.

    python -m bench burst [--participants 500] [--mode eventlet|gevent]

Starts `python wsgi.py` as a subprocess on 127.0.0.1 (a free port, a fresh SQLite file in a
temporary folder), creates an event, a session and a 4-option single-choice poll in that file,
connects a facilitator (who shows, opens and reveals the poll), a screen and N participants over
WebSocket (each with its own cookie from `GET /j/<code>`, as a phone), then sends the N votes at
once and waits for every ack. It prints the burst's wall time, acks per second, the p50/p95 ack
latency, how many votes are stored and how many "results" messages the screen received (the
broadcaster coalesces them: a handful, not one per vote). Exits 1 if a vote was lost.

The test suite drives the server with the same helpers (tests/realserver.py).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from live.runtime import DEFAULT_MODE, MODES
from tests.realserver import Burst, room, skewed_choices


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--participants", type=int, default=500, help="phones voting at once (500)")
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_MODE,
                        help=f"the server's async mode ({DEFAULT_MODE})")


@dataclass
class Report:
    """The figures of one benchmark run."""

    mode: str
    burst: Burst
    stored: int
    results_messages: int
    connect_seconds: float
    matches_screen: bool
    loop_gap_ms: float | None = None
    screen_answers: int | None = None
    server_cpu: float | None = None  # seconds of server CPU from the release to the last ack


def measure(participants: int = 500, mode: str = DEFAULT_MODE, workdir: Path | None = None,
        out: Callable[[str], None] = print) -> Report:
    """Start the server, connect everyone, burst the votes, and measure."""
    with tempfile.TemporaryDirectory(prefix="palabre-burst-") as scratch:
        with room(Path(workdir or scratch), mode=mode) as the_room:
            for action in ("show", "open", "reveal"):
                the_room.command(action)
            the_room.loop_gap()  # starts the server's heartbeat
            out(f"{mode}: connecting {participants} participants...")
            start = time.perf_counter()
            the_room.join(participants)
            connect_seconds = time.perf_counter() - start
            choices = skewed_choices(the_room.setup.options, participants)
            before = the_room.screen.count("results")
            the_room.loop_gap(reset=True)
            cpu_before = the_room.server.cpu_seconds()
            burst = the_room.burst(choices)
            cpu_after = the_room.server.cpu_seconds()
            gap = the_room.loop_gap()
            last = the_room.settled_results(burst.ok, timeout=30)
            stored, counts = the_room.stored()
            results_messages = the_room.screen.count("results") - before
            screen_counts = {o["id"]: o["count"] for o in (last or {}).get("results", {}).get("options", [])}
            matches = all(screen_counts.get(o, 0) == counts.get(o, 0) for o in the_room.setup.options)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return Report(mode, burst, stored, results_messages, connect_seconds, matches, gap,
                  (last or {}).get("answers"), cpu)


def describe(report: Report) -> str:
    """The report as a few lines of text."""
    burst = report.burst
    rate = burst.ok / burst.wall if burst.wall and burst.wall == burst.wall else float("nan")
    cpu = "n/a" if report.server_cpu is None else (
        f"{report.server_cpu:.2f} s in the burst, {report.server_cpu / burst.size * 1000:.1f} ms per vote")
    return "\n".join([
        f"mode                 {report.mode}",
        f"participants         {burst.size} (connected in {report.connect_seconds:.1f} s)",
        f"acks                 {burst.acked} received, {burst.ok} ok",
        f"burst wall time      {burst.wall * 1000:.0f} ms (release to last ack)",
        f"acks per second      {rate:.0f}",
        f"ack latency          p50 {burst.percentile(50) * 1000:.0f} ms, "
        f"p95 {burst.percentile(95) * 1000:.0f} ms",
        f"votes stored         {report.stored}",
        f"server CPU           {cpu}",
        f"event loop stall     {'n/a' if report.loop_gap_ms is None else f'{report.loop_gap_ms:.0f} ms'}"
        " (largest, during the burst; the goal is under 100 ms)",
        f"screen 'results'     {report.results_messages} messages, the last one for "
        f"{report.screen_answers} answers"
        f"{'' if report.matches_screen else ' (IT DIFFERS FROM THE DATABASE)'}",
    ])


def run(args: argparse.Namespace) -> int:
    """Measure and print; 1 if a vote was lost or the screen differs from the database."""
    if args.participants < 1:
        raise SystemExit("--participants must be at least 1")
    report = measure(args.participants, args.mode)
    print(describe(report))
    good = report.burst.ok == report.burst.size == report.stored and report.matches_screen
    return 0 if good else 1
