"""What the fuzzer (tests/test_fuzz.py) found, each pinned by a test through the real door:
a socket event over the test client or a form post with its CSRF token."""

from __future__ import annotations

import logging

import pytest
from conftest import choose_language, cid, command
from test_boards_service import add_board

from live.boards.model import Item
from live.sessions import service as sessions
from live.wordclouds import service as clouds

EN = {"Accept-Language": "en"}
HUGE = 10**20


def _no_traceback(caplog) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], \
        [r.getMessage() for r in caplog.records]


def _cloud(store, live):
    with store.write() as db:
        activity = clouds.add_wordcloud(db, sessions.get_session(db, live["id"]), "En un mot ?").id
    for action in ("show", "open"):
        command(store, live["id"], action, activity)
    return activity


@pytest.mark.parametrize("action", [["open"], {"x": 1}, 3, None])
def test_a_command_that_is_not_text_is_refused_not_crashed(staff, store, live, caplog, action):
    wall = add_board(store, live["id"], open_it=False)
    ack = staff("facilitator").emit("command", {"cid": cid(), "action": action, "activity": wall},
                                    callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_command"
    _no_traceback(caplog)


@pytest.mark.parametrize("event, extra", [
    ("board_withdraw", {"item": HUGE}), ("board_edit", {"item": HUGE, "text": "x"}),
    ("board_vote", {"item": HUGE}), ("board_vote", {"item": HUGE, "take": True}),
])
def test_item_ids_beyond_the_database_range_are_refused_cleanly(phone, store, live, caplog, event, extra):
    """The withdraw path looked the voters up before the item: a traceback and server_error."""
    wall = add_board(store, live["id"], premoderation=False)
    ack = phone().emit(event, {"cid": cid(), "activity": wall, **extra}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] in ("item_not_found", "bad_payload")
    _no_traceback(caplog)


def test_moderating_or_showing_an_item_id_beyond_range_is_refused_cleanly(staff, store, live, caplog):
    qa = add_board(store, live["id"], "questions")
    moderator = staff("moderator")
    ack = moderator.emit("board_moderate", {"cid": cid(), "activity": qa, "action": "approve",
                                            "items": [{"id": HUGE, "version": 1}]}, callback=True)
    assert ack["error"]["code"] in ("item_not_found", "bad_payload")
    ack = moderator.emit("board_display", {"cid": cid(), "activity": qa, "current": HUGE}, callback=True)
    assert ack["error"]["code"] in ("item_not_found", "bad_payload")
    _no_traceback(caplog)


def test_an_entry_id_beyond_range_is_refused_cleanly_at_both_doors(app, phone, store, live, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # what a browser gets
    cloud = _cloud(store, live)
    ack = phone().emit("word:withdraw", {"cid": cid(), "activity": cloud, "entry": HUGE}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] in ("entry_not_found", "bad_payload")
    browser = choose_language(app.test_client())
    browser.get(f"/j/{live['code']}")
    response = browser.post(f"/j/{live['code']}/words/{HUGE}/withdraw",
                            data={"activity": cloud, "cid": "w1"}, headers=EN)
    assert response.status_code == 400 and "malformed" in response.get_data(as_text=True)
    assert app.test_client().get(f"/cloud/{HUGE}.svg").status_code == 404
    _no_traceback(caplog)


def test_moderation_forms_with_odd_numbers_answer_without_a_crash(app, phone, store, live, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # what a browser gets
    wall = add_board(store, live["id"], premoderation=False)
    phone().emit("board_post", {"cid": cid(), "activity": wall, "text": "une idée"}, callback=True)
    with store.read() as db:
        item = db.query(Item).one()
    for number in ("²", "١٢", str(HUGE)):
        for field, value in (("act", f"approve:{number}:1"), ("edit", f"{number}:1"),
                             ("merge_pair", f"{item.id}:{item.version}|{number}:1")):
            response = app.test_client().post(f"/m/{live['moderator']}/boards/{wall}/moderate",
                                              data={field: value, f"text_{number}": "x"}, headers=EN)
            assert response.status_code == 302, (field, value)
    with store.read() as db:
        assert db.get(Item, item.id).status == "visible"  # nothing was done
    _no_traceback(caplog)


@pytest.mark.parametrize("number", ["²", str(HUGE)])
def test_display_forms_with_odd_numbers_answer_without_a_crash(app, store, live, caplog, number):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    qa = add_board(store, live["id"], "questions")
    for path, field in ((f"/f/{live['facilitator']}/boards/{qa}/display", "spotlight"),
                        (f"/m/{live['moderator']}/boards/{qa}/display", "current")):
        response = app.test_client().post(path, data={field: number}, headers=EN)
        assert response.status_code == 302, path
    _no_traceback(caplog)


def test_superscript_digits_in_numbers_are_refused_clearly(app, phone, store, live, caplog, number="²"):
    """"²".isdigit() is true but int("²") fails: the column, budget and poll settings refused it
    with a server error (socket) or a 500 (form)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    wall = add_board(store, live["id"], premoderation=False, columns=["A", "B"])
    ack = phone().emit("board_post", {"cid": cid(), "activity": wall, "text": "idée", "column": number},
                       callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_column"
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    response = browser.post(f"/j/{live['code']}/boards/post", data={"activity": wall, "text": "idée",
                                                                   "column": number, "cid": "c1"})
    assert response.status_code == 302
    forms = [(f"/f/{live['facilitator']}/boards", {"kind": "ideas", "prompt": "Idées ?", "budget": number,
                                                   "columns": "A"}),
             (f"/f/{live['facilitator']}/polls", {"type": "scale", "prompt": "Note ?", "scale_max": number}),
             (f"/f/{live['facilitator']}/polls", {"type": "multiple", "prompt": "Choix ?",
                                                  "options": "a\nb\nc", "max_choices": number}),
             (f"/f/{live['facilitator']}/wordclouds", {"prompt": "Un mot ?",
                                                       "entries_per_participant": number})]
    for path, data in forms:
        response = app.test_client().post(path, data=data, headers=EN, follow_redirects=True)
        assert response.status_code == 200, (path, data)
    with store.read() as db:
        assert db.query(Item).count() == 0
        assert len(sessions.get_session(db, live["id"]).activities) == 1  # only the wall
    _no_traceback(caplog)


def _settings(facilitator, board, **settings):
    return facilitator.emit("board_settings", {"cid": cid(), "activity": board, "settings": settings},
                            callback=True)


def test_a_q_and_a_given_a_budget_counts_the_upvotes_already_cast(phone, staff, store, live, caplog):
    """Unlimited upvotes (budget 0) then a budget: the upvotes already cast used to stay
    uncounted, so each participant could add a whole budget on top of them."""
    from live.boards.model import BoardVote

    qa = add_board(store, live["id"], "questions")
    author, voter, facilitator = phone(), phone(), staff("facilitator")
    questions = [author.emit("board_post", {"cid": cid(), "activity": qa, "text": f"Question {n} ?"},
                             callback=True)["item"] for n in range(4)]
    for item in questions[:2]:
        assert voter.emit("board_vote", {"cid": cid(), "activity": qa, "item": item}, callback=True)["ok"]
    refused = _settings(facilitator, qa, budget=1)
    assert refused["ok"] is False and refused["error"]["code"] == "budget_in_use"
    assert _settings(facilitator, qa, budget=3)["ok"]
    ack = voter.emit("board_vote", {"cid": cid(), "activity": qa, "item": questions[2]}, callback=True)
    assert ack["ok"] and ack["mine"]["left"] == 0
    late = voter.emit("board_vote", {"cid": cid(), "activity": qa, "item": questions[3]}, callback=True)
    assert late["ok"] is False and late["error"]["code"] == "no_votes_left"
    with store.read() as db:
        assert sorted(v.slot for v in db.query(BoardVote)) == [1, 2, 3]
    assert _settings(facilitator, qa, budget=0)["ok"]  # unlimited again: one upvote per question
    assert voter.emit("board_vote", {"cid": cid(), "activity": qa, "item": questions[3]}, callback=True)["ok"]
    with store.read() as db:
        assert [v.slot for v in db.query(BoardVote)] == [None] * 4
    _no_traceback(caplog)


def _import_changed(app, live, change) -> tuple[int, str]:
    """Export the session, change its session.json with `change(doc)`, import it again."""
    import io
    import json
    import zipfile

    app.config["PROPAGATE_EXCEPTIONS"] = False
    organiser = app.test_client()
    archive = organiser.get(f"/f/{live['facilitator']}/archive.zip").data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("session.json"):
                doc = json.loads(data)
                change(doc)
                data = json.dumps(doc).encode()  # ensure_ascii: a lone surrogate as \ud800
            target.writestr(info.filename, data)
    response = organiser.post("/admin/archive/import", content_type="multipart/form-data",
                              data={"archive": (io.BytesIO(out.getvalue()), "session.zip")},
                              headers=EN, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("export", [10**20, "palabre-archive", [1], True])
def test_an_archive_whose_export_block_is_not_an_object_is_refused(app, live, store, caplog, export):
    """`"export": 1e20` in session.json crashed the import with a 500 (found by the fuzzer)."""
    status, page = _import_changed(app, live, lambda doc: doc.update(export=export))
    assert status == 200 and "Refused" in page
    with store.read() as db:
        assert db.query(sessions.LiveSession).count() == 1  # nothing imported
    _no_traceback(caplog)


@pytest.mark.parametrize("where", ["export", "session"])
def test_an_archive_with_half_a_surrogate_pair_is_refused(app, live, store, caplog, where):
    """A date of "\\ud800" crashed the schema's date check with a 500 (found by the fuzzer)."""
    key = "exported_at" if where == "export" else "title"
    status, page = _import_changed(app, live, lambda doc: doc[where].update({key: "\ud800"}))
    assert status == 200 and "Refused" in page
    with store.read() as db:
        assert db.query(sessions.LiveSession).count() == 1
    _no_traceback(caplog)
