"""Idea walls and Q&A over Socket.IO: visibility, budgets under concurrent taps, two moderators."""

import json
import threading
import time

import pytest
from conftest import cid, events_named
from support import pushes_settled, wait_for_event
from test_boards_service import add_board

from live.boards.model import BoardVote, Item
from live.realtime import socketio


def _post(sock, board, text, column=0, **extra):
    return sock.emit("board_post", {"cid": cid(), "activity": board, "text": text,
                                    "column": column, **extra}, callback=True)


def _moderate(sock, board, action, items, **extra):
    return sock.emit("board_moderate", {"cid": cid(), "activity": board, "action": action,
                                        "items": items, **extra}, callback=True)


def _queue(sock, board):
    ack = sock.emit("board_moderation", {"cid": cid(), "activity": board}, callback=True)
    assert ack["ok"], ack
    return ack["board"]


def _everything_received(sock):
    return json.dumps([e["args"] for e in sock.get_received()], ensure_ascii=False)


def test_premoderation_never_sends_an_unapproved_item_to_another_phone(app, phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Constats", "Idées", "Actions"])
    author, neighbour, moderator, screen = phone(), phone(), staff("moderator"), staff("screen")
    secret = "Une idée pas encore approuvée"
    ack = _post(author, wall, secret, 1)
    assert ack["ok"] and ack["status"] == "pending"
    assert [i["text"] for i in ack["mine"]["items"]] == [secret]  # the author sees their own
    assert pushes_settled(app)  # every coalesced push has gone out
    assert secret not in _everything_received(neighbour)
    assert secret not in _everything_received(screen)
    again = phone()  # a fresh snapshot does not carry it either
    assert secret not in _everything_received(again)
    queued = _queue(moderator, wall)["queue"]
    assert [i["text"] for i in queued] == [secret]
    ack = _moderate(moderator, wall, "approve", [{"id": queued[0]["id"], "version": queued[0]["version"]}])
    assert ack["ok"], ack
    for sock in (neighbour, screen):
        state = events_named(sock, "state")[-1]
        assert [i["text"] for i in state["current"]["items"]] == [secret]


def test_postmoderated_idea_reaches_the_screen_at_once_and_hiding_removes_it(phone, staff, store, live):
    wall = add_board(store, live["id"], premoderation=False)
    author, screen, moderator = phone(), staff("screen"), staff("moderator")
    screen.get_received()
    started = time.monotonic()
    assert _post(author, wall, "Visible tout de suite")["ok"]
    state = wait_for_event(screen, "state", lambda s: s["current"]["items"])
    assert state is not None and time.monotonic() - started < 1.0
    item = state["current"]["items"][0]
    assert "participant" not in json.dumps(item) and item["author"] is None
    version = _queue(moderator, wall)["queue"][0]["version"]
    assert _moderate(moderator, wall, "hide", [{"id": item["id"], "version": version}])["ok"]
    assert events_named(screen, "state")[-1]["current"]["items"] == []


def test_two_moderators_on_the_same_item_second_gets_the_current_state(phone, staff, store, live):
    wall = add_board(store, live["id"])
    _post(phone(), wall, "Doublon potentiel")
    first, second = staff("moderator"), staff("facilitator")
    seen = _queue(first, wall)["queue"][0]
    assert _queue(second, wall)["queue"][0]["version"] == seen["version"]
    ref = [{"id": seen["id"], "version": seen["version"]}]
    ok = _moderate(first, wall, "approve", ref, by="Léa")
    late = _moderate(second, wall, "reject", ref, by="Karim")
    assert ok["ok"] and ok["items"][0]["status"] == "approved"
    assert late["ok"] is False and late["error"]["code"] == "changed_meanwhile"
    assert "meanwhile" in late["error"]["message"]
    assert late["state"]["items"][0]["status"] == "approved"
    assert late["state"]["items"][0]["version"] > seen["version"]
    log = _queue(first, wall)["log"]
    assert [(e["action"], e["moderator"], e["link"]) for e in log] == [
        ("refused", "Karim", "facilitator"), ("approve", "Léa", "moderator")]  # newest first


def test_several_tabs_tapping_at_once_never_exceed_the_budget(app, live, store):
    wall = add_board(store, live["id"], budget=3, premoderation=False)
    author = socketio.test_client(app, auth={"code": live["code"]}, flask_test_client=_browser(app, live))
    ids = [_post(author, wall, f"idée {n}")["item"] for n in range(5)]
    browser = _browser(app, live)  # one participant, four tabs
    tabs = [socketio.test_client(app, auth={"code": live["code"]}, flask_test_client=browser)
            for _ in range(4)]
    acks: list[dict] = []
    start = threading.Barrier(len(tabs))

    def tap(tab, n):
        start.wait()
        for k in range(3):
            acks.append(tab.emit("board_vote", {"cid": cid(), "activity": wall,
                                                "item": ids[(n + k) % 5]}, callback=True))

    threads = [threading.Thread(target=tap, args=(tab, n)) for n, tab in enumerate(tabs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(a["ok"] for a in acks) == 3
    assert {a["error"]["code"] for a in acks if not a["ok"]} <= {"no_votes_left", "already_voted"}
    with store.read() as db:
        assert db.query(BoardVote).count() == 3
    for sock in (author, *tabs):
        sock.disconnect()


def _browser(app, live):
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    return browser


def test_vote_ack_carries_the_dots_left_and_screen_counts_are_coalesced(phone, staff, store, live):
    wall = add_board(store, live["id"], budget=2, premoderation=False)
    ids = [_post(phone(), wall, f"idée {n}")["item"] for n in range(2)]
    facilitator, screen = staff("facilitator"), staff("screen")
    facilitator.emit("command", {"cid": cid(), "action": "reveal", "activity": wall}, callback=True)
    screen.get_received()
    voters = [phone() for _ in range(6)]
    for sock in voters:
        ack = sock.emit("board_vote", {"cid": cid(), "activity": wall, "item": ids[1]}, callback=True)
        assert ack["ok"] and ack["mine"]["left"] == 1 and ack["mine"]["votes"] == {str(ids[1]): 1}
    payload = wait_for_event(screen, "results",
                             lambda p: p.get("results", {}).get("votes", {}).get(str(ids[1])) == 6)
    assert payload is not None and payload["results"]["order"][0] == ids[1]
    assert len(events_named(screen, "results")) < 6
    took = voters[0].emit("board_vote", {"cid": cid(), "activity": wall, "item": ids[1], "take": True},
                          callback=True)
    assert took["ok"] and took["mine"]["left"] == 2


@pytest.mark.parametrize("event, role", [
    ("board_moderate", "participant"), ("board_moderate", "screen"), ("board_post", "moderator"),
    ("board_vote", "screen"), ("board_settings", "moderator"), ("board_moderation", "participant"),
])
def test_roles_are_checked(phone, staff, store, live, event, role):
    wall = add_board(store, live["id"])
    sock = phone() if role == "participant" else staff(role)
    ack = sock.emit(event, {"cid": cid(), "activity": wall, "action": "approve", "items": [],
                            "text": "x", "item": 1}, callback=True)
    assert ack["error"]["code"] == "forbidden"


def test_moderator_display_only_the_current_question(staff, phone, store, live):
    qa = add_board(store, live["id"], "questions")
    question = _post(phone(), qa, "Quel budget pour la sobriété ?")["item"]
    moderator, screen = staff("moderator"), staff("screen")
    assert moderator.emit("board_display", {"cid": cid(), "activity": qa, "sort": "time"},
                          callback=True)["error"]["code"] == "forbidden"
    ack = moderator.emit("board_display", {"cid": cid(), "activity": qa, "current": question}, callback=True)
    assert ack["ok"]
    assert events_named(screen, "state")[-1]["current"]["current"]["text"] == "Quel budget pour la sobriété ?"


def test_withdraw_and_replay(phone, store, live):
    wall = add_board(store, live["id"])
    sock = phone()
    same = cid()
    first = sock.emit("board_post", {"cid": same, "activity": wall, "text": "une fois"}, callback=True)
    again = sock.emit("board_post", {"cid": same, "activity": wall, "text": "une fois"}, callback=True)
    assert first == again
    with store.read() as db:
        assert db.query(Item).count() == 1
    ack = sock.emit("board_withdraw", {"cid": cid(), "activity": wall, "item": first["item"]}, callback=True)
    assert ack["ok"] and ack["mine"]["items"] == []


def test_forms_work_without_javascript(app, live, store):
    wall = add_board(store, live["id"], premoderation=False, columns=["A", "B"])
    browser = _browser(app, live)
    response = browser.post(f"/j/{live['code']}/boards/post",
                            data={"activity": wall, "column": 1, "text": "<b>sans JS</b>", "cid": "f1"})
    assert response.status_code == 302
    with store.read() as db:
        item = db.query(Item).one()
    assert (item.text, item.column, item.status) == ("<b>sans JS</b>", 1, "visible")
    browser.post(f"/j/{live['code']}/boards/vote", data={"activity": wall, "item": item.id, "cid": "f2"})
    browser.post(f"/j/{live['code']}/boards/vote", data={"activity": wall, "item": item.id, "cid": "f2"})
    with store.read() as db:
        assert db.query(BoardVote).count() == 1


def test_console_adds_a_wall_and_a_q_and_a(app, live, store):
    browser = app.test_client()
    response = browser.post(f"/f/{live['facilitator']}/boards", data={
        "kind": "ideas", "prompt": "Comment imaginer un numérique plus sobre ?",
        "columns": "Constats\r\nIdées\r\nActions\r\n", "budget": "3", "premoderation": "on",
        "wall_visible": "on"})
    assert response.status_code == 302
    browser.post(f"/f/{live['facilitator']}/boards", data={"kind": "questions",
                                                           "prompt": "Vos questions", "signed": "on"})
    from live.sessions.model import Activity
    with store.read() as db:
        wall, qa = db.query(Activity).order_by(Activity.id).all()
    assert wall.settings["columns"] == ["Constats", "Idées", "Actions"] and wall.settings["premoderation"]
    assert not wall.settings["signed"] and qa.kind == "questions" and qa.settings["signed"]


def test_the_author_alone_is_told_live_that_their_pending_item_was_approved_or_rejected(
        app, phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Idées"])
    author, neighbour, moderator = phone(), phone(), staff("moderator")
    kept = _post(author, wall, "Réparer plutôt que remplacer")
    refused = _post(author, wall, "Une idée hors sujet")
    assert kept["status"] == refused["status"] == "pending"
    neighbour.get_received()
    assert _moderate(moderator, wall, "approve", [{"id": kept["item"], "version": 1}])["ok"]
    told = wait_for_event(author, "board_mine", lambda p: any(
        i["id"] == kept["item"] and i["status"] == "approved" for i in p["mine"]["items"]))
    assert told and told["activity"] == wall
    assert _moderate(moderator, wall, "reject", [{"id": refused["item"], "version": 1}])["ok"]
    told = wait_for_event(author, "board_mine", lambda p: any(
        i["id"] == refused["item"] and i["status"] == "rejected" for i in p["mine"]["items"]))
    assert told
    assert pushes_settled(app)
    received = neighbour.get_received()
    assert [e for e in received if e["name"] == "board_mine"] == []  # nobody else is told
    assert "Une idée hors sujet" not in json.dumps([e["args"] for e in received], ensure_ascii=False)


def test_a_refunded_voter_gets_their_dot_back_live(phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False, budget=2)
    author, voter, moderator = phone(), phone(), staff("moderator")
    posted = _post(author, wall, "Mutualiser les serveurs")
    ack = voter.emit("board_vote", {"cid": cid(), "activity": wall, "item": posted["item"]},
                     callback=True)
    assert ack["ok"] and ack["mine"]["left"] == 1
    assert _moderate(moderator, wall, "hide", [{"id": posted["item"], "version": 1}])["ok"]
    told = wait_for_event(voter, "board_mine", lambda p: p["mine"]["left"] == 2)
    assert told and told["mine"]["votes"] == {}


def test_with_the_wall_hidden_from_phones_the_screen_still_shows_it(phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False,
                     wall_visible=False)
    author = phone()
    assert _post(author, wall, "Éteindre les écrans la nuit")["ok"]
    screen, other = staff("screen"), phone()
    shown = events_named(screen, "snapshot")[-1]["current"]
    assert [i["text"] for i in shown["items"]] == ["Éteindre les écrans la nuit"]
    assert "votes" not in shown["items"][0]  # counts only once revealed
    assert events_named(other, "snapshot")[-1]["current"]["items"] is None
    assert "Éteindre les écrans" not in _everything_received(other)


def test_the_console_agenda_counts_what_moderation_did_and_phones_never_get_it(phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Idées"])
    author, moderator = phone(), staff("moderator")
    posted = [_post(author, wall, text)["item"] for text in ("Une", "Deux", "Trois")]
    assert _moderate(moderator, wall, "approve", [{"id": posted[0], "version": 1}])["ok"]
    assert _moderate(moderator, wall, "reject", [{"id": posted[1], "version": 1}])["ok"]
    facilitator, other = staff("facilitator"), phone()
    agenda = events_named(facilitator, "snapshot")[-1]["agenda"]
    assert [a["moderation"] for a in agenda if a["id"] == wall] == [
        {"queue": 1, "published": 1, "rejected": 1, "hidden": 0}]
    assert "moderation" not in events_named(other, "snapshot")[-1]["current"]
