"""Votes arriving together are handled a few per turn of the event loop, the others in line, so
that its timers (group commits, acks, the heartbeat) run in between (live/runtime.py:
`_fair_hub` under eventlet, `_fair_gevent_hub` under gevent). Through the real server with one
message per turn (`LIVE_EVENTS_PER_POLL=1`): every vote of a burst is acknowledged, stored once
and on screen, and one phone's votes sent without waiting are handled in the order sent. The
stall itself is a benchmark's figure (`python -m bench load --scenario burst --mode gevent`)."""

from __future__ import annotations

import json
import threading

import pytest
from realserver import http_get, new_cid
from support import server_room

pytestmark = pytest.mark.server
PHONES = 30


def _health(url: str) -> dict:
    status, _headers, body = http_get(url, "/healthz")
    assert status == 200
    return json.loads(body)


def _votes_in_a_row(phone, activity: int, options: list[int]) -> list[dict]:
    """Send a vote for each option without waiting for the acks; the acks, in the order sent."""
    acks: list = [None] * len(options)
    done = threading.Event()
    lock = threading.Lock()

    def on_ack(index):
        def record(data=None, *_rest):
            with lock:
                acks[index] = data
                if all(ack is not None for ack in acks):
                    done.set()
        return record

    for index, option in enumerate(options):
        phone.emit("vote", {"cid": new_cid(), "activity": activity, "choice": option},
                   callback=on_ack(index))
    assert done.wait(30), acks
    return acks


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_burst_handled_one_message_per_turn_loses_nothing_and_keeps_each_phones_order(tmp_path, mode):
    with server_room(tmp_path, mode, EVENTS_PER_POLL=1) as room:
        room.command("show")
        room.command("open")
        phones = room.join(PHONES)
        options = room.setup.options
        burst = room.burst([options[i % len(options)] for i in range(PHONES)])
        assert [ack and ack.get("ok") for ack in burst.acks] == [True] * PHONES
        assert room.screen.wait_for(lambda s: any(
            m.get("answers") == PHONES for m in s.messages("results")), 15)
        total, per_option = room.stored()
        assert total == PHONES and sum(per_option.values()) == PHONES
        # One phone changes its mind four times without waiting: answered and stored in order.
        in_a_row = [options[1], options[2], options[3], options[0]]
        acks = _votes_in_a_row(phones[0], room.setup.activity, in_a_row)
        assert [ack["choice"] for ack in acks] == [[option] for option in in_a_row]
        total, per_option = room.stored()
        assert total == PHONES
        expected = {option: sum(1 for i in range(PHONES) if options[i % len(options)] == option)
                    for option in options}
        expected[options[0]] -= 1  # phones[0] voted options[0] in the burst...
        expected[in_a_row[-1]] += 1  # ...and ends on the last of its votes in a row
        assert dict(per_option) == {k: v for k, v in expected.items() if v}
        if mode == "gevent":  # the line was used: messages waited for their turn
            health = _health(room.url)
            assert health["turn_line_max"] >= 1 and health["turn_line"] == 0
