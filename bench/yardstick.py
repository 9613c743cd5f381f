"""How fast this machine runs the kind of Python a vote is: a fixed workload, its CPU milliseconds.

    python -m bench yardstick [--repeat 7] [--together] [--loopback] [--json]

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

`--loopback` times what the yardstick leaves out, a message between two processes: a 40-byte
message sent over a loopback TCP connection and echoed back by another process, `ROUND_TRIPS`
times, with both processes on one core and with each on its own core (`loopback_us`: the
fastest run's microseconds per round trip). Every vote crosses processes several
times (phone, nginx, server, and back), so a host whose processes wake each other slowly across
cores is slow at the benchmarks whatever its yardstick: on 3 December the 2-core machine
changed from AMD EPYC to Intel Xeon vCPUs, the yardstick went from 47-55 to 57-95 ms, and a
5,000-phone burst from about 1 s to 4-6 s (main and the commit before alike); a round trip took
9 us on one core and 109 us across the two (docs/performance.md, "3 December, afternoon").
`bench load` prints it before each scenario.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
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


ROUND_TRIPS = 5000  # messages echoed in one run of `--loopback`
MESSAGE = b"x" * 40  # a Socket.IO ack's size, about


def _echo(listener: socket.socket, core: int | None) -> None:
    """The other end of `round_trip`: echoes every message until the connection closes."""
    if core is not None:
        os.sched_setaffinity(0, {core})
    connection, _address = listener.accept()
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with connection:
        while data := connection.recv(len(MESSAGE)):
            connection.sendall(data)


def round_trip(cores: tuple[int, int] | None, repeat: int = 3) -> float:
    """Microseconds per round trip of `MESSAGE` over loopback TCP to a process that echoes it,
    this process on `cores[0]` and the echo on `cores[1]` (None: where the kernel puts them);
    the fastest of `repeat` runs."""
    context = multiprocessing.get_context("fork")  # the listener is handed over as it is
    allowed = os.sched_getaffinity(0) if cores is not None else None
    best = float("inf")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        echo = context.Process(target=_echo, args=(listener, None if cores is None else cores[1]),
                               daemon=True)
        echo.start()
        try:
            if cores is not None:
                os.sched_setaffinity(0, {cores[0]})
            with socket.create_connection(listener.getsockname(), timeout=30) as client:
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for _ in range(max(1, repeat)):
                    start = time.perf_counter()
                    for _ in range(ROUND_TRIPS):
                        client.sendall(MESSAGE)
                        received = 0
                        while received < len(MESSAGE):
                            received += len(client.recv(len(MESSAGE)))
                    best = min(best, time.perf_counter() - start)
        finally:
            if allowed is not None:
                os.sched_setaffinity(0, allowed)
            echo.join(timeout=10)
            if echo.is_alive():
                echo.kill()
    return round(best / ROUND_TRIPS * 1e6, 1)


def loopback(repeat: int = 3) -> dict:
    """`round_trip` on one core and across two (`{"one_core": us, "two_cores": us}`; only where
    the kernel puts them, `{"any_core": us}`, on one core or without affinity)."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cores) < 2:
        return {"any_core": round_trip(None, repeat)}
    return {"one_core": round_trip((cores[0], cores[0]), repeat),
            "two_cores": round_trip((cores[0], cores[1]), repeat)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--repeat", type=int, default=7, help="runs of the workload; the fastest is kept (7)")
    parser.add_argument("--together", action="store_true",
                        help="also run it in one process per core at once, --repeat rounds, and "
                             "print every copy's CPU time (fastest, median, slowest)")
    parser.add_argument("--loopback", action="store_true",
                        help="also time a message echoed over loopback TCP by another process, on "
                             "one core and across two (microseconds per round trip)")
    parser.add_argument("--json", action="store_true", help="print the figure as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the yardstick of this machine."""
    figure = measure(args.repeat)
    copies = os.cpu_count() or 1
    together = measure_together(args.repeat, copies) if args.together else []
    spread = [together[0], round(statistics.median(together), 1), together[-1]] if together else []
    trips = loopback() if args.loopback else {}
    if args.json:
        print(json.dumps({"yardstick_ms": figure, "votes": VOTES,
                          **({"together_ms": spread, "copies": copies} if together else {}),
                          **({"loopback_us": trips} if trips else {})}))
        return 0
    print(f"yardstick_ms {figure}  ({VOTES} votes' worth of Python work, fastest of {args.repeat})")
    if together:
        print(f"together_ms {spread[0]} / {spread[1]} / {spread[2]}  (fastest / median / slowest of "
              f"{len(together)}: {copies} copies at once, one per core, {args.repeat} rounds)")
    if trips:
        where = ", ".join(f"{us} us {name.replace('_', ' ')}" for name, us in trips.items())
        print(f"loopback_us {where}  (a {len(MESSAGE)}-byte message echoed by another process "
              f"over loopback TCP, per round trip, fastest of 3 runs of {ROUND_TRIPS})")
    return 0
