"""The settings page of idea walls and Q&A, and the board counts of the console without JavaScript."""

from __future__ import annotations

from test_boards_service import act, add_board

from live.boards import service
from live.boards.model import Item
from live.sessions import service as sessions
from live.sessions.model import Activity


def _settings(store, activity_id):
    with store.read() as db:
        activity = db.get(Activity, activity_id)
        return activity.prompt, dict(activity.settings)


def test_the_console_links_to_the_settings_page_and_shows_the_counts_without_javascript(app, live, store):
    wall = add_board(store, live["id"], columns=["Constats", "Idées"])
    posted = [act(store, live["id"], wall, service.post, text, device=f"d{n}")
              for n, text in enumerate(("Une", "Deux", "Trois"))]
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        activity = sessions.get_activity(db, s, wall)
        service.moderate(db, s, activity, "approve", [{"id": posted[0], "version": 1}], "moderator")
        service.moderate(db, s, activity, "reject", [{"id": posted[1], "version": 1}], "moderator")
    console = app.test_client().get(f"/f/{live['facilitator']}", headers={"Accept-Language": "en"})
    html = console.get_data(as_text=True)
    assert "To review: 1 · published: 1 · rejected: 1 · hidden: 0" in html
    assert f"/f/{live['facilitator']}/boards/{wall}/settings" in html
    page = app.test_client().get(f"/f/{live['facilitator']}/boards/{wall}/settings",
                                 headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="column_0" maxlength="40" value="Constats"' in text
    assert 'name="remove_0"' not in text and 'name="remove_1"' in text  # only an empty column
    assert app.test_client().get(f"/f/{live['moderator']}/boards/{wall}/settings").status_code == 404


def test_settings_page_renames_adds_and_removes_empty_columns_items_follow(app, live, store):
    wall = add_board(store, live["id"], columns=["A", "B", "C"], premoderation=False)
    in_c = act(store, live["id"], wall, service.post, "Dans C", 2)
    browser = app.test_client()
    response = browser.post(f"/f/{live['facilitator']}/boards/{wall}/settings", data={
        "prompt": "Nouvelle consigne", "column_0": "Constats", "column_1": "B", "remove_1": "on",
        "column_2": "Actions", "column_new": "Idées\r\n", "budget": "5", "premoderation": "on",
        "signed": "on", "sort": "time"})
    assert response.status_code == 302
    prompt, settings = _settings(store, wall)
    assert prompt == "Nouvelle consigne"
    assert settings["columns"] == ["Constats", "Actions", "Idées"]
    assert (settings["budget"], settings["premoderation"], settings["signed"], settings["sort"],
            settings["wall_visible"], settings["stack"]) == (5, True, True, "time", False, False)
    with store.read() as db:
        assert db.get(Item, in_c).column == 1  # C became the second column
    # A column that holds an idea cannot be removed.
    browser.post(f"/f/{live['facilitator']}/boards/{wall}/settings", data={
        "prompt": "Nouvelle consigne", "column_0": "Constats", "column_1": "Actions", "remove_1": "on",
        "column_2": "Idées", "budget": "5"})
    assert _settings(store, wall)[1]["columns"] == ["Constats", "Actions", "Idées"]


def test_the_budget_cannot_drop_below_dots_already_spent_nor_stacking_be_turned_off_under_stacked_dots(
        store, live):
    wall = add_board(store, live["id"], premoderation=False, budget=3, stack=True)
    item = act(store, live["id"], wall, service.post, "Une idée")
    for _ in range(3):
        act(store, live["id"], wall, service.vote, item, device="voter")

    def change(raw):
        with store.write() as db:
            s = sessions.get_session(db, live["id"])
            service.update_settings(db, s, sessions.get_activity(db, s, wall), raw)

    for raw, code in (({"budget": 2}, "budget_in_use"), ({"stack": False}, "stack_in_use")):
        try:
            change(raw)
        except service.DomainError as exc:
            assert exc.code == code
        else:
            raise AssertionError(f"{raw} was accepted")
    act(store, live["id"], wall, service.unvote, item, device="voter")
    act(store, live["id"], wall, service.unvote, item, device="voter")
    change({"stack": False, "budget": 1})
    assert _settings(store, wall)[1]["budget"] == 1
