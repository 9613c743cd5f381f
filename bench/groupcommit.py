"""The CPU of one group commit of N votes: the work done while SQLite's write lock is held.

    python -m bench groupcommit [--votes 1,24,256] [--commits 400] [--compare rows|kept|savepoint] [--json]

With two server processes on one SQLite file, their group commits take turns on the file's one
write lock (docs/performance.md): what a commit costs, inside the lock, bounds them both. This
measures it alone, in this process, without sockets or an event loop: a fresh SQLite file
(synchronous=FULL), a session with an open 4-option poll and `--participants` joined
(4,000), then commit after commit of N votes, each the very work a vote event queues
(`live.realtime.write_work` with the poll's `vote` handler: the ack's lookup, the session's
and the poll's reads, the checks, the vote and its ack deferred) run by the write queue's
`_commit` (BEGIN IMMEDIATE, the acks' read, the jobs, the rows' statements, COMMIT). Each
phone votes a new choice with a new client id. Prints, for each N, the median CPU of the
thread per commit and per vote (the first tenth of the commits left out: warm-up), and, with
two sizes or more, the fixed cost of a commit and the cost of a vote (least squares over the
medians).

`--compare rows`: commit after commit, in turn, the rows through the driver's cursor (main,
`live.store.write_rows`) and through SQLAlchemy's execution; `--compare kept`: in turn, with
what the last commit read of the session and the poll kept while the agenda's generation stays
(main, `live.writer._Kept`) and read again by each commit; `--compare savepoint`: in turn, the
rows' savepoint through SQLite's cursor (main, `live.store.rows_savepoint`) and SQLAlchemy's
`begin_nested`. Two ways side by side in one process, the host's load shared alike.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--votes", default="1,24,256",
                        help="votes a commit, sizes measured in turn (1,24,256; a steady stream of "
                             "4,000 phones on two processes makes commits of about 24)")
    parser.add_argument("--commits", type=int, default=400, help="commits measured for each size (400)")
    parser.add_argument("--participants", type=int, default=4000, help="phones joined (4000)")
    parser.add_argument("--compare", choices=["rows", "kept", "savepoint"], default=None,
                        help="rows: through the driver and through SQLAlchemy; kept: the agenda's reads "
                             "kept across commits and read by each; savepoint: the rows' savepoint "
                             "through the driver and SQLAlchemy's; commit after commit")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def run(args: argparse.Namespace) -> int:
    """Measure; print the figures; 0 if every vote of every commit was stored."""
    sizes = [int(size) for size in args.votes.split(",") if size.strip()]
    if not sizes or min(sizes) < 1 or max(sizes) > args.participants or args.commits < 10:
        raise SystemExit("--votes: sizes of at least 1 and at most --participants; --commits: at least 10")
    scratch = tempfile.mkdtemp(prefix="palabre-groupcommit-")
    try:
        figures = _measure(scratch, sizes, args.commits, args.participants, args.compare)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        _print(figures)
    return 0


def _measure(scratch: str, sizes: list[int], commits: int, participants: int, compare: str | None) -> dict:
    from live import create_app
    from live import writer as writer_module

    app = create_app({"SECRET_KEY": uuid.uuid4().hex, "HOST": "127.0.0.1", "ASYNC_MODE": "threading",
                      "DATABASE_URL": f"sqlite:///{scratch}/palabre.db"})
    store, writer = app.extensions["palabre.store"], app.extensions["palabre.writer"]
    writer.batch_seconds = 60.0  # every job of a commit in it, however slow the host
    room = _room(store, participants)
    main_rows, kept, savepoint = writer_module.write_rows, writer.kept, writer_module.rows_savepoint
    ways = {"main": (main_rows, kept, savepoint)}
    if compare == "rows":
        ways["rows through SQLAlchemy"] = (_through_sqlalchemy, kept, savepoint)
    elif compare == "kept":
        ways["read by each commit"] = (main_rows, None, savepoint)
    elif compare == "savepoint":
        ways["SQLAlchemy's savepoint"] = (main_rows, kept, _nested)
    cpu: dict = {way: {size: [] for size in sizes} for way in ways}
    skip = max(1, commits // 10)
    try:
        with app.app_context():
            for size in sizes:
                for index in range(skip + commits * len(ways)):
                    way = list(ways)[index % len(ways)]
                    writer_module.write_rows, writer.kept, writer_module.rows_savepoint = ways[way]
                    jobs = [_vote(room, person) for person in random.sample(room["people"], size)]
                    started = time.thread_time()
                    writer._commit(jobs)
                    spent = time.thread_time() - started
                    refused = [job.error or job.result[1] for job in jobs
                               if job.error is not None or not job.result[1].get("ok")]
                    if refused:
                        raise SystemExit(f"a vote was refused: {refused[0]!r}")
                    if index >= skip:
                        cpu[way][size].append(spent)
    finally:
        writer_module.write_rows, writer.kept, writer_module.rows_savepoint = main_rows, kept, savepoint
        store.dispose()
    return _figures(cpu, participants)


def _room(store, participants: int) -> dict:
    from live.polls import service as polls
    from live.sessions import service as sessions

    with store.write() as db:
        live = sessions.create_session(db, sessions.create_event(db, "Bench", "Here", "2026-01-01"),
                                       "round_table", "Group commits")
        poll = polls.add_poll(db, live, "single", "Which one?", ["A", "B", "C", "D"])
        room = {"session": live.id, "poll": poll.id, "options": [o.id for o in polls.options_of(db, poll)]}
    with store.write() as db:
        live = sessions.get_session(db, room["session"])
        room["people"] = [sessions.join(db, live, uuid.uuid4().hex).id for _ in range(participants)]
    for action in ("show", "open"):
        with store.write() as db:
            sessions.apply_command(db, sessions.get_session(db, room["session"]), action, room["poll"])
    return room


def _vote(room: dict, person: int):
    """One phone's vote as the socket door queues it (`live.realtime._run`)."""
    from live import realtime
    from live.polls.events import on_vote
    from live.writer import _Job

    conn = realtime.Connection(sid="bench", session_id=room["session"], role="participant", locale="en",
                               participant_id=person)
    payload = {"cid": uuid.uuid4().hex[:16], "activity": room["poll"],
               "choice": random.choice(room["options"])}
    work = realtime.write_work(on_vote.__wrapped__, conn, payload, "vote")
    return _Job(work, threading.Event(), (conn.actor, payload["cid"]), batched=True)


