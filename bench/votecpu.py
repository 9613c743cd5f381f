"""The CPU of a vote inside one process: N phones vote at once, no network, CPU seconds per vote.

    python -m bench votecpu [--participants 1000] [--rounds 3] [--rate VOTES_PER_S] [--gather A,B]

Runs in a child process under eventlet (as the server): a fresh SQLite file (synchronous=FULL),
a session with an open 4-option poll, N participants joined through the join page, each with
a Flask-SocketIO test client (the real Socket.IO packets and handlers, the write queue, its
group commits, the acks and the coalesced pushes; no sockets, no client processes), then
every phone votes at once (`--rate R`: one after another, R votes a second, as a steady
stream of phones changing their votes brings them: each vote nearly alone). Prints the
process's CPU seconds per vote for each round (a new poll each time), the group commits they
took, and their median: the figure the machine's load moves least, to compare two commits
side by side. `--profile` prints the functions of `live/` that took the most CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--participants", type=int, default=1000, help="phones voting at once (1000)")
    parser.add_argument("--rounds", type=int, default=3, help="bursts, each on a new poll (3)")
    parser.add_argument("--profile", action="store_true", help="print a CPU profile of the last round")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="votes a second, one after another (0: all at once, the default)")
    parser.add_argument("--gather", default="",
                        help="WRITE_GATHER values taken in turn, round after round (e.g. 0.005,0.010): "
                             "two settings compared in one process, minutes apart at most")


def run(args: argparse.Namespace) -> int:
    """Measure in a child process (eventlet patches the whole process); its exit status."""
    if args.participants < 1 or args.rounds < 1:
        raise SystemExit("--participants and --rounds must be at least 1")
    command = [sys.executable, "-m", "bench.votecpu", str(args.participants), str(args.rounds),
               "profile" if args.profile else "-", str(args.rate), args.gather or "-"]
    return subprocess.run(command, cwd=ROOT, timeout=1800, check=False).returncode  # noqa: S603 - our own module


def _child(participants: int, rounds: int, profile: bool, rate: float = 0.0, gathers: tuple = ()) -> int:
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)  # eventlet's notice on import
    import eventlet

    eventlet.monkey_patch()
    import tempfile
    import time
    import uuid

    import sqlalchemy.event

    from live import create_app
    from live.realtime import socketio
    from live.sessions import service as sessions

    scratch = tempfile.mkdtemp(prefix="palabre-votecpu-")
    app = create_app({"SECRET_KEY": uuid.uuid4().hex, "HOST": "127.0.0.1", "ASYNC_MODE": "eventlet",
                      "DATABASE_URL": f"sqlite:///{scratch}/palabre.db", "RATE_LIMIT_PER_10S": 10**6,
                      "JOIN_RATE_PER_MINUTE": 10**7, "ADMIT_PER_SECOND": 0})
    store = app.extensions["palabre.store"]
    commits_seen = [0]  # the database's commits (any commit of Palabre's, older ones too)

    def committed(_connection) -> None:
        commits_seen[0] += 1

    sqlalchemy.event.listen(store.engine, "commit", committed)
    app.extensions["palabre.collector"].start()  # the garbage collector as the server runs it
    with store.write() as db:
        session = sessions.create_session(db, sessions.create_event(db, "Bench", "Here", "2026-01-01"),
                                          "round_table", "Votes")
        session_id, code = session.id, session.join_code
    phones = []
    for _ in range(participants):
        browser = app.test_client()
        browser.get(f"/j/{code}")
        phones.append(socketio.test_client(app, auth={"code": code, "lang": "en"}, flask_test_client=browser))
    figures = []
    by_gather: dict = {}
    for round_ in range(rounds):
        if gathers:
            app.config["WRITE_GATHER"] = gathers[round_ % len(gathers)]
        poll_id, options = open_round_poll(store, session_id, round_)
        eventlet.sleep(0.5)
        acks: list = []

        def vote(phone, index, poll_id=poll_id, options=options, acks=acks):
            acks.append(phone.emit("vote", {"cid": uuid.uuid4().hex[:16], "activity": poll_id,
                                            "choice": options[index % len(options)]}, callback=True))

        profiler = _profiler() if profile and round_ == rounds - 1 else None
        pool = eventlet.GreenPool(participants + 1)
        commits_before = commits_seen[0]
        cpu, wall = time.process_time(), time.perf_counter()
        for index, phone in enumerate(phones):
            if rate > 0:  # a steady stream: the index-th vote at index / rate seconds
                eventlet.sleep(max(0.0, wall + index / rate - time.perf_counter()))
            pool.spawn(vote, phone, index)
        pool.waitall()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler is not None:
            profiler.disable()
        ok = sum(1 for a in acks if isinstance(a, dict) and a.get("ok"))
        figures.append(cpu / participants * 1000)
        commits = commits_seen[0] - commits_before
        by_gather.setdefault(app.config["WRITE_GATHER"], []).append(figures[-1])
        print(f"round {round_ + 1}: {ok} of {participants} acked ok, CPU {cpu:.3f} s = "
              f"{figures[-1]:.3f} ms per vote, wall {wall:.2f} s, {commits} commits, "
              f"gather {app.config['WRITE_GATHER']:g} s", flush=True)
        if ok != participants:
            return 1
    how = f"{rate:g} votes a second" if rate > 0 else "at once"
    print(f"median CPU per vote  {statistics.median(figures):.3f} ms ({participants} votes {how})")
    for gather, values in by_gather.items() if gathers else ():
        print(f"  gather {gather:g} s: median {statistics.median(values):.3f} ms over {len(values)} rounds")
    if profile:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats("live/", 40)
    return 0


def _profiler():
    import cProfile
    import time

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    return profiler


def open_round_poll(store, session_id: int, round_: int) -> tuple[int, list[int]]:
    """A new single-choice poll of four options, shown and opened: (its id, its option ids)."""
    from live.polls import service as polls
    from live.sessions import service as sessions

    with store.write() as db:
        poll = polls.add_poll(db, sessions.get_session(db, session_id), "single", f"Round {round_}?",
                              ["A", "B", "C", "D"])
        poll_id, options = poll.id, [o.id for o in polls.options_of(db, poll)]
    for action in ("show", "open"):
        with store.write() as db:
            sessions.apply_command(db, sessions.get_session(db, session_id), action, poll_id)
    return poll_id, options


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    given = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else ""
    os._exit(_child(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "profile",
                    float(sys.argv[4]) if len(sys.argv) > 4 else 0.0,
                    tuple(float(g) for g in given.split(",") if g)))
