"""Who is told the counts, and how often, through the real server and real sockets.

Phones get no live tally while the results are hidden (they need none to vote, and 5,000
phones told ten times a second was most of the server's work); once revealed they get the tally
with the reveal, then at most every PHONE_PUSH_INTERVAL while it changes, once the counts have
settled: a burst costs each phone one tally, with its final count. The screen and the
console keep their aggregates at most every PUSH_INTERVAL (10 a second). Rates are checked as
upper bounds over a measured window (a slow machine sends fewer, never more).
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

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


def revealed_phones(room, count: int) -> tuple[list, list[Listener]]:
    """`count` phones joined, the poll shown, open and revealed: each has had the tally."""
    listeners = [Listener("results", "state") for _ in range(count)]
    phones = [connect(room.url, {"code": room.setup.code, "lang": "en"},
                      cookie=join_cookie(room.url, room.setup.code), listener=listener)
              for listener in listeners]
    room.phones += phones
    for action in ("show", "open", "reveal"):
        room.command(action)
    for listener in listeners:
        assert listener.wait_for(lambda s: any(
            "results" in ((d or {}).get("current") or {}) for d in s.messages("state")), 15)
    return phones, listeners


def test_a_burst_brings_each_phone_one_tally_with_the_final_count(tmp_path):
    """Revealed results, phones voting in a burst (rounds of votes at once, shorter together
    than the interval): each phone gets one tally, once the burst is over, with the final count
    (a tally at the burst's first vote was out of date at once, and one more send per phone)."""
    interval = 2.0
    # Slices of 3 sockets: the tally reaches the 8 phones in three slices (realtime.emit_in_slices).
    with server_room(tmp_path, PHONE_PUSH_INTERVAL=interval, PUSH_SLICE=3) as room:
        activity, options = room.setup.activity, room.setup.options
        phones, listeners = revealed_phones(room, 8)
        before = [listener.count("results") for listener in listeners]
        start = time.perf_counter()
        with ThreadPoolExecutor(len(phones)) as pool:
            for round_ in range(5):  # each round's votes share a group commit; a round every ~0.2 s
                acks = list(pool.map(lambda p, r=round_: vote(p[1], activity, options[(p[0] + r) % 4]),
                                     enumerate(phones)))
                assert all(ack["ok"] for ack in acks), acks
                time.sleep(0.15)  # the phones' pace (the burst spans several broadcaster ticks)
        last_ack = time.perf_counter()
        assert last_ack - start < interval, "the burst must be shorter than the interval"
        _total, stored = stored_votes(room.setup.database, activity)
        final = {option: stored.get(option, 0) for option in options}
        for listener in listeners:
            assert listener.wait_for(lambda s: len(s.messages("results")) > before[listeners.index(s)], 10)
        # Nothing more comes within the interval after it: one tally per phone for the burst.
        assert room.screen.quiet_for("results", 0.5, 15)
        assert listeners[0].quiet_for("results", interval + 0.3, 15)
        for listener, had in zip(listeners, before, strict=True):
            with listener._changed:
                new = listener.received["results"][had:]
            assert len(new) == 1, [counts(d) for _t, d in new]
            at, data = new[0]
            assert at >= last_ack and counts(data) == final


def test_a_large_rooms_tally_is_spread_out_and_a_move_is_not_held_behind_it(tmp_path):
    """The phones' tally goes to a large room a slice at a time with a pause between slices (the
    loop serves the votes meanwhile: 4,000 phones' tally in one stretch held every ack behind
    it), yet a facilitator's move during it is not held back: the rest of the tally goes out
    at once, then the move, in that order on every phone."""
    pause = 1.0  # 8 phones, slices of 2: three pauses, the tally spread over 3 s
    with server_room(tmp_path, PHONE_PUSH_INTERVAL=1.0, PUSH_SLICE=2, PUSH_SLICE_PAUSE=pause) as room:
        activity, options = room.setup.activity, room.setup.options
        phones, listeners = revealed_phones(room, 8)

        def tally(answers: int) -> list[float]:
            """When each phone got the tally counting `answers` votes."""
            for listener in listeners:
                assert listener.wait_for(lambda s: any(
                    d["answers"] == answers for d in s.messages("results")), 30)
            with_answers = []
            for listener in listeners:
                with listener._changed:
                    with_answers.append(min(t for t, d in listener.received["results"]
                                            if d["answers"] == answers))
            return with_answers

        assert vote(phones[0], activity, options[0])["ok"]
        arrived = tally(1)
        assert max(arrived) - min(arrived) >= 2 * pause, arrived  # not all at once

        assert vote(phones[1], activity, options[1])["ok"]
        deadline = time.monotonic() + 30
        while not any(d["answers"] == 2 for listener in listeners for d in listener.messages("results")):
            assert time.monotonic() < deadline
            time.sleep(0.01)  # the first slice is out: the rest are paced
        states_before = [listener.count("state") for listener in listeners]
        moved = time.perf_counter()
        room.command("close")
        arrived = tally(2)
        for listener, had in zip(listeners, states_before, strict=True):
            assert listener.wait_for(lambda s, had=had: s.count("state") > had, 15)
            with listener._changed:
                state_at = listener.received["state"][had][0]
            assert state_at > max(t for t, d in listener.received["results"] if d["answers"] == 2)
            assert state_at - moved < 2 * pause  # not after the paced tally's three pauses
