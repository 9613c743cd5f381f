"""Benchmark of archives: `python -m live.bench archive [--participants 2000] [--activities 10]`.

Seeds a session (in a temporary database) with many participants and `--activities` of every
archived kind (polls, word clouds, idea walls, Q&A), starts the real server on it, resets the
event-loop heartbeat, downloads the session archive over HTTP (twice: first download, then
again) and prints the build time, the archive's size and the server's largest event-loop stall
meanwhile. The server warms its archive worker at start (`wsgi.py`), so the first download
measures a warm worker too once the server has had a few seconds.
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
    """Create the benchmark session (`activities` of every kind) and return its id."""
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
        for n in range(activities):
            _seed_wordcloud(db, s, people, n, rng)
        for n in range(activities):
            _seed_board(db, s, people, "ideas", n, rng)
            _seed_board(db, s, people, "questions", n, rng)
        sessions.end_session(db, s, "facilitator")
        session_id = s.id
    store.dispose()
    return session_id


def _seed_wordcloud(db, s, people, n: int, rng: random.Random) -> None:
    """A word cloud: up to 3 entries per participant from the realistic groups and their long tail."""
    from live.bench import wordcloud_input
    from live.sessions import service as sessions
    from live.store import utcnow
    from live.wordclouds import service as clouds
    from live.wordclouds.model import WordEntry
    from live.wordclouds.normalize import group_key

    activity = clouds.add_wordcloud(db, s, f"Nuage {n + 1} : en un mot, un numérique sobre c'est… ?")
    sessions.open_activity(db, s, activity, "facilitator")
    frequencies = wordcloud_input(200, seed=n)
    words, weights = list(frequencies), list(frequencies.values())
    keys = {text: group_key(text, "fr") for text in words}
    rows, now = [], utcnow()
    for person in people:
        for slot, text in enumerate(dict.fromkeys(rng.choices(words, weights, k=rng.randint(1, 3))), start=1):
            rows.append({"activity_id": activity.id, "participant_id": person.id, "slot": slot, "text": text,
                         "key": keys[text], "held": False, "client_id": None, "created_at": now})
    db.execute(insert(WordEntry), rows)
    clouds.moderate(db, s, activity, "hide", keys[words[-1]])
    clouds.moderate(db, s, activity, "merge", keys[words[2]], keys[words[1]])


def _seed_board(db, s, people, kind: str, n: int, rng: random.Random) -> None:
    """An idea wall (3 dots each) or a Q&A (upvotes): many items, votes, a moderation log."""
    from live.boards import service as boards
    from live.boards.model import BoardVote, Item, ModerationEntry
    from live.sessions import service as sessions
    from live.store import utcnow

    prompt = (f"Mur {n + 1} : comment imaginer un numérique plus sobre ?" if kind == "ideas"
              else f"Q&R {n + 1} : vos questions aux intervenants")
    settings = {"columns": ["Constats", "Idées", "Actions"], "budget": 3} if kind == "ideas" else {}
    activity = boards.add_board(db, s, kind, prompt, settings)
    sessions.open_activity(db, s, activity, "facilitator")
    now = utcnow()
    authors = rng.sample(people, min(len(people), 150 if kind == "ideas" else 80))
    items = []
    for k, person in enumerate(authors):
        text = (f"Idée {k + 1} : mutualiser et faire durer le matériel numérique des communes ({n + 1})"
                if kind == "ideas" else f"Question {k + 1} : comment mesurer l'empreinte de nos services ?")
        items.append(Item(activity_id=activity.id, participant_id=person.id,
                          column=k % 3 if kind == "ideas" else 0, text=text, original_text=text,
                          history=[], status="approved", created_at=now, updated_at=now))
    db.add_all(items)
    db.flush()
    db.execute(insert(ModerationEntry), [
        {"activity_id": activity.id, "item_id": item.id, "link": "moderator", "moderator": "Dominique",
         "action": "approve", "before": {"status": "pending", "text": item.text},
         "after": {"status": "approved"}, "at": now} for item in items])
    votes = []
    for person in people:
        chosen = rng.sample(items, 3 if kind == "ideas" else 2)
        for slot, item in enumerate(chosen, start=1):
            votes.append({"activity_id": activity.id, "item_id": item.id, "participant_id": person.id,
                          "slot": slot if kind == "ideas" else None, "once_item_id": item.id,
                          "created_at": now})
    db.execute(insert(BoardVote), votes)


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
        children = _children(server.pid)
        server.send_signal(signal.SIGINT)  # a clean exit also stops the archive worker
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        time.sleep(3)  # a worker whose server died without a clean exit notices within 2 s
        figures["worker_processes"] = len(children)
        figures["left_running"] = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    return figures


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc; empty elsewhere)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--activities", type=int, default=10)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.participants, args.activities), indent=1))


if __name__ == "__main__":
    main()
