"""Archives of a big session through the real server: build time, size, event-loop stall.

    python -m bench archive [--participants 2000] [--activities 10] [--mix 3,3,2,2]


Seeds a session (in a temporary database) with many participants and activities, starts the
real server on it (with an empty chart cache of its own), resets the event-loop heartbeat,
downloads the session archive over HTTP and prints the build time, the archive's size and the
server's largest event-loop stall meanwhile:

- cold: the first download after the server started (its archive worker starts with it, and
  nothing of this session is drawn yet);
- warm: the same download again (charts remembered in memory);
- restart: a new server on the same database and chart cache (charts reused from disk).

Two sessions, as the goal ("2,000 participants and 10 activities of every kind, under 5 s,
heartbeat gap under 100 ms") reads two ways: `--activities` of each kind (10 polls, 10 word
clouds, 10 idea walls, 10 Q&A: 40 activities) and ten activities covering every kind
(`--mix`: polls, word clouds, idea walls, Q&A). It ends with the goal check and reports any
process (archive worker, chart processes, render workers) that outlived the server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
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
KINDS = ("poll", "wordcloud", "ideas", "questions")
GOAL_S, GOAL_GAP_MS = 5.0, 100.0
ROOT = Path(__file__).resolve().parent.parent


def seed(url: str, participants: int, activities: int | dict, seed_value: int = 5) -> int:
    """Create the benchmark session and return its id.

    `activities`: how many of every kind, or `{kind: how many}` for the kinds of `KINDS`.
    """
    mix = activities if isinstance(activities, dict) else dict.fromkeys(KINDS, activities)
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
        for n in range(mix.get("poll", 0)):
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
        for n in range(mix.get("wordcloud", 0)):
            _seed_wordcloud(db, s, people, n, rng)
        for kind in ("ideas", "questions"):
            for n in range(mix.get(kind, 0)):
                _seed_board(db, s, people, kind, n, rng)
        sessions.end_session(db, s, "facilitator")
        session_id = s.id
    store.dispose()
    return session_id


def _seed_wordcloud(db, s, people, n: int, rng: random.Random) -> None:
    """A word cloud: up to 3 entries per participant from the realistic groups and their long tail."""
    from live.sessions import service as sessions
    from live.store import utcnow
    from live.wordclouds import service as clouds
    from live.wordclouds.model import WordEntry
    from live.wordclouds.normalize import group_key
    from tests.wordcloud_input import wordcloud_input

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


def _serve(url: str, cache: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "LIVE_DATABASE_URL": url, "LIVE_PORT": str(port), "LIVE_SECRET_KEY": "bench",
           "LIVE_HOST": "127.0.0.1", "LIVE_ARCHIVE_CHART_CACHE": str(cache)}
    server = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            _get(f"{base}/healthz?reset=1", 2)
            break
        except OSError:
            time.sleep(0.1)
    _settle(server.pid)
    return server, base


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of `pid` and its descendants so far (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for one in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _settle(pid: int, timeout: float = 30) -> None:
    """Wait until the server and its workers have warmed up (no CPU used for half a second).

    The first export then measures a server that has been up for a while, as at a real
    session, rather than one still importing matplotlib in its workers.
    """
    deadline = time.monotonic() + timeout
    before = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _cpu_seconds(pid)
        if now - before < 0.05:
            return
        before = now


def _stop(server: subprocess.Popen) -> tuple[int, list[int]]:
    """Stop the server; (its descendant processes, those still running 3 s after it exited)."""
    children = _descendants(server.pid)
    server.send_signal(signal.SIGINT)  # a clean exit also stops the archive worker
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)
    time.sleep(3)  # a worker whose server died without a clean exit notices within 2 s
    return len(children), [pid for pid in children if Path(f"/proc/{pid}").exists()]


def _export(base: str, pid: int, session_id: int) -> dict:
    _get(f"{base}/healthz?reset=1")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cpu = _cpu_seconds(pid)
    t = time.perf_counter()
    data = _get(f"{base}/admin/sessions/{session_id}/archive.zip")
    elapsed = time.perf_counter() - t
    cpu = _cpu_seconds(pid) - cpu
    gap = json.loads(_get(f"{base}/healthz"))["max_loop_gap_ms"]
    # cpu_s: CPU used by the server and its workers meanwhile; cpu_s / cores is what the export
    # would take on an otherwise idle machine at best (the bench shares this one with others).
    return {"export_s": round(elapsed, 2), "cpu_s": round(cpu, 2), "size_kb": len(data) // 1024,
            "max_loop_gap_ms": gap, "load_1min": round(load, 2) if load is not None else None}


def measure(participants: int, activities: int | dict, restart: bool = True) -> dict:
    """Seed, serve, download (cold, warm, then after a restart); the figures."""
    mix = activities if isinstance(activities, dict) else dict.fromkeys(KINDS, activities)
    folder = Path(tempfile.mkdtemp(prefix="palabre-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    started = time.perf_counter()
    session_id = seed(url, participants, mix)
    seeded = time.perf_counter() - started
    figures: dict = {"participants": participants, "activities": mix, "total_activities": sum(mix.values()),
                     "seed_s": round(seeded, 2)}
    processes, left = 0, []
    try:
        for attempts in (("cold", "warm"), ("restart",)) if restart else (("cold", "warm"),):
            server, base = _serve(url, folder / "chart-cache")
            try:
                for attempt in attempts:
                    figures[attempt] = _export(base, server.pid, session_id)
                figures["async_mode"] = json.loads(_get(f"{base}/healthz"))["async_mode"]
            finally:
                count, still = _stop(server)
                processes, left = max(processes, count), left + still
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the database and the chart cache
    figures["worker_processes"] = processes
    figures["left_running"] = left
    return figures


def goal_met(figures: dict, attempt: str = "cold") -> bool:
    """Whether an export met the goal: under 5 s, event-loop gap under 100 ms."""
    one = figures[attempt]
    return one["export_s"] < GOAL_S and one["max_loop_gap_ms"] < GOAL_GAP_MS


def describe(results: list[tuple[str, dict]]) -> str:
    """A table of the figures and the goal check."""
    lines = [f"{'session':52} {'export':>7} {'export_s':>8} {'cpu_s':>6} {'size_kb':>8} {'gap_ms':>7} "
             f"{'load':>5}"]
    for label, figures in results:
        for attempt in ("cold", "warm", "restart"):
            if attempt in figures:
                one = figures[attempt]
                lines.append(f"{label:52} {attempt:>7} {one['export_s']:8.2f} {one['cpu_s']:6.2f} "
                             f"{one['size_kb']:8d} {one['max_loop_gap_ms']:7.1f} {one['load_1min'] or 0:5.2f}"
                             .rstrip())
    cores = os.cpu_count() or 1
    lines.append(f"goal: every export under {GOAL_S:g} s with the event-loop gap under {GOAL_GAP_MS:g} ms "
                 f"({cores} cores; load = 1-minute load average when the export started; "
                 f"cpu_s = CPU of the server and its workers, cpu_s/{cores} = the idle-machine floor)")
    for label, figures in results:
        verdicts = ", ".join(f"{attempt} {'met' if goal_met(figures, attempt) else 'MISSED'}"
                             for attempt in ("cold", "warm", "restart") if attempt in figures)
        leaks = figures["left_running"]
        lines.append(f"  {label}: {verdicts}; {figures['worker_processes']} worker processes, "
                     f"{'none' if not leaks else leaks} left running")
    return "\n".join(lines)


def parse_mix(text: str) -> dict:
    """"3,3,2,2" → {"poll": 3, "wordcloud": 3, "ideas": 2, "questions": 2}."""
    counts = [int(n) for n in text.split(",")]
    if len(counts) != len(KINDS):
        raise ValueError(f"--mix takes {len(KINDS)} counts: {', '.join(KINDS)}")
    return dict(zip(KINDS, counts, strict=True))


def main_figures(participants: int, activities: int, mix: str, sets: str = "each,mixed") -> list:
    """Both readings of the goal, one after the other: [(label, figures)]."""
    results = []
    for name in sets.split(","):
        if name == "each":
            label = f"{activities} of each kind ({activities * len(KINDS)} activities)"
            results.append((label, measure(participants, activities)))
        elif name == "mixed":
            counts = parse_mix(mix)
            label = f"mixed {sum(counts.values())} (" + ", ".join(
                f"{n} {kind}" for kind, n in counts.items()) + ")"
            results.append((label, measure(participants, counts)))
    return results


def _descendants(pid: int) -> list[int]:
    """Process ids descending from `pid`: children, grandchildren... (Linux /proc; empty elsewhere)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += sorted(frontier)
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--activities", type=int, default=10, help="activities of every kind ('each')")
    parser.add_argument("--mix", default="3,3,2,2",
                        help="the mixed session: polls, word clouds, idea walls, Q&A ('mixed')")
    parser.add_argument("--sets", default="each,mixed", help="which sessions: each, mixed or both")
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON")


def run(args: argparse.Namespace) -> None:
    """Run and print."""
    results = main_figures(args.participants, args.activities, args.mix, args.sets)
    if args.json:
        print(json.dumps(dict(results), indent=1))
    print(describe(results))