def _through_sqlalchemy(db, statement, rows: list[dict]) -> list[tuple]:
    """`live.store.write_rows` as it was: every row through SQLAlchemy's execution."""
    result = db.execute(statement, rows)
    return [tuple(row) for row in result] if len(statement.exported_columns) else []


def _nested(db):
    """`live.store.rows_savepoint` as it was: SQLAlchemy's nested transaction."""
    return db.begin_nested()


def _figures(cpu: dict, participants: int) -> dict:
    figures: dict = {"participants": participants, "ways": {}}
    for way, by_size in cpu.items():
        medians = {size: statistics.median(values) for size, values in by_size.items()}
        entry = {"commits": {str(size): {"cpu_ms": round(median * 1000, 3),
                                         "cpu_us_per_vote": round(median / size * 1e6, 1),
                                         "measured": len(by_size[size])}
                             for size, median in medians.items()}}
        if len(medians) >= 2:
            fixed, per_vote = _line(medians)
            entry["fixed_ms"], entry["per_vote_us"] = round(fixed * 1000, 3), round(per_vote * 1e6, 1)
        figures["ways"][way] = entry
    return figures


def _line(points: dict) -> tuple[float, float]:
    """Least squares: (fixed cost, cost per vote) of cpu = fixed + votes * per_vote."""
    xs, ys = list(points), list(points.values())
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs)
    return mean_y - slope * mean_x, slope


def _print(figures: dict) -> None:
    print(f"group commits of votes, {figures['participants']} phones joined; median CPU of the thread")
    for way, entry in figures["ways"].items():
        print(f"{way}:")
        for size, commit in entry["commits"].items():
            print(f"  {size:>4} votes a commit: {commit['cpu_ms']:8.3f} ms a commit, "
                  f"{commit['cpu_us_per_vote']:7.1f} us a vote ({commit['measured']} commits)")
        if "fixed_ms" in entry:
            print(f"  a commit's fixed cost {entry['fixed_ms']:.3f} ms, a vote {entry['per_vote_us']:.1f} us")
