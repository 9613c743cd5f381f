"""The CPU of a vote from the WebSocket's reader on: the direct path against the library's.

    python -m bench dispatchcpu [--participants 2000] [--rounds 8]

Runs in a child process under eventlet (as the server): a fresh SQLite file, a session with
an open poll, N participants joined (Flask-SocketIO test clients: the real connect handler),
then each phone's Engine.IO socket is given to the WebSocket reader (`live.outbox._read`)
with one vote frame to read (`42<id>["vote",{...}]`), all at once: the reader, the dispatch,
the handler, the group commits, the acks queued on the sockets (not written to any network).
Rounds alternate (ABBA) the direct path (`live.fastpath`) and the library's (python-engineio,
python-socketio, Flask-SocketIO), each on a new poll: CPU seconds per vote for each, and the
median of each; the acks of both are checked to be the same text. `--empty` measures the
dispatch alone (a registered handler that returns at once, no database).
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
    parser.add_argument("--participants", type=int, default=2000, help="phones voting at once (2000)")
    parser.add_argument("--rounds", type=int, default=8, help="bursts, alternating both paths (8)")
    parser.add_argument("--empty", action="store_true", help="a handler doing nothing: the dispatch alone")


def run(args: argparse.Namespace) -> int:
    """Measure in a child process (eventlet patches the whole process); its exit status."""
    if args.participants < 1 or args.rounds < 2:
        raise SystemExit("--participants must be at least 1 and --rounds at least 2")
    command = [sys.executable, "-m", "bench.dispatchcpu", str(args.participants), str(args.rounds),
               "empty" if args.empty else "vote"]
    return subprocess.run(command, cwd=ROOT, timeout=1800, check=False).returncode  # noqa: S603 - our own module


class _Queue:
    """An Engine.IO socket's queue that keeps what is sent (the packets' text)."""

    def __init__(self, sent: list):
        self.sent = sent

    def put(self, pkt, *args, **kwargs) -> None:
        self.sent.append(pkt.encode())


def _child(participants: int, rounds: int, empty: bool) -> int:  # noqa: C901, PLR0915 - one script
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)  # eventlet's notice on import
    import eventlet

    eventlet.monkey_patch()
    import re
    import tempfile
    import time
    import uuid

    import sqlalchemy.event
    from engineio import socket as engineio_socket

    from bench.votecpu import open_round_poll
    from live import create_app, fastpath, outbox, realtime
    from live.realtime import socketio
    from live.sessions import service as sessions

    if empty:
        @realtime.handler("bench_nothing", roles=("participant",), write=False)
        def _nothing(ctx, payload):
            return {}

    scratch = tempfile.mkdtemp(prefix="palabre-dispatchcpu-")
    app = create_app({"SECRET_KEY": uuid.uuid4().hex, "HOST": "127.0.0.1", "ASYNC_MODE": "eventlet",
                      "DATABASE_URL": f"sqlite:///{scratch}/palabre.db", "RATE_LIMIT_PER_10S": 10**6,
                      "JOIN_RATE_PER_MINUTE": 10**7, "ADMIT_PER_SECOND": 0})
    store = app.extensions["palabre.store"]
    commits_seen = [0]

    def committed(_connection) -> None:
        commits_seen[0] += 1

    sqlalchemy.event.listen(store.engine, "commit", committed)
    app.extensions["palabre.collector"].start()
    with store.write() as db:
        session = sessions.create_session(db, sessions.create_event(db, "Bench", "Here", "2026-01-01"),
                                          "round_table", "Votes")
        session_id, code = session.id, session.join_code
    server = socketio.server
    clients = []
    for _ in range(participants):
        browser = app.test_client()
        browser.get(f"/j/{code}")
        auth = {"code": code, "lang": "en"}
        clients.append(socketio.test_client(app, auth=auth, flask_test_client=browser))
    # From now on packets go to the sockets' queues as on a real server (not to the test clients).
    del server._send_packet, server._send_eio_packet
    sockets, sent = [], {}
    for client in clients:
        sock = engineio_socket.Socket(server.eio, client.eio_sid)
        sock.connected = sock.upgraded = True
        sock.queue = _Queue(sent.setdefault(client.eio_sid, []))
        server.eio.sockets[client.eio_sid] = sock
        sockets.append(sock)
    figures: dict[str, list] = {"direct": [], "library": []}
    acks_seen: dict[str, list] = {"direct": [], "library": []}
    for round_ in range(rounds):
        path = ("direct", "library", "library", "direct")[round_ % 4]  # ABBA: no side always first
        fastpath.enabled[0] = path == "direct"
        poll_id, options = open_round_poll(store, session_id, round_)
        eventlet.sleep(0.5)
        for queue in sent.values():
            queue.clear()
        frames, dumps = [], server.packet_class.json.dumps
        for index, _sock in enumerate(sockets):
            event = ["bench_nothing", {"cid": f"c{round_}-{index}"}] if empty else \
                ["vote", {"cid": f"c{round_}-{index}", "activity": poll_id, "choice": options[index % 4]}]
            frames.append(f"42{index % 1000}" + dumps(event, separators=(",", ":")))

        def read(sock, frame):
            given = [frame, None]
            outbox._read(sock, lambda: given.pop(0))

        pool = eventlet.GreenPool(participants + 1)
        commits = commits_seen[0]
        cpu, wall = time.process_time(), time.perf_counter()
        for sock, frame in zip(sockets, frames, strict=True):
            pool.spawn(read, sock, frame)
        pool.waitall()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        acks = [next((p for p in sent[s.sid] if p.startswith("43")), None) for s in sockets]
        ok = sum(1 for a in acks if a and '"ok":true' in a)
        figures[path].append(cpu / participants * 1000)
        acks_seen[path].append(acks)
        print(f"round {round_ + 1} {path:8}: {ok} of {participants} acked ok, CPU {cpu:.3f} s = "
              f"{figures[path][-1]:.3f} ms per vote, wall {wall:.2f} s, {commits_seen[0] - commits} commits",
              flush=True)
        if ok != participants:
            print("first acks:", acks[:3])
            return 1
    for path, values in figures.items():
        print(f"median CPU per vote, {path:8}: {statistics.median(values):.3f} ms over {len(values)} rounds")
    same = [re.sub(r"\d+", "#", a) == re.sub(r"\d+", "#", b)
            for a, b in zip(acks_seen["direct"][0], acks_seen["library"][0], strict=True)]
    print(f"acks alike on both paths (numbers aside): {sum(same)} of {len(same)}; "
          f"one: {acks_seen['direct'][0][0]} / {acks_seen['library'][0][0]}")
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    os._exit(_child(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "empty"))
