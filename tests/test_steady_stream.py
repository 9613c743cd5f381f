"""A room changing its votes: votes that arrive one by one, through the real server.

A steady stream of votes (4,000 phones each changing its vote every few seconds: ~1,300 a
second) used to give each vote a group commit of its own, and the screen saw a change only at
the end of the broadcaster's interval. Now, while writes keep coming, the write queue waits a
few milliseconds for the others (`LIVE_WRITE_GATHER`): they share the commit, and each vote is
acknowledged only once stored. The screen's counts go out at the leading edge of an interval
(a change after a quiet interval is pushed at once), and still at most once per interval.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import closing

import pytest
from support import Listener, connect, http_get, join_cookie, new_cid, server_room

pytestmark = pytest.mark.server
PHONES = 8
ROUNDS = 3
SPACING = 0.02  # seconds between two phones' votes: one by one, never two at once
GATHER = 0.3  # the write queue's wait for more writes, long here: on a slow machine too


def _stored_ack(database, client_id: str) -> bool:
    """Whether the SQLite file holds the answer of `client_id` (stored with its vote, in the
    same transaction)."""
    with closing(sqlite3.connect(database, timeout=10)) as con:
        return con.execute("select count(*) from client_acks where client_id = ?",
                           (client_id,)).fetchone()[0] == 1


def _health(url: str) -> dict:
    status, _headers, body = http_get(url, "/healthz")
    assert status == 200
    return json.loads(body)


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_votes_arriving_one_by_one_share_commits_and_each_is_acked_once_stored(tmp_path, mode):
    with server_room(tmp_path, mode, WRITE_GATHER=GATHER) as room:
        activity, options = room.setup.activity, room.setup.options
        for action in ("show", "open", "reveal"):
            room.command(action)
        phones = [connect(room.url, {"code": room.setup.code, "lang": "en"},
                          cookie=join_cookie(room.url, room.setup.code)) for _ in range(PHONES)]
        room.phones += phones
        before = _health(room.url)["group_commits"]
        unstored: list = []
        acked: list = []
        lock = threading.Lock()

        def votes(index: int, phone, round_: int) -> None:
            time.sleep(index * SPACING)  # the phones' pace: one vote every SPACING s
            cid = new_cid()
            ack = phone.call("vote", {"cid": cid, "activity": activity,
                                      "choice": options[(index + round_) % len(options)]}, timeout=15)
            stored = _stored_ack(room.setup.database, cid)  # read at the ack: already on disk
            with lock:
                acked.append(bool(ack.get("ok")))
                if not stored:
                    unstored.append(cid)

        for round_ in range(ROUNDS):  # each phone changes its vote once a round
            threads = [threading.Thread(target=votes, args=(index, phone, round_))
                       for index, phone in enumerate(phones)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        commits = _health(room.url)["group_commits"] - before
        assert acked == [True] * (PHONES * ROUNDS)
        assert unstored == []
        # A round's votes came one by one, 20 ms apart: the first alone (the queue was idle),
        # the others in one commit (one each before: 24 commits).
        assert commits <= 2 * ROUNDS, commits
        with closing(sqlite3.connect(room.setup.database, timeout=10)) as con:
            rows = con.execute("select count(*), sum(changes) from votes where activity_id = ?",
                               (activity,)).fetchone()
        assert rows == (PHONES, PHONES * (ROUNDS - 1))  # one row per phone, every change counted
        final = [options[(index + ROUNDS - 1) % len(options)] for index in range(PHONES)]
        expected = {option: final.count(option) for option in options}
        assert room.screen.wait_for(lambda s: bool(s.messages("results"))
                                    and _tally(s.messages("results")[-1]) == expected, 15)


def _tally(data: dict) -> dict:
    return {o["id"]: o["count"] for o in ((data or {}).get("results") or {}).get("options", [])}


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_change_after_a_quiet_interval_reaches_the_screen_at_once_and_a_stream_once_an_interval(
        tmp_path, mode):
    interval = 2.0  # long, so that "at once" and "at the end of the interval" cannot be confused
    with server_room(tmp_path, mode, PUSH_INTERVAL=interval) as room:
        activity, options = room.setup.activity, room.setup.options
        for action in ("show", "open", "reveal"):
            room.command(action)
        listener = Listener("results")
        phone = connect(room.url, {"code": room.setup.code, "lang": "en"},
                        cookie=join_cookie(room.url, room.setup.code), listener=listener)
        room.phones.append(phone)
        assert room.screen.quiet_for("results", interval + 0.2, 20)  # the commands' pushes are over
        had = room.screen.count("results")
        sent = time.monotonic()
        assert phone.call("vote", {"cid": new_cid(), "activity": activity, "choice": options[0]},
                          timeout=15)["ok"]
        assert room.screen.wait_for(lambda s: s.count("results") > had, 15)
        with room.screen._changed:
            first_at, first = room.screen.received["results"][had]
        assert first.get("answers") == 1
        assert first_at - sent < interval / 2, first_at - sent  # not held to the interval's end

        # Three changes right after: one more push, an interval after the first, with the last count.
        for choice in options[1:4]:
            assert phone.call("vote", {"cid": new_cid(), "activity": activity, "choice": choice},
                              timeout=15)["ok"]
        assert room.screen.wait_for(lambda s: s.count("results") > had + 1, 15)
        assert room.screen.quiet_for("results", interval + 0.2, 20)
        with room.screen._changed:
            pushes = room.screen.received["results"][had:]
        assert len(pushes) == 2, pushes
        assert pushes[1][0] - first_at >= interval * 0.9, pushes[1][0] - first_at
        assert _tally(pushes[1][1]) == {options[0]: 0, options[1]: 0, options[2]: 0, options[3]: 1}
