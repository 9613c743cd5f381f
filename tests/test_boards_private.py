"""Private first, then reveal: an idea wall set `private` shows phones and the screen no one
else's items (only their count) until the facilitator reveals; word clouds already keep their
words until the reveal. Settings through the console form and the socket command, and the
archive round trip (an absent key means "not private")."""

from __future__ import annotations

import json

import pytest
from archive_helpers import validate
from conftest import cid, command, events_named
from support import pushes_settled
from test_boards_service import add_board

from live.archive import export, importer
from live.errors import DomainError
from live.sessions.model import Activity
from live.validation import stored_settings

MINE, THEIRS = "Éteindre les écrans la nuit", "Mutualiser les serveurs"


def _post(sock, board, text):
    return sock.emit("board_post", {"cid": cid(), "activity": board, "text": text, "column": 0},
                     callback=True)


def _sync(sock):
    ack = sock.emit("sync", {"cid": cid()}, callback=True)
    assert ack["ok"], ack
    return ack["snapshot"]


def test_a_private_wall_sends_no_one_elses_items_until_revealed(app, phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False, private=True)
    me, other, screen, facilitator = phone(), phone(), staff("screen"), staff("facilitator")
    ack = _post(me, wall, MINE)
    assert ack["ok"] and [i["text"] for i in ack["mine"]["items"]] == [MINE]  # I see mine
    assert _post(other, wall, THEIRS)["ok"]
    assert pushes_settled(app)
    received = {name: json.dumps([e["args"] for e in s.get_received()], ensure_ascii=False)
                for name, s in (("me", me), ("screen", screen))}
    assert THEIRS not in received["me"]
    assert MINE not in received["screen"] and THEIRS not in received["screen"]
    mine_now = _sync(me)["current"]
    assert mine_now["items"] is None and [i["text"] for i in mine_now["mine"]["items"]] == [MINE]
    on_screen = _sync(screen)["current"]
    assert on_screen["items"] is None and on_screen["published"] == 2  # the count only
    assert THEIRS not in json.dumps(on_screen, ensure_ascii=False)
    page = app.test_client()
    page.get(f"/j/{live['code']}", headers={"Accept-Language": "fr"})
    html = page.get(f"/j/{live['code']}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "class=\"hint\">Privé jusqu’à la révélation" in html  # the page without JavaScript
    assert THEIRS not in html
    staff_view = _sync(facilitator)["current"]  # the facilitator sees everything
    assert sorted(i["text"] for i in staff_view["items"]) == sorted([MINE, THEIRS])

    ack = facilitator.emit("command", {"cid": cid(), "action": "reveal", "activity": wall}, callback=True)
    assert ack["ok"], ack
    for sock in (me, screen):
        state = events_named(sock, "state")[-1]["current"]
        assert sorted(i["text"] for i in state["items"]) == sorted([MINE, THEIRS])
    # then dot voting proceeds as usual
    theirs_id = next(i["id"] for i in _sync(me)["current"]["items"] if i["text"] == THEIRS)
    assert me.emit("board_vote", {"cid": cid(), "activity": wall, "item": theirs_id}, callback=True)["ok"]


def test_a_wall_not_private_is_seen_as_before(phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False)
    author, other = phone(), phone()
    assert _post(author, wall, THEIRS)["ok"]
    assert [i["text"] for i in _sync(other)["current"]["items"]] == [THEIRS]
    assert [i["text"] for i in _sync(staff("screen"))["current"]["items"]] == [THEIRS]


def test_the_socket_command_turns_private_on_and_off_and_refuses_nonsense(phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False)
    facilitator, author, other = staff("facilitator"), phone(), phone()
    assert _post(author, wall, THEIRS)["ok"]

    def settings(value):
        return facilitator.emit("board_settings", {"cid": cid(), "activity": wall,
                                                   "settings": {"private": value}}, callback=True)

    ack = settings(True)
    assert ack["ok"] and ack["settings"]["private"] is True
    assert _sync(other)["current"]["items"] is None
    assert not settings("maybe")["ok"]
    assert settings(False)["ok"]
    assert [i["text"] for i in _sync(other)["current"]["items"]] == [THEIRS]
    qa = add_board(store, live["id"], "questions", open_it=False)
    ack = facilitator.emit("board_settings", {"cid": cid(), "activity": qa,
                                              "settings": {"private": True}}, callback=True)
    assert ack["ok"] and "private" not in ack["settings"]  # idea walls only


def test_the_console_forms_set_private(app, live, store):
    browser = app.test_client()
    base = f"/f/{live['facilitator']}/boards"
    response = browser.post(base, data={"kind": "ideas", "prompt": "Vos idées ?", "columns": "Idées",
                                        "budget": "3", "wall_visible": "on", "private": "on"})
    assert response.status_code == 302
    with store.read() as db:
        wall = db.query(Activity).order_by(Activity.id.desc()).first()
    assert wall.settings["private"] is True
    page = browser.get(f"{base}/{wall.id}/settings", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'name="private" checked' in page and "Privé jusqu’à la révélation" in page
    response = browser.post(f"{base}/{wall.id}/settings", data={
        "prompt": "Vos idées ?", "column_0": "Idées", "budget": "3", "wall_visible": "on", "sort": "votes"})
    assert response.status_code == 302
    with store.read() as db:
        assert db.get(Activity, wall.id).settings["private"] is False  # unchecked: off


def test_a_private_wall_survives_the_archive_round_trip(store, live):
    wall = add_board(store, live["id"], columns=["Idées"], private=True)
    command(store, live["id"], "close", wall)
    with store.read() as db:
        data, _, doc = export.session_zip(db, live["id"])
    validate(doc)
    with store.write() as db:
        (new_id,) = importer.create_sessions(db, importer.read_archive(data))
    with store.read() as db:
        imported = [a for a in db.query(Activity).filter_by(session_id=new_id) if a.kind == "ideas"]
    assert [a.settings["private"] for a in imported] == [True]


def test_archived_settings_without_the_key_are_not_private_and_a_q_and_a_may_not_claim_it():
    from live.validation import board_defaults
    old = board_defaults("ideas")  # as archives made before the setting hold them
    assert "private" not in stored_settings("ideas", None, old)
    assert stored_settings("ideas", None, {**old, "private": True})["private"] is True
    with pytest.raises(DomainError):
        stored_settings("ideas", None, {**old, "private": "yes"})
    with pytest.raises(DomainError):
        stored_settings("questions", None, {**board_defaults("questions"), "private": True})


def test_a_word_cloud_keeps_its_words_from_the_screen_until_revealed(app, phone, staff, store, live):
    from test_socket_wordclouds import add_cloud, word
    cloud = add_cloud(store, live["id"])
    for action in ("show", "open"):
        command(store, live["id"], action, cloud)
    screen, writer, other = staff("screen"), phone(), phone()
    assert word(writer, cloud, "sobriété")["ok"]
    assert [e["text"] for e in _sync(writer)["current"]["mine"]] == ["sobriété"]
    assert pushes_settled(app)
    for sock in (screen, other):
        assert "sobriété" not in json.dumps([e["args"] for e in sock.get_received()], ensure_ascii=False)
        assert "results" not in _sync(sock)["current"]
    command(store, live["id"], "reveal", cloud)
    for sock in (screen, other):
        assert "sobriété" in json.dumps(_sync(sock)["current"]["results"], ensure_ascii=False)
