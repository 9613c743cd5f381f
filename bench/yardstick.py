"""How fast this machine runs the kind of Python a vote is: a fixed workload, its CPU milliseconds.

    python -m bench yardstick [--repeat 7] [--together] [--json]

The machines these benchmarks run on are shared and change: the same commit's 5,000-phone burst
took 1.2-1.4 s on one machine and 3.1-4.8 s on another a day later, with every part of the server
(and the benchmark's own client processes) dearer in the same proportion. A figure without the
speed of the machine it was taken on cannot be compared with another day's. The yardstick is a
fixed piece of work shaped like a vote's path through the server, without the network: a
Socket.IO text frame decoded (JSON), a handler's checks (dict and attribute reads, small objects,
string formatting), its rows written to an in-memory SQLite database in one `executemany` and a
commit, its ack encoded. It runs `--repeat` times in this process; the smallest CPU time is kept
(the run the least disturbed by the other processes of the machine). `bench load` measures it
before each scenario and prints it as `yardstick_ms`: divide a CPU-per-vote figure by it to
compare two machines (docs/performance.md).

`--together` also runs the workload in one process per core, started at the same moment, as
many rounds: on a machine whose cores are its own, each copy takes about the time of one alone;
on virtual cores that share physical ones with other tenants, each is slower, and the copies
differ. It prints the CPU time of every copy (`together_ms`: fastest, median, slowest), what the
benchmarks' clients and server, which run on the same cores, can expect from the machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sqlite3
import statistics
import time
from dataclasses import dataclass

VOTES = 5000  # votes in one run of the workload
BATCH = 250  # rows per executemany + commit, as a group commit of a burst


@dataclass
class _Vote:
    actor: str
    cid: str
    activity: int
    choice: int


def workload(votes: int = VOTES) -> int:
    """The fixed work; returns a checksum so that nothing is optimised away."""
    db = sqlite3.connect(":memory:")
    db.execute("create table vote (actor text, cid text, activity integer, choice integer, at text, "
               "primary key (actor, activity))")
    db.execute("create table ack (actor text, cid text, answer text, primary key (actor, cid))")
    options = {1: "A", 2: "B", 3: "C", 4: "D"}
    counts = dict.fromkeys(options, 0)
    votes_rows, ack_rows, total = [], [], 0
    for n in range(votes):
        frame = f'42{n}["vote",{{"cid":"c{n:015d}","activity":7,"choice":{1 + n % 4}}}]'
        ack_id, _, body = frame[2:].partition("[")
        event, payload = json.loads("[" + body)
        vote = _Vote(f"p{n}", payload["cid"], payload["activity"], payload["choice"])
        if event != "vote" or vote.choice not in options or len(vote.cid) > 64:
            continue
        counts[vote.choice] += 1
        answer = {"ok": True, "activity": vote.activity, "choice": vote.choice, "version": n}
        votes_rows.append((vote.actor, vote.cid, vote.activity, vote.choice, "2026-12-01 10:00:00.000000"))
        ack_rows.append((vote.actor, vote.cid, json.dumps(answer, separators=(",", ":"))))
        ack = f"43{ack_id}" + json.dumps([answer], separators=(",", ":"))
        total += len(ack)
        if len(votes_rows) == BATCH:
            _store(db, votes_rows, ack_rows)
    if votes_rows:
        _store(db, votes_rows, ack_rows)
    total += db.execute("select count(*) from vote").fetchone()[0] + sum(counts.values())
    db.close()
    return total


def _store(db, votes_rows: list, ack_rows: list) -> None:
    db.executemany("insert into vote values (?, ?, ?, ?, ?) on conflict (actor, activity) "
                   "do update set choice = excluded.choice, cid = excluded.cid", votes_rows)
    db.executemany("insert into ack values (?, ?, ?)", ack_rows)
    db.commit()
    votes_rows.clear()
    ack_rows.clear()


def measure(repeat: int = 7) -> float:
    """The workload's smallest CPU time over `repeat` runs, in milliseconds."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.process_time()
        workload()
        best = min(best, time.process_time() - start)
    return round(best * 1000, 1)


def _one_copy(start, results) -> None:
    """A copy of `--together`: waits for the others, runs the workload once, tells its CPU time."""
    start.wait(timeout=60)
    began = time.process_time()
    workload()
    results.put(time.process_time() - began)


def measure_together(repeat: int = 7, copies: int | None = None) -> list[float]:
    """The workload's CPU time in each of `copies` processes (one per core by default) started
    together, `repeat` rounds: every copy's milliseconds, sorted."""
    copies = copies or os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of this one
    times = []
    for _ in range(max(1, repeat)):
        start, results = context.Barrier(copies), context.Queue()
        processes = [context.Process(target=_one_copy, args=(start, results)) for _ in range(copies)]
        for process in processes:
            process.start()
        try:
            times += [results.get(timeout=120) for _ in processes]
        finally:
            for process in processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
    return sorted(round(t * 1000, 1) for t in times)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--repeat", type=int, default=7, help="runs of the workload; the fastest is kept (7)")
    parser.add_argument("--together", action="store_true",
                        help="also run it in one process per core at once, --repeat rounds, and "
                             "print every copy's CPU time (fastest, median, slowest)")
    parser.add_argument("--json", action="store_true", help="print the figure as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the yardstick of this machine."""
    figure = measure(args.repeat)
    copies = os.cpu_count() or 1
    together = measure_together(args.repeat, copies) if args.together else []
    spread = [together[0], round(statistics.median(together), 1), together[-1]] if together else []
    if args.json:
        print(json.dumps({"yardstick_ms": figure, "votes": VOTES,
                          **({"together_ms": spread, "copies": copies} if together else {})}))
        return 0
    print(f"yardstick_ms {figure}  ({VOTES} votes' worth of Python work, fastest of {args.repeat})")
    if together:
        print(f"together_ms {spread[0]} / {spread[1]} / {spread[2]}  (fastest / median / slowest of "
              f"{len(together)}: {copies} copies at once, one per core, {args.repeat} rounds)")
    return 0
