"""Behind Redis, a push to a large room (the phones' tally) is sent in slices by every process.

The process that pushes publishes it whole to the others and sends it to its own sockets a
slice at a time; each other process sends it to its own sockets a slice at a time too
(`realtime.deliver_in_slices`), its event loop serving the others in between, instead of the
whole room at once. Here with slices of 2 sockets: two real processes (eventlet and gevent),
one SQLite file, a real Redis; every phone on either process gets the revealed tally with the
final count, at most once per interval (no phone twice, none left out).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from multiprocess import Redis, servers
from realserver import Listener, close_all, connect, join_cookie, new_cid, prepare, sqlite_url

PHONES = 5  # per process: more than a slice


def _phones(server, setup, count: int) -> list:
    made = []
    for _ in range(count):
        listener = Listener("results", "state")
        client = connect(server.url, {"code": setup.code, "lang": "en"},
                         cookie=join_cookie(server.url, setup.code), listener=listener)
        made.append((client, listener))
    return made


def _command(facilitator, setup, action: str) -> None:
    ack = facilitator.call("command", {"cid": new_cid(), "action": action, "activity": setup.activity},
                           timeout=15)
    assert ack.get("ok"), ack


def _tallies(listener: Listener, answers: int) -> int:
    return sum(1 for data in listener.messages("results") if data.get("answers") == answers)


def test_every_phone_on_every_process_gets_the_tally_sent_in_slices(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    clients: list = []
    with ExitStack() as stack:
        redis = Redis(tmp_path).start()
        stack.callback(redis.stop)
        pair = servers(tmp_path, sqlite_url(setup.database), ("eventlet", "gevent"), MESSAGE_QUEUE=redis.url,
                       PUSH_SLICE=2, PHONE_PUSH_INTERVAL=1.0)
        for server in pair:
            stack.callback(server.stop)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda s: s.start(60), pair))
        stack.callback(lambda: close_all(clients))
        facilitator = connect(pair[0].url, {"token": setup.facilitator, "lang": "en"})
        clients.append(facilitator)
        phones = [p for server in pair for p in _phones(server, setup, PHONES)]
        clients += [client for client, _listener in phones]
        for action in ("show", "open", "reveal"):
            _command(facilitator, setup, action)
        for client, _listener in phones:
            ack = client.call("vote", {"cid": new_cid(), "activity": setup.activity,
                                       "choice": setup.options[0]}, timeout=15)
            assert ack.get("ok"), ack
        total = len(phones)
        for _client, listener in phones:
            assert listener.wait_for(lambda s: _tallies(s, total) >= 1, 15), listener.messages("results")
        # No phone gets a push twice (once from its process's slices, once whole): the tallies
        # come at most once per PHONE_PUSH_INTERVAL (1 s here), whichever process sends them.
        for _client, listener in phones:
            assert listener.quiet_for("results", 2.5, 10)
            times = [t for t, _data in listener.received["results"]]
            assert all(b - a >= 0.8 for a, b in zip(times, times[1:], strict=False)), times
