"""The same operation through both doors (a socket event, a plain form) stores the same thing and
sends the same pushes: both call one operation and hand its effects to one function
(`live.sessions.effects.apply`). Board contributions and moderation, word-cloud entries and
moderation, votes."""

from __future__ import annotations

import time

import pytest
from conftest import add_poll, cid, command
from test_boards_service import add_board

from live.boards.model import Item, ModerationEntry
from live.polls.model import Option, Vote
from live.realtime import socketio
from live.render import pool as render_pool
from live.sessions import effects
from live.sessions import service as sessions
from live.wordclouds import service as clouds
from live.wordclouds.model import WordEntry, WordGroupState


@pytest.fixture(scope="module", autouse=True)
def _stop_render_workers():
    yield
    render_pool.shutdown()  # no worker process outlives these tests


@pytest.fixture
def applied(monkeypatch):
    """Every Effects the doors hand to `effects.apply`, as plain data, in order (joins left out)."""
    seen: list[dict] = []
    real = effects.apply

    def record(changed):
        if changed is not None and (changed.state or changed.counts or changed.tell):
            described = changed.as_dict()
            del described["presence"]
            seen.append(described)
        real(changed)

    monkeypatch.setattr(effects, "apply", record)
    return seen


def _settle(socks, names, activity, timeout=8.0, expected=None):
    """Wait until every socket got each named push about `activity` (bounded), or the pushes of
    `expected` (one list of names per socket); which it got.

    Pushes are coalesced, so what counts is which ones arrived, not how many.
    """
    wanted = [set(names)] * len(socks) if expected is None else [set(e) for e in expected]
    got: list[set] = [set() for _ in socks]
    deadline = time.monotonic() + timeout
    while True:
        for sock, seen in zip(socks, got, strict=True):
            for event in sock.get_received():
                data = event["args"][0] if event["args"] else {}
                if event["name"] in names and (event["name"] == "state" or data.get("activity") == activity):
                    seen.add(event["name"])
        if all(seen == want for seen, want in zip(got, wanted, strict=True)) or time.monotonic() > deadline:
            return [sorted(seen) for seen in got]
        socketio.sleep(0.05)


def _same(record: dict, a: int, b: int) -> dict:
    """An Effects description with the activity id made comparable across the two activities."""
    swap = {a: "activity", b: "activity"}
    return {"state": record["state"], "counts": [swap.get(x, x) for x in record["counts"]],
            "tell": {swap.get(k, k): len(v) for k, v in record["tell"].items()}}


def _browser(app, live):
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    return browser


def test_board_post_and_moderation_are_the_same_through_both_doors(app, staff, store, live, applied):
    walls = [add_board(store, live["id"], columns=["Idées"]) for _ in range(2)]  # premoderated
    browser = _browser(app, live)
    author = socketio.test_client(app, auth={"code": live["code"], "lang": "en"}, flask_test_client=browser)
    moderator, screen = staff("moderator"), staff("screen")
    moderator_page = app.test_client()

    # Door 1, the socket: post, then approve.
    ack = author.emit("board_post", {"cid": cid(), "activity": walls[0], "text": "Réparer", "column": 0},
                      callback=True)
    assert ack["ok"] and ack["status"] == "pending"
    first = ack["item"]
    # Door 2, the forms: the same post (same person, same browser), then the same approval.
    posted = browser.post(f"/j/{live['code']}/boards/post", data={
        "cid": cid(), "activity": walls[1], "text": "Réparer", "column": "0"})
    assert posted.status_code == 302
    with store.read() as db:
        second = db.query(Item).filter_by(activity_id=walls[1]).one().id
    assert _same(applied[0], *walls) == _same(applied[1], *walls) == {
        "state": False, "counts": ["activity"], "tell": {}}
    _settle([screen], ("results",), walls[1])
    for sock in (author, screen):
        sock.get_received()

    ack = moderator.emit("board_moderate", {"cid": cid(), "activity": walls[0], "action": "approve",
                                            "items": [{"id": first, "version": 1}]}, callback=True)
    assert ack["ok"], ack
    # The screen gets the new wall and the counts; the author's phone its own `mine` (and no
    # count: the wall's results are hidden).
    pushes = [["results", "state"], ["board_mine", "state"]]
    by_socket = _settle([screen, author], ("state", "results", "board_mine"), walls[0], timeout=3,
                        expected=pushes)
    sent = moderator_page.post(f"/m/{live['moderator']}/boards/{walls[1]}/moderate",
                               data={"act": f"approve:{second}:1"})
    assert sent.status_code == 302
    by_form = _settle([screen, author], ("state", "results", "board_mine"), walls[1], timeout=3,
                      expected=pushes)

    assert _same(applied[2], *walls) == _same(applied[3], *walls) == {
        "state": True, "counts": ["activity"], "tell": {"activity": 1}}
    assert by_socket == by_form == pushes
    with store.read() as db:
        items = [db.query(Item).filter_by(activity_id=wall).one() for wall in walls]
        assert [(i.status, i.version, i.text) for i in items] == [("approved", 2, "Réparer")] * 2
        logs = [[(e.action, e.link) for e in db.query(ModerationEntry).filter_by(activity_id=wall)]
                for wall in walls]
        assert logs[0] == logs[1] == [("approve", "moderator")]
    author.disconnect()


