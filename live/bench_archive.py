"""Benchmark of archives: `python -m live.bench_archive [--participants 2000] [--activities 10]`.

Seeds a session (in a temporary database) with many participants and activities of every
archived kind, starts the real server on it, resets the event-loop heartbeat, downloads the
session archive over HTTP (twice: cold worker, then warm) and prints the build time, the
archive's size and the server's largest event-loop stall meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import insert

POLL_TYPES = ("single", "multiple", "scale", "ranking")


def seed(url: str, participants: int, activities: int, seed_value: int = 5) -> int:
    """Create the benchmark session and return its id."""
    from live import create_app
    from live.polls import service as polls
    from live.polls.model import Vote
    from live.sessions import service as sessions
    from live.store import utcnow

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ASYNC_MODE": "threading"})
    store = app.extensions["palabre.store"]
    rng = random.Random(seed_value)
    with store.write() as db:
        event = sessions.create_event(db, "Human Tech Days 2022 — Chartres", "Chartres", "2022-04-05")
        s = sessions.create_session(db, event, "round_table", "Table ronde : un numérique plus sobre")
        people = [sessions.join(db, s, f"bench-{i}") for i in range(participants)]
        for n in range(activities):
            kind = POLL_TYPES[n % len(POLL_TYPES)]
            options = [f"Option {k} : allonger la durée de vie des équipements numériques" for k in range(5)]
            activity = polls.add_poll(db, s, kind, f"Question {n + 1} : que faire en priorité ?",
                                      None if kind == "scale" else options,
                                      {"scale_max": 5} if kind == "scale" else {"max_choices": 2})
            sessions.open_activity(db, s, activity, "facilitator")
            ids = [o.id for o in polls.options_of(db, activity)]
            rows, now = [], utcnow()
            for person in people:
                if rng.random() < 0.1:
                    continue
                choice = ([rng.randint(1, 5)] if kind == "scale" else rng.sample(ids, len(ids))
                          if kind == "ranking" else rng.sample(ids, rng.randint(1, 2))
                          if kind == "multiple" else [rng.choice(ids)])
                rows.append({"activity_id": activity.id, "participant_id": person.id, "choice": choice,
                             "changes": 0, "created_at": now, "updated_at": now})
            db.execute(insert(Vote), rows)
        sessions.end_session(db, s, "facilitator")
        session_id = s.id
    store.dispose()
    return session_id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 120) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local server
        return response.read()


def run(participants: int, activities: int) -> dict:
    """Seed, serve, download; the figures."""
    folder = Path(tempfile.mkdtemp(prefix="palabre-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    started = time.perf_counter()
    session_id = seed(url, participants, activities)
    seeded = time.perf_counter() - started
    port = _free_port()
    env = {**os.environ, "LIVE_DATABASE_URL": url, "LIVE_PORT": str(port), "LIVE_SECRET_KEY": "bench",
           "LIVE_HOST": "127.0.0.1"}
    server = subprocess.Popen([sys.executable, "wsgi.py"], cwd=Path(__file__).resolve().parents[1],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    figures: dict = {"participants": participants, "activities": activities, "seed_s": round(seeded, 2)}
    try:
        for _ in range(100):
            try:
                _get(f"{base}/healthz?reset=1", 2)
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        for attempt in ("cold", "warm"):
            _get(f"{base}/healthz?reset=1")
            t = time.perf_counter()
            data = _get(f"{base}/admin/sessions/{session_id}/archive.zip")
            elapsed = time.perf_counter() - t
            gap = json.loads(_get(f"{base}/healthz"))["max_loop_gap_ms"]
            figures[attempt] = {"export_s": round(elapsed, 2), "size_kb": len(data) // 1024,
                                "max_loop_gap_ms": gap}
        figures["async_mode"] = json.loads(_get(f"{base}/healthz"))["async_mode"]
    finally:
        server.send_signal(signal.SIGINT)  # a clean exit also stops the archive worker
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    return figures


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--activities", type=int, default=10)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.participants, args.activities), indent=1))


if __name__ == "__main__":
    main()
