"""Purge of a large session through the real server: duration, event-loop stall, votes next door.

    python -m bench purge [--participants 20000] [--mode eventlet]

Seeds (in a temporary database) an ended, exported session of N participants with their votes
and client acks, and a live session with an open poll; starts the real server; a phone votes
in the live session while the loop's largest stall is measured, first without a purge (the
machine's own noise), then while the organiser's confirmed purge runs in the archive worker.
Prints the purge's duration and rows, both stalls and the votes acknowledged meanwhile; exits
1 if the purge did not finish, a vote was refused, or the stall passed 100 ms. The same code
drives `tests/test_purge_server.py` (tests/purgeload.py).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from live.runtime import DEFAULT_MODE, MODES
from tests.purgeload import describe, measure

GOAL_GAP_MS = 100.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--participants", type=int, default=20_000,
                        help="participants of the purged session (20000)")
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_MODE,
                        help=f"the server's async mode ({DEFAULT_MODE})")


def run(args: argparse.Namespace) -> int:
    """Measure and print; 1 unless the purge finished, every vote was acked and the goal held."""
    if args.participants < 1:
        raise SystemExit("--participants must be at least 1")
    with tempfile.TemporaryDirectory(prefix="palabre-purge-") as workdir:
        report = measure(Path(workdir), args.participants, args.mode)
    print(describe(report))
    good = (report.job is not None and report.job[0] == "done" and report.acked == report.votes
            and report.gap_ms < GOAL_GAP_MS)
    print(f"goal (stall under {GOAL_GAP_MS:.0f} ms, every vote acknowledged): {'met' if good else 'NOT met'}")
    return 0 if good else 1