def test_word_cloud_entry_and_moderation_are_the_same_through_both_doors(app, staff, store, live, applied):
    pair = []
    for _ in range(2):
        with store.write() as db:
            pair.append(clouds.add_wordcloud(db, sessions.get_session(db, live["id"]), "En un mot ?").id)
        for action in ("open", "reveal"):
            command(store, live["id"], action, pair[-1])
    browser = _browser(app, live)
    phone = socketio.test_client(app, auth={"code": live["code"], "lang": "en"}, flask_test_client=browser)
    moderator, screen = staff("moderator"), staff("screen")

    ack = phone.emit("word:add", {"cid": cid(), "activity": pair[0], "text": "sobriété"}, callback=True)
    assert ack["ok"], ack
    by_socket = _settle([screen], ("results", "cloud"), pair[0])
    sent = browser.post(f"/j/{live['code']}/words", data={"cid": cid(), "activity": pair[1],
                                                          "text": "sobriété"})
    assert sent.status_code == 302
    by_form = _settle([screen], ("results", "cloud"), pair[1])
    assert _same(applied[0], *pair) == _same(applied[1], *pair) == {
        "state": False, "counts": ["activity"], "tell": {}}
    assert by_socket == by_form == [["cloud", "results"]]

    with store.read() as db:
        keys = [clouds.groups(db, db.get(clouds.Activity, a))[0].key for a in pair]
    ack = moderator.emit("word:moderate", {"cid": cid(), "activity": pair[0], "action": "hide",
                                           "key": keys[0]}, callback=True)
    assert ack["ok"], ack
    by_socket = _settle([screen], ("state", "results", "cloud"), pair[0])
    sent = app.test_client().post(f"/m/{live['moderator']}/words/{pair[1]}",
                                  data={"action": "hide", "key": keys[1]})
    assert sent.status_code == 302
    by_form = _settle([screen], ("state", "results", "cloud"), pair[1])

    assert _same(applied[2], *pair) == _same(applied[3], *pair) == {
        "state": True, "counts": ["activity"], "tell": {}}
    assert by_socket == by_form == [["cloud", "results", "state"]]
    with store.read() as db:
        hidden = [[(g.key, g.hidden) for g in db.query(WordGroupState).filter_by(activity_id=a)]
                  for a in pair]
        assert hidden[0] == hidden[1] == [(keys[0], True)]
        assert [db.query(WordEntry).filter_by(activity_id=a).count() for a in pair] == [1, 1]
    phone.disconnect()


def test_a_vote_is_the_same_through_both_doors(app, staff, store, live, applied):
    polls = [add_poll(store, live["id"]) for _ in range(2)]
    for activity in polls:
        command(store, live["id"], "open", activity)
    with store.read() as db:
        first_option = [db.query(Option).filter_by(activity_id=a).order_by(Option.position).first().id
                        for a in polls]
    browser = _browser(app, live)
    phone = socketio.test_client(app, auth={"code": live["code"], "lang": "en"}, flask_test_client=browser)
    screen = staff("screen")

    ack = phone.emit("vote", {"cid": cid(), "activity": polls[0], "choice": first_option[0]}, callback=True)
    assert ack["ok"], ack
    by_socket = _settle([screen], ("results",), polls[0])
    sent = browser.post(f"/j/{live['code']}/vote", data={"cid": cid(), "activity": polls[1],
                                                         "choice": first_option[1]})
    assert sent.status_code == 302
    by_form = _settle([screen], ("results",), polls[1])

    assert _same(applied[0], *polls) == _same(applied[1], *polls) == {
        "state": False, "counts": ["activity"], "tell": {}}
    assert by_socket == by_form == [["results"]]
    with store.read() as db:
        votes = [[(v.choice, v.changes) for v in db.query(Vote).filter_by(activity_id=a)] for a in polls]
    assert votes == [[([first_option[0]], 0)], [([first_option[1]], 0)]]
    phone.disconnect()
