"""Who is told the counts, and how often, through the real server and real sockets.

Phones get no live tally while the results are hidden (they need none to vote, and 5,000
phones told ten times a second was most of the server's work); once revealed they get the tally
with the reveal, then at most every PHONE_PUSH_INTERVAL while it changes. The screen and the
console keep their aggregates at most every PUSH_INTERVAL (10 a second). Rates are checked as
upper bounds over a measured window (a slow machine sends fewer, never more).
"""

from __future__ import annotations

import math
import time

import pytest
from support import Listener, connect, join_cookie, new_cid, server_room, stored_votes

pytestmark = pytest.mark.server
PHONES = 3
PHONE_INTERVAL = 1.0


def vote(phone, activity: int, choice: int) -> dict:
    return phone.call("vote", {"cid": new_cid(), "activity": activity, "choice": choice}, timeout=15)


def arrivals(listener: Listener, name: str, start: float, end: float) -> int:
    with listener._changed:
        return sum(1 for t, _data in listener.received[name] if start <= t <= end)


def counts(data: dict) -> dict:
    return {o["id"]: o["count"] for o in data["results"]["options"]}


def test_phones_get_no_tally_while_hidden_and_a_slow_one_once_revealed(tmp_path):
    with server_room(tmp_path, PHONE_PUSH_INTERVAL=PHONE_INTERVAL) as room:
        activity, options = room.setup.activity, room.setup.options
        room.command("show")
        room.command("open")
        listeners = [Listener("results", "state") for _ in range(PHONES)]
        phones = [connect(room.url, {"code": room.setup.code, "lang": "en"},
                          cookie=join_cookie(room.url, room.setup.code), listener=listener)
                  for listener in listeners]
        room.phones += phones
        for index, phone in enumerate(phones):
            assert vote(phone, activity, options[index])["ok"]
        # Hidden: the screen and the console are told the count; the phones nothing.
        assert room.screen.wait_for(lambda s: any(
            (d or {}).get("answers") == PHONES for d in s.messages("results")), 15)
        assert room.screen.quiet_for("results", 0.5, 15)
        assert [listener.count("results") for listener in listeners] == [0] * PHONES

        room.command("reveal")  # the reveal brings every phone the tally
        for listener in listeners:
            assert listener.wait_for(lambda s: any(
                "results" in ((d or {}).get("current") or {}) for d in s.messages("state")), 15)

        start = time.perf_counter()
        changes = 0
        while time.perf_counter() - start < 3.0:  # the tally changes about 20 times a second
            for index, phone in enumerate(phones):
                assert vote(phone, activity, options[(index + changes) % len(options)])["ok"]
            changes += 1
        end = time.perf_counter()
        window = end - start + 0.3  # a push of the last change may leave just after
        for listener in listeners:
            got = arrivals(listener, "results", start, end + 0.3)
            assert 1 <= got <= math.ceil(window / PHONE_INTERVAL) + 1, got
        assert 2 <= arrivals(room.screen, "results", start, end + 0.3) <= math.ceil(window / 0.1) + 1

        # The last change reaches the phones too (held back, not dropped).
        _total, stored = stored_votes(room.setup.database, activity)
        expected = {option: stored.get(option, 0) for option in options}
        for listener in listeners:
            assert listener.wait_for(lambda s: bool(s.messages("results"))
                                     and counts(s.messages("results")[-1]) == expected, 10)
