"""Rules that must hold at every door (issue 11, item 9): a moderator's edit is not undone by
its author, hidden targets give merged dots back, withdrawn dots are announced, refused
moderation is logged, and a merged word-cloud spelling is not silently "hidden"."""

from __future__ import annotations

from conftest import cid, command, events_named
from support import wait_for_event
from test_boards_service import add_board

from live.boards.model import BoardVote, Item, ModerationEntry
from live.sessions import service as sessions
from live.wordclouds import service as clouds


def _post(sock, board, text, **extra):
    ack = sock.emit("board_post", {"cid": cid(), "activity": board, "text": text, **extra},
                    callback=True)
    assert ack["ok"], ack
    return ack["item"]


def _moderate(sock, board, action, items, **extra):
    return sock.emit("board_moderate", {"cid": cid(), "activity": board, "action": action,
                                        "items": items, **extra}, callback=True)


def _version(store, item_id):
    with store.read() as db:
        return db.get(Item, item_id).version


def _ref(store, item_id):
    return {"id": item_id, "version": _version(store, item_id)}


def _vote(sock, board, item):
    ack = sock.emit("board_vote", {"cid": cid(), "activity": board, "item": item}, callback=True)
    assert ack["ok"], ack
    return ack


def _browser(app, live):
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    return browser


# --- an author cannot undo a moderator's edit --------------------------------------------

def test_the_author_cannot_rewrite_an_item_a_moderator_edited(phone, staff, store, live):
    wall = add_board(store, live["id"], premoderation=False)
    author, moderator = phone(), staff("moderator")
    item = _post(author, wall, "Des serveurs moins énergivores, bande de nuls")
    ack = _moderate(moderator, wall, "edit", [_ref(store, item)], text="Des serveurs moins énergivores")
    assert ack["ok"], ack
    mine = author.emit("sync", {"cid": cid()}, callback=True)["snapshot"]["current"]["mine"]
    assert [i["editable"] for i in mine["items"]] == [False]  # the phone hides its edit button
    late = author.emit("board_edit", {"cid": cid(), "activity": wall, "item": item,
                                      "text": "Mon texte à moi"}, callback=True)
    assert late["ok"] is False and late["error"]["code"] == "already_moderated"
    withdraw = author.emit("board_withdraw", {"cid": cid(), "activity": wall, "item": item},
                           callback=True)
    assert withdraw["ok"] is False and withdraw["error"]["code"] == "already_moderated"
    with store.read() as db:
        stored = db.get(Item, item)
        assert (stored.text, stored.original_text, stored.status) == (
            "Des serveurs moins énergivores", "Des serveurs moins énergivores, bande de nuls", "visible")


def test_the_author_may_still_rewrite_an_item_no_moderator_touched(phone, store, live):
    wall = add_board(store, live["id"])
    author = phone()
    item = _post(author, wall, "Premier jet")
    ack = author.emit("board_edit", {"cid": cid(), "activity": wall, "item": item,
                                     "text": "Version relue"}, callback=True)
    assert ack["ok"] and [i["text"] for i in ack["mine"]["items"]] == ["Version relue"]
    assert ack["mine"]["items"][0]["editable"] is True


# --- merging into a target nobody sees gives the dots back ---------------------------------

def test_merging_into_a_hidden_idea_gives_the_dots_back_and_tells_the_voters(phone, staff, store, live):
    wall = add_board(store, live["id"], premoderation=False, budget=2)
    author, voter, moderator = phone(), phone(), staff("moderator")
    source = _post(author, wall, "Allonger la durée de vie des téléphones")
    target = _post(author, wall, "Garder ses téléphones plus longtemps")
    assert _vote(voter, wall, source)["mine"]["left"] == 1
    assert _moderate(moderator, wall, "hide", [_ref(store, target)])["ok"]
    voter.get_received()
    ack = _moderate(moderator, wall, "merge", [_ref(store, source)], into=_ref(store, target))
    assert ack["ok"], ack
    with store.read() as db:
        assert db.query(BoardVote).count() == 0
    told = wait_for_event(voter, "board_mine", lambda p: p["mine"]["left"] == 2)
    assert told and told["mine"]["votes"] == {}


def test_merging_into_a_published_idea_still_moves_the_dots(phone, staff, store, live):
    wall = add_board(store, live["id"], premoderation=False, budget=2)
    author, voter, moderator = phone(), phone(), staff("moderator")
    source = _post(author, wall, "Réparer")
    target = _post(author, wall, "Réparer plutôt que jeter")
    _vote(voter, wall, source)
    assert _moderate(moderator, wall, "merge", [_ref(store, source)], into=_ref(store, target))["ok"]
    with store.read() as db:
        assert [(v.item_id, v.participant_id is not None) for v in db.query(BoardVote)] == [(target, True)]


# --- a withdrawn idea's voters are told their dots came back -------------------------------

def test_withdrawing_a_dotted_idea_tells_its_voters_live(phone, store, live):
    wall = add_board(store, live["id"], premoderation=False, budget=3)
    author, voter, bystander = phone(), phone(), phone()
    item = _post(author, wall, "Une idée que je retire")
    assert _vote(voter, wall, item)["mine"]["left"] == 2
    voter.get_received()
    bystander.get_received()
    ack = author.emit("board_withdraw", {"cid": cid(), "activity": wall, "item": item}, callback=True)
    assert ack["ok"], ack
    told = wait_for_event(voter, "board_mine", lambda p: p["mine"]["left"] == 3)
    assert told and told["activity"] == wall and told["mine"]["votes"] == {}
    assert events_named(bystander, "board_mine") == []


