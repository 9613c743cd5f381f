"""Session and activity lifecycles: commands refused from the wrong state, through the socket."""

from __future__ import annotations

import pytest
from conftest import add_poll, cid

from live.i18n import MESSAGES
from live.realtime import socketio
from live.sessions import lifecycle
from live.sessions.model import Activity, LiveSession


def _facilitator(app, live, lang="en"):
    return socketio.test_client(app, auth={"token": live["facilitator"], "lang": lang})


def _send(sock, action, activity=None):
    return sock.emit("command", {"cid": cid(), "action": action, "activity": activity}, callback=True)


def _states(store, live, activity):
    with store.read() as db:
        one = db.get(Activity, activity)
        return db.get(LiveSession, live["id"]).state, one.state, one.revealed


@pytest.mark.parametrize(("steps", "action", "code"), [
    ((), "reset", "nothing_to_reset"),  # a draft that never opened: nothing to undo
    ((), "close", "not_open"),
    (("open",), "open", "already_open"),
    (("open", "close"), "close", "not_open"),
    (("open", "end"), "open", "session_ended"),
    (("open", "end"), "reset", "session_ended"),
    (("open", "end"), "show", "session_ended"),
    (("end",), "end", "session_ended"),
])
def test_a_command_from_the_wrong_state_is_refused_and_changes_nothing(app, store, live, steps, action,
                                                                       code):
    activity = add_poll(store, live["id"])
    sock = _facilitator(app, live)
    for step in steps:
        assert _send(sock, step, activity)["ok"], step
    before = _states(store, live, activity)
    ack = _send(sock, action, activity)
    assert ack["ok"] is False and ack["error"]["code"] == code
    assert ack["error"]["message"] == str(MESSAGES[code])
    assert _states(store, live, activity) == before
    sock.disconnect()


def test_the_refusal_is_in_the_facilitators_language(app, store, live):
    activity = add_poll(store, live["id"])
    sock = _facilitator(app, live, "fr")
    ack = _send(sock, "reset", activity)
    assert ack["error"]["code"] == "nothing_to_reset"
    assert "réinitialiser" in ack["error"]["message"]
    sock.disconnect()


def test_allowed_moves_go_through_every_state(app, store, live):
    activity = add_poll(store, live["id"])
    sock = _facilitator(app, live)
    seen = [_states(store, live, activity)]
    for action in ("reveal", "reset", "open", "close", "open", "reset", "open", "end"):
        assert _send(sock, action, activity)["ok"], action
        seen.append(_states(store, live, activity))
    assert seen == [
        ("draft", "draft", False),
        ("draft", "draft", True),  # results revealed before opening...
        ("draft", "draft", False),  # ...may be reset (hidden again)
        ("live", "open", False),
        ("live", "closed", False),
        ("live", "open", False),  # reopened
        ("live", "draft", False),
        ("live", "open", False),
        ("ended", "closed", False),  # ending closes what is open
    ]
    sock.disconnect()


def test_the_transition_tables_name_only_known_states_and_translated_refusals():
    tables = ((lifecycle.SESSION_TRANSITIONS, lifecycle.SESSION_STATES),
              (lifecycle.ACTIVITY_TRANSITIONS, lifecycle.ACTIVITY_STATES + (lifecycle.REVEALED_DRAFT,)))
    for transitions, states in tables:
        for action, moves in transitions.items():
            assert set(moves) <= set(states), action
            assert set(moves.values()) <= set(states) - {lifecycle.REVEALED_DRAFT}, action
            assert lifecycle.REFUSALS[action] in MESSAGES, action
