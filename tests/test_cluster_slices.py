"""Behind Redis, a push to a large room (the phones' tally) is sent in slices by every process.

The process that pushes publishes it whole to the others and sends it to its own sockets a
slice at a time; each other process sends it to its own sockets a slice at a time too
(`realtime.deliver_in_slices`), its event loop serving the others in between, instead of the
whole room at once. Here with slices of 2 sockets: two real processes (eventlet and gevent),
one SQLite file, a real Redis; every phone on either process gets the revealed tally with the
final count, at most once per interval (no phone twice, none left out).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from multiprocess import Redis, servers, wait_until
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


def _first(listener: Listener, name: str, test) -> float | None:
    """When `listener` first got a `name` push whose data passes `test` (None: not yet)."""
    with listener._changed:
        return next((t for t, data in listener.received[name] if isinstance(data, dict) and test(data)), None)


def _sender_and_receiver(stack: ExitStack, tmp_path, setup, modes, pause: float, clients: list) -> tuple:
    """Two processes behind a real Redis: the facilitator and 2 voters on the first, the screen
    and 6 phones on the second; the poll shown, open and revealed."""
    redis = Redis(tmp_path).start()
    stack.callback(redis.stop)
    pair = servers(tmp_path, sqlite_url(setup.database), modes, MESSAGE_QUEUE=redis.url, PUSH_SLICE=2,
                   PUSH_SLICE_PAUSE=pause, PHONE_PUSH_INTERVAL=4.0)
    for server in pair:
        stack.callback(server.stop)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda s: s.start(60), pair))
    stack.callback(lambda: close_all(clients))
    sender, receiver = pair
    facilitator = connect(sender.url, {"token": setup.facilitator, "lang": "en"})
    clients.append(facilitator)
    screen = Listener("results", "state")
    clients.append(connect(receiver.url, {"token": setup.screen, "lang": "en"}, listener=screen))
    voters = _phones(sender, setup, 2)  # a room of 2 there: sent whole
    phones = _phones(receiver, setup, 6)
    clients += [client for client, _listener in voters + phones]
    for action in ("show", "open", "reveal"):
        _command(facilitator, setup, action)
    return facilitator, screen, voters, phones


@pytest.mark.parametrize("modes", [("gevent", "eventlet"), ("eventlet", "gevent")],
                         ids=["to-eventlet", "to-gevent"])
def test_another_processes_tally_is_paced_without_holding_the_screen_or_a_move(tmp_path, modes):
    """The phones of the process that receives a tally through Redis get it in slices with pauses
    between them, as the process that made it sends its own: sent at once, 2,000 phones' tally
    took both cores from the votes with two processes; sent by the Redis listener itself, it
    held every later push behind it. Meanwhile the screen on that process gets the counts of a
    new vote at once, and a facilitator's move reaches each phone after the tally, without
    waiting for the rest of its pauses, nor for the end of the pause under way (it did: up to
    a whole pause)."""
    pause = 2.0  # 6 phones on the receiving process, slices of 2: two pauses, the tally over 4 s
    setup = prepare(tmp_path / "palabre.db")
    clients: list = []
    with ExitStack() as stack:
        facilitator, screen, voters, phones = _sender_and_receiver(stack, tmp_path, setup, modes, pause,
                                                                   clients)

        def vote(client) -> None:
            ack = client.call("vote", {"cid": new_cid(), "activity": setup.activity,
                                       "choice": setup.options[0]}, timeout=15)
            assert ack.get("ok"), ack

        vote(voters[0][0])
        listeners = [listener for _client, listener in phones]
        assert wait_until(lambda: any(_first(s, "results", lambda d: d.get("answers") == 1)
                                      for s in listeners), 15)
        # The tally's first slice is out on the receiving process, its next two are paced.
        vote(voters[1][0])
        voted = time.perf_counter()
        assert screen.wait_for(lambda s: any(d.get("answers") == 2 for d in s.messages("results")), 15)
        on_screen = _first(screen, "results", lambda d: d.get("answers") == 2)
        first_tallies = [_first(s, "results", lambda d: d.get("answers") == 1) for s in listeners]
        assert on_screen - voted < pause, "the screen's counts waited behind the phones' tally"
        assert None in first_tallies, f"the tally was not paced: {first_tallies}"

        states = [listener.count("state") for listener in listeners]
        # The move comes in the middle of the first pause.
        time.sleep(max(0.0, min(t for t in first_tallies if t is not None) + pause / 2 - time.perf_counter()))
        moved = time.perf_counter()
        _command(facilitator, setup, "close")
        for listener, had in zip(listeners, states, strict=True):
            assert listener.wait_for(lambda s, had=had: s.count("state") > had, 15)
        tallies = [_first(s, "results", lambda d: d.get("answers") == 1) for s in listeners]
        assert None not in tallies, "a phone missed the tally"
        assert max(tallies) - min(tallies) >= pause / 2, f"the tally came all at once: {tallies}"
        for listener, had, tally in zip(listeners, states, tallies, strict=True):
            with listener._changed:
                state_at = listener.received["state"][had][0]
            assert state_at > tally, "a phone got the move before the tally published before it"
            assert state_at - moved < pause / 4, "the move waited for the tally's pause"
