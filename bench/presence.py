"""Live counts through the real server: phones join, then leave; what the screen is told.

    python -m bench presence [--participants 300] [--mode eventlet]

Phones open the join link and connect (32 at a time); a screen socket records the `presence`
pushes. Prints JSON: how long the joins took, how long after the last phone connected the
screen's count showed them all (and after the first one left, none), how many `presence`
pushes the screen got for it (coalesced: at most two a second), and the server's CPU time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from live.runtime import DEFAULT_MODE, MODES
from tests.realserver import Listener, Server, close_all, connect, join_phones, prepare


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_MODE)


def run(args: argparse.Namespace) -> None:
    """Measure and print the figures as JSON."""
    print(json.dumps(presence(args.participants, args.mode), indent=1))


def _shown(ears: Listener, connected: int, timeout: float) -> bool:
    return ears.wait_for(lambda e: bool(e.messages("presence"))
                         and e.messages("presence")[-1]["connected"] == connected, timeout)


def presence(participants: int = 300, mode: str = DEFAULT_MODE, workdir: Path | None = None) -> dict:
    """Phones join then leave; the screen's `presence` pushes."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="palabre-presence-"))
    setup = prepare(workdir / "palabre.db")
    server = Server(setup.database, mode, RATE_LIMIT_PER_10S=100000).start()
    clients: list = []
    try:
        ears = Listener("presence")
        clients.append(connect(server.url, {"token": setup.screen, "lang": "en"}, listener=ears))
        cpu = server.cpu_seconds()
        started = time.monotonic()
        phones = join_phones(server.url, setup, participants)
        clients += phones
        joined = time.monotonic()
        all_shown = _shown(ears, participants, 30)
        shown_after = time.monotonic() - joined
        pushes_in = ears.count("presence")
        leaving = time.monotonic()
        close_all(phones)
        none_shown = _shown(ears, 0, 30)
        return {
            "participants": participants, "mode": mode,
            "joins_seconds": round(joined - started, 2),
            "all_connected_shown": all_shown, "shown_after_last_join_s": round(shown_after, 2),
            "presence_pushes_while_joining": pushes_in,
            "none_connected_shown": none_shown,
            "shown_after_first_leave_s": round(time.monotonic() - leaving, 2),
            "presence_pushes_total": ears.count("presence"),
            "server_cpu_s": round((server.cpu_seconds() or 0) - (cpu or 0), 2),
        }
    finally:
        close_all(clients)
        server.stop()
