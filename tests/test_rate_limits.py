"""Flood control holds per participant, whatever the door: several sockets with one cookie and
the plain-form fallbacks all draw on the same budgets (issue 11)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import add_poll, choose_language, cid, command

from live import ratelimit
from live.polls.model import Option, Vote
from live.realtime import socketio
from live.render import pool as render_pool
from live.sessions import service as sessions
from live.wordclouds import service as clouds
from live.wordclouds.model import WordEntry

EN = {"Accept-Language": "en"}


@pytest.fixture(scope="module", autouse=True)
def _stop_render_workers():
    yield
    render_pool.shutdown()  # no worker process outlives these tests


@pytest.fixture(autouse=True)
def _still_clock(monkeypatch):
    """The buckets refill at their capacity per 10 s: 1 token a second at 10. On a slow machine
    16 events can take over a second and earn one more. The budgets are asserted exactly, so the
    limiter's clock stands still here (refilling is tested in test_flood.py)."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(monotonic=lambda: 1000.0))


def _browser(app, live):
    browser = choose_language(app.test_client())
    browser.get(f"/j/{live['code']}")
    return browser


def _socket(app, live, browser):
    return socketio.test_client(app, auth={"code": live["code"], "lang": "en"}, flask_test_client=browser)


def _open_poll(store, live):
    """An open poll on screen, and its three option ids."""
    activity = add_poll(store, live["id"])
    for action in ("show", "open"):
        command(store, live["id"], action, activity)
    with store.read() as db:
        return activity, [o.id for o in db.query(Option).filter_by(activity_id=activity).order_by(Option.id)]


def _open_cloud(store, live):
    with store.write() as db:
        activity = clouds.add_wordcloud(db, sessions.get_session(db, live["id"]), "En un mot ?",
                                        {"entries_per_participant": 10}).id
    for action in ("show", "open"):
        command(store, live["id"], action, activity)
    return activity


def _flash(response) -> str:
    return response.get_data(as_text=True)


def test_two_sockets_with_one_cookie_share_one_budget(app, live, store):
    app.config["RATE_LIMIT_PER_10S"] = 10
    poll, options = _open_poll(store, live)
    browser = _browser(app, live)
    first, second = _socket(app, live, browser), _socket(app, live, browser)
    other = _socket(app, live, _browser(app, live))  # someone else: their own budget
    try:
        acks = []
        for n in range(8):
            for sock in (first, second):
                acks.append(sock.emit("vote", {"cid": cid(), "activity": poll, "choice": options[n % 3]},
                                      callback=True))
        assert sum(a["ok"] for a in acks) == 10, [a.get("error") for a in acks]
        refused = [a for a in acks if not a["ok"]]
        assert {a["error"]["code"] for a in refused} == {"rate_limited"}
        assert "wait" in refused[0]["error"]["message"].lower()
        assert other.emit("vote", {"cid": cid(), "activity": poll, "choice": options[0]}, callback=True)["ok"]
    finally:
        for sock in (first, second, other):
            sock.disconnect()


def test_the_form_fallback_draws_on_the_same_budget_as_the_sockets(app, live, store):
    app.config["RATE_LIMIT_PER_10S"] = 6
    poll, options = _open_poll(store, live)
    browser = _browser(app, live)
    sock = _socket(app, live, browser)
    try:
        for _ in range(6):
            assert sock.emit("vote", {"cid": cid(), "activity": poll, "choice": options[0]},
                             callback=True)["ok"]
        response = browser.post(f"/j/{live['code']}/vote", data={"activity": poll, "choice": str(options[1]),
                                                                "cid": "form-1"},
                                headers=EN, follow_redirects=True)
        assert response.status_code == 200 and "Too many actions" in _flash(response)
        with store.read() as db:
            assert [v.choice for v in db.query(Vote)] == [[options[0]]]  # the form's vote was not stored
    finally:
        sock.disconnect()


def test_forms_alone_are_limited_like_a_socket(app, live, store):
    app.config["RATE_LIMIT_PER_10S"] = 4
    poll, options = _open_poll(store, live)
    browser = _browser(app, live)
    saved = 0
    for n in range(7):
        response = browser.post(f"/j/{live['code']}/vote", data={"activity": poll,
                                                                "choice": str(options[n % 3]),
                                                                "cid": f"form-{n}"},
                                headers=EN, follow_redirects=True)
        assert response.status_code == 200
        saved += "Too many actions" not in _flash(response)
    assert saved == 4
    with store.read() as db:
        assert db.query(Vote).one().choice == [options[3 % 3]]  # the fourth vote, the last allowed


def test_the_word_rate_holds_across_sockets_and_the_form(app, live, store):
    app.config["WORDCLOUD_RATE_PER_10S"] = 4
    cloud = _open_cloud(store, live)
    browser = _browser(app, live)
    first, second = _socket(app, live, browser), _socket(app, live, browser)
    try:
        acks = [sock.emit("word:add", {"cid": cid(), "activity": cloud, "text": f"mot{n}"}, callback=True)
                for n, sock in enumerate((first, second, first))]
        assert all(a["ok"] for a in acks), acks
        assert browser.post(f"/j/{live['code']}/words", data={"activity": cloud, "text": "formulaire",
                                                              "cid": "w1"}).status_code == 302
        late = second.emit("word:add", {"cid": cid(), "activity": cloud, "text": "encore"}, callback=True)
        assert late["ok"] is False and late["error"]["code"] == "words_too_fast"
        response = browser.post(f"/j/{live['code']}/words", data={"activity": cloud, "text": "et encore",
                                                                  "cid": "w2"},
                                headers=EN, follow_redirects=True)
        assert "very fast" in _flash(response)
        with store.read() as db:
            assert sorted(e.text for e in db.query(WordEntry)) == ["formulaire", "mot0", "mot1", "mot2"]
    finally:
        first.disconnect()
        second.disconnect()


def test_the_idea_posting_pace_holds_across_sockets_and_the_form(app, live, store):
    from test_boards_service import add_board

    from live.boards.model import Item
    from live.boards.rules import POSTS_PER_MINUTE

    wall = add_board(store, live["id"], premoderation=False)
    browser = _browser(app, live)
    first, second = _socket(app, live, browser), _socket(app, live, browser)
    try:
        for n in range(POSTS_PER_MINUTE - 1):
            sock = (first, second)[n % 2]
            assert sock.emit("board_post", {"cid": cid(), "activity": wall, "text": f"idée {n}"},
                             callback=True)["ok"]
        form = {"activity": wall, "text": "par le formulaire", "cid": "b1"}
        assert browser.post(f"/j/{live['code']}/boards/post", data=form).status_code == 302
        late = second.emit("board_post", {"cid": cid(), "activity": wall, "text": "une de trop"},
                           callback=True)
        assert late["ok"] is False and late["error"]["code"] == "posting_too_fast"
        response = browser.post(f"/j/{live['code']}/boards/post",
                                data={"activity": wall, "text": "encore une", "cid": "b2"},
                                headers=EN, follow_redirects=True)
        assert "a minute" in _flash(response)
        with store.read() as db:
            assert db.query(Item).count() == POSTS_PER_MINUTE
    finally:
        first.disconnect()
        second.disconnect()
