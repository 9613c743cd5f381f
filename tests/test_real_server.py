"""The real server (`python wsgi.py`, eventlet and gevent) under a burst of votes from real clients.

Each test starts the server as a subprocess on 127.0.0.1 with its own SQLite file, connects
python-socketio clients over WebSocket (participants carry the cookie `GET /j/<code>` gave
them), and checks the outcome in the database file itself. The server and every client are
stopped at the end, even on failure (see `support.server_room`).
"""

from __future__ import annotations

import pytest
from support import new_cid, query, server_room, skewed_choices

pytestmark = pytest.mark.server

MODES = ["eventlet", "gevent"]
PARTICIPANTS = 200


@pytest.mark.parametrize("mode", MODES)
def test_a_burst_of_votes_is_stored_acknowledged_and_coalesced(tmp_path, mode):
    """200 phones vote at the same moment: 200 ok acks, 200 rows, a few coalesced pushes.

    The votes are released together: each emit only queues a packet for its client's writer
    thread, so all 200 leave within milliseconds. The screen's last aggregate must equal the
    counts in the database, which must equal what was sent.
    """
    with server_room(tmp_path, mode) as room:
        for action in ("show", "open", "reveal"):
            room.command(action)
        room.join(PARTICIPANTS)
        choices = skewed_choices(room.setup.options, PARTICIPANTS)
        results_before = room.screen.count("results")

        burst = room.burst(choices, timeout=30)

        print(f"\n{mode}: burst of {burst.size} votes, {burst.wall * 1000:.0f} ms from release to last ack"
              f" (p50 {burst.percentile(50) * 1000:.0f} ms, p95 {burst.percentile(95) * 1000:.0f} ms)")
        assert burst.acked == PARTICIPANTS, f"only {burst.acked} acks arrived"
        refused = [ack for ack in burst.acks if not ack.get("ok")]
        assert not refused, f"{len(refused)} votes refused, e.g. {refused[:3]}"
        assert [ack["choice"] for ack in burst.acks] == [[choice] for choice in choices]
        assert {ack["activity"] for ack in burst.acks} == {room.setup.activity}

        stored, counts = room.stored()
        assert stored == PARTICIPANTS
        assert counts == burst.sent

        last = room.settled_results(PARTICIPANTS, timeout=10)
        messages = room.screen.count("results") - results_before
        print(f"{mode}: the screen received {messages} 'results' messages for {PARTICIPANTS} votes")
        assert last is not None, "the screen received no results"
        assert last["answers"] == PARTICIPANTS and last["results"]["total"] == PARTICIPANTS
        assert {o["id"]: o["count"] for o in last["results"]["options"]} == \
            {option: counts[option] for option in room.setup.options}
        assert messages < 100, "aggregates are not coalesced"
        assert room.server.alive()


def _session_state(room) -> tuple:
    database, setup = room.setup.database, room.setup
    return (
        query(database, "select version, state, current_activity_id from live_sessions where id = ?",
              (setup.session_id,)),
        query(database, "select state, revealed, version from activities where id = ?", (setup.activity,)),
        query(database, "select count(*) from timeline"),
        query(database, "select count(*) from client_acks"),
    )


@pytest.mark.parametrize("mode", MODES)
def test_only_the_facilitator_may_command(tmp_path, mode):
    """A participant's (or the screen's) `command` is refused as `forbidden` and changes nothing.

    After the refusals the facilitator sends one real command: the screen's next `state` must
    carry exactly the version that follows the one before the refusals (nothing in between).
    """
    with server_room(tmp_path, mode) as room:
        for action in ("show", "open"):
            room.command(action)
        phone = room.join(1)[0]
        before = _session_state(room)
        version = before[0][0][0]
        states = room.screen.count("state")

        for sender in (phone, room.screen_client):
            for action in ("close", "reveal", "reset", "banner", "end"):
                ack = sender.call("command", {"cid": new_cid(), "action": action,
                                              "activity": room.setup.activity}, timeout=10)
                assert ack["ok"] is False and ack["error"]["code"] == "forbidden", (action, ack)

        assert _session_state(room) == before
        room.command("close")
        assert room.screen.wait_for(lambda s: s.count("state") > states, timeout=10)
        assert room.screen.messages("state")[states]["version"] == version + 1
        assert query(room.setup.database, "select state from activities where id = ?",
                     (room.setup.activity,)) == [("closed",)]
