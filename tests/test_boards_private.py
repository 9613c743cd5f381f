"""Private first, then reveal: an idea wall set `private` shows phones and the screen no one
else's items (only their count) until the facilitator reveals; word clouds already keep their
words until the reveal. Settings through the console form and the socket command, and the
archive round trip (an absent key means "not private")."""

from __future__ import annotations

import json

import pytest
from archive_helpers import validate
from conftest import choose_language, cid, command, events_named
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
    assert ('<span class="badge badge-private">Privé</span> Vos idées ne sont visibles que par vous'
            in html)  # the page without JavaScript says whose ideas it shows
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


def _votes(store, wall):
    from live.boards.model import BoardVote
    with store.read() as db:
        return db.query(BoardVote).filter_by(activity_id=wall).count()


def _item_ids(store, wall):
    from live.boards.model import Item
    with store.read() as db:
        return {i.text: i.id for i in db.query(Item).filter_by(activity_id=wall)}


def test_a_forged_vote_on_a_private_wall_is_refused_over_the_socket(phone, staff, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False, private=True)
    me, other = phone(), phone()
    assert _post(me, wall, MINE)["ok"] and _post(other, wall, THEIRS)["ok"]
    ids = _item_ids(store, wall)  # ids a phone cannot see: forged, as a hostile client would
    for item in (ids[THEIRS], ids[MINE], ids[THEIRS] + 1000):
        ack = me.emit("board_vote", {"cid": cid(), "activity": wall, "item": item}, callback=True)
        assert not ack["ok"] and ack["error"]["code"] == "votes_after_reveal", ack
        assert "reveal" in ack["error"]["message"]  # a clear reason, the same whoever wrote the item
        assert THEIRS not in json.dumps(ack, ensure_ascii=False)
    take = me.emit("board_vote", {"cid": cid(), "activity": wall, "item": ids[THEIRS], "take": True},
                   callback=True)
    assert not take["ok"] and take["error"]["code"] == "votes_after_reveal"
    assert _votes(store, wall) == 0  # nothing stored
    assert [i["text"] for i in _sync(me)["current"]["mine"]["items"]] == [MINE]  # data intact
    ack = staff("facilitator").emit("command", {"cid": cid(), "action": "reveal", "activity": wall},
                                    callback=True)
    assert ack["ok"]
    assert me.emit("board_vote", {"cid": cid(), "activity": wall, "item": ids[THEIRS]}, callback=True)["ok"]
    assert _votes(store, wall) == 1


def test_a_forged_vote_form_on_a_private_wall_is_refused_in_the_phones_language(app, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=False, private=True)
    author = app.test_client()
    author.get(f"/j/{live['code']}")
    author.post(f"/j/{live['code']}/boards/post", data={"activity": wall, "text": THEIRS, "cid": "a1"})
    theirs = _item_ids(store, wall)[THEIRS]
    for lang, words in (("fr", "Les votes s’ouvrent"), ("en", "Votes open once")):
        voter = choose_language(app.test_client(), lang)  # (the session speaks French)
        voter.get(f"/j/{live['code']}")
        page = voter.post(f"/j/{live['code']}/boards/vote", follow_redirects=True,
                          data={"activity": wall, "item": theirs, "cid": f"v-{lang}"}).get_data(as_text=True)
        assert words in page and THEIRS not in page
    assert _votes(store, wall) == 0
    assert _item_ids(store, wall) == {THEIRS: theirs}


def test_no_read_path_of_a_phone_shows_someone_elses_private_item(app, phone, staff, store, live):
    """The snapshot on connect, `sync`, the `state` and `results` pushes, the acks, the page
    without JavaScript and its forms: nothing a phone can ask gives another's private item."""
    wall = add_board(store, live["id"], columns=["Idées"], premoderation=True, private=True)
    author, me, moderator = phone(), phone(), staff("moderator")
    posted = _post(author, wall, THEIRS)
    assert posted["ok"] and posted["status"] == "pending"
    ack = moderator.emit("board_moderate", {"cid": cid(), "activity": wall, "action": "approve",
                                            "items": [{"id": posted["item"], "version": 1}]}, callback=True)
    assert ack["ok"], ack
    ack = staff("facilitator").emit("board_display", {"cid": cid(), "activity": wall,  # spotlighted
                                                      "spotlight": posted["item"]}, callback=True)
    assert ack["ok"], ack
    assert _post(me, wall, MINE)["ok"]
    assert pushes_settled(app)
    late = phone()  # a phone joining now: its snapshot on connect
    assert pushes_settled(app)
    for sock in (me, late):
        seen = json.dumps([e["args"] for e in sock.get_received()], ensure_ascii=False)
        assert THEIRS not in seen and str(posted["item"]) not in json.dumps(
            _sync(sock)["current"].get("items"))
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    assert THEIRS not in browser.get(f"/j/{live['code']}").get_data(as_text=True)
    screen_html = app.test_client().get(f"/screen/{live['screen']}").get_data(as_text=True)
    assert THEIRS not in screen_html


def test_the_console_agenda_marks_a_private_wall_until_it_is_revealed(app, store, live):
    wall = add_board(store, live["id"], columns=["Idées"], private=True)
    other = add_board(store, live["id"], columns=["Idées"], open_it=False)
    console = app.test_client()
    url = f"/f/{live['facilitator']}"
    for lang, badge in (("fr", "Privé jusqu’à la révélation"), ("en", "Private until revealed")):
        page = console.get(url, headers={"Accept-Language": lang}).get_data(as_text=True)
        marked = page.split(f'id="a{wall}"')[1].split("</li>")[0]
        assert f'<span class="badge badge-private">{badge}</span>' in marked
        assert "badge-private" not in page.split(f'id="a{other}"')[1].split("</li>")[0]
    command(store, live["id"], "reveal", wall)
    assert "badge-private" not in console.get(url).get_data(as_text=True)