def test_withdrawing_from_the_plain_form_tells_the_voters_too(app, phone, store, live):
    wall = add_board(store, live["id"], premoderation=False, budget=3)
    browser = _browser(app, live)
    browser.post(f"/j/{live['code']}/boards/post", data={"activity": wall, "text": "Sans JS", "cid": "p1"})
    with store.read() as db:
        item = db.query(Item).one().id
    voter = phone()
    _vote(voter, wall, item)
    voter.get_received()
    response = browser.post(f"/j/{live['code']}/boards/withdraw",
                            data={"activity": wall, "item": item, "cid": "w1"})
    assert response.status_code == 302
    told = wait_for_event(voter, "board_mine", lambda p: p["mine"]["left"] == 3)
    assert told and told["mine"]["votes"] == {}


# --- a refused moderation leaves a trace ---------------------------------------------------

def test_a_moderation_refused_as_changed_meanwhile_is_logged(phone, staff, store, live):
    wall = add_board(store, live["id"])
    item = _post(phone(), wall, "Doublon potentiel")
    first, second = staff("moderator"), staff("facilitator")
    seen = _ref(store, item)
    assert _moderate(first, wall, "approve", [seen], by="Léa")["ok"]
    late = _moderate(second, wall, "reject", [seen], by="Karim")
    assert late["ok"] is False and late["error"]["code"] == "changed_meanwhile"
    assert late["state"]["items"][0]["status"] == "approved"
    with store.read() as db:
        assert db.get(Item, item).status == "approved"  # nothing else was done
        entries = db.query(ModerationEntry).order_by(ModerationEntry.id).all()
        assert [(e.action, e.moderator, e.link) for e in entries] == [
            ("approve", "Léa", "moderator"), ("refused", "Karim", "facilitator")]
        assert entries[1].before == {"version": seen["version"]}
        assert entries[1].after["refused"] == "reject" and entries[1].after["reason"] == "changed_meanwhile"
    log = first.emit("board_moderation", {"cid": cid(), "activity": wall}, callback=True)["board"]["log"]
    assert [e["action"] for e in log] == ["refused", "approve"]


def test_a_form_moderation_refused_as_changed_meanwhile_is_logged(app, phone, staff, store, live):
    wall = add_board(store, live["id"])
    item = _post(phone(), wall, "Une idée")
    seen = _ref(store, item)
    assert _moderate(staff("moderator"), wall, "pin", [seen])["ok"]
    browser = app.test_client()
    response = browser.post(f"/m/{live['moderator']}/boards/{wall}/moderate",
                            data={"act": f"reject:{item}:{seen['version']}", "by": "Zoé"},
                            headers={"Accept-Language": "en"}, follow_redirects=True)
    assert response.status_code == 200 and "meanwhile" in response.get_data(as_text=True)
    with store.read() as db:
        assert db.get(Item, item).status == "pending"  # not rejected
        entries = db.query(ModerationEntry).order_by(ModerationEntry.id).all()
        assert [(e.action, e.moderator) for e in entries] == [("pin", None), ("refused", "Zoé")]


# --- word clouds: a merged spelling cannot be hidden on its own ----------------------------

def _cloud(store, live):
    with store.write() as db:
        activity = clouds.add_wordcloud(db, sessions.get_session(db, live["id"]), "En un mot ?").id
    for action in ("show", "open", "reveal"):
        command(store, live["id"], action, activity)
    return activity


def _key(store, activity, text):
    with store.read() as db:
        for group in clouds.groups(db, db.get(clouds.Activity, activity)):
            if text in group.spellings or group.text == text:
                return group.key
    raise AssertionError(text)


def test_hiding_a_spelling_merged_into_another_group_is_refused_clearly(phone, staff, store, live, app):
    cloud = _cloud(store, live)
    for text in ("IA", "intelligence artificielle"):
        assert phone().emit("word:add", {"cid": cid(), "activity": cloud, "text": text},
                            callback=True)["ok"]
    ia, full = _key(store, cloud, "IA"), _key(store, cloud, "intelligence artificielle")
    moderator = staff("moderator")
    merged = moderator.emit("word:moderate", {"cid": cid(), "activity": cloud, "action": "merge",
                                              "key": ia, "into": full}, callback=True)
    assert merged["ok"], merged
    ack = moderator.emit("word:moderate", {"cid": cid(), "activity": cloud, "action": "hide", "key": ia},
                         callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "word_merged"
    assert "intelligence artificielle" in ack["error"]["message"]  # its label, not its stem
    response = app.test_client().post(f"/m/{live['moderator']}/words/{cloud}",
                                      data={"action": "hide", "key": ia},
                                      headers={"Accept-Language": "fr"}, follow_redirects=True)
    assert "regroupé" in response.get_data(as_text=True)
    with store.read() as db:
        shown = clouds.cloud(db, db.get(clouds.Activity, cloud))
    assert shown == {"intelligence artificielle": 2} or sum(shown.values()) == 2  # still shown, whole
    ack = moderator.emit("word:moderate", {"cid": cid(), "activity": cloud, "action": "hide", "key": full},
                         callback=True)
    assert ack["ok"]
    with store.read() as db:
        assert clouds.cloud(db, db.get(clouds.Activity, cloud)) == {}
