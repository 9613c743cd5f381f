"""Console commands that used to surprise: "Open voting" on an activity that is not on screen
(now "Show and open voting", one command through both doors), and ending a session without
JavaScript (now asked first on a page of its own). Forms, the socket, and Chromium with and
without JavaScript."""

from __future__ import annotations

import pytest
from conftest import add_poll, cid, command
from support import chromium, playwright_or_skip, prepare, query, server

from live.sessions.model import Activity, LiveSession

EN = {"Accept-Language": "en"}


def _state(store, session_id, activity_id):
    with store.read() as db:
        return db.get(LiveSession, session_id).current_activity_id, db.get(Activity, activity_id).state


def test_an_activity_not_on_screen_offers_show_and_open_and_the_form_does_both(app, client, live, store):
    shown, other = add_poll(store, live["id"]), add_poll(store, live["id"])
    command(store, live["id"], "show", shown)
    page = client.get(f"/f/{live['facilitator']}", headers=EN).get_data(as_text=True)
    assert f'value="open" data-key="open-{shown}"' in page  # on screen: open it
    assert f'data-key="open-{other}"' not in page  # not on screen: no bare "Open voting"
    assert f'value="show_open" data-key="show_open-{other}"' in page and "Show and open voting" in page
    client.post(f"/f/{live['facilitator']}/command", data={"action": "show_open", "activity": other})
    assert _state(store, live["id"], other) == (other, "open")


def test_show_and_open_through_the_socket(app, live, store, staff):
    poll = add_poll(store, live["id"])
    console = staff("facilitator")
    ack = console.emit("command", {"cid": cid(), "action": "show_open", "activity": poll}, callback=True)
    assert ack["ok"], ack
    assert _state(store, live["id"], poll) == (poll, "open")
    command(store, live["id"], "close", poll)
    command(store, live["id"], "banner")
    again = console.emit("command", {"cid": cid(), "action": "show_open", "activity": poll}, callback=True)
    assert again["ok"] and _state(store, live["id"], poll) == (poll, "open")  # reopened


def test_ending_a_session_by_the_plain_form_asks_first(app, client, live, store):
    token = live["facilitator"]
    asked = client.post(f"/f/{token}/command", data={"action": "end"}, headers=EN)
    assert asked.status_code == 200
    assert "End the session now? This cannot be undone." in asked.get_data(as_text=True)
    with store.read() as db:
        assert db.get(LiveSession, live["id"]).state != "ended"
    done = client.post(f"/f/{token}/command", data={"action": "end", "confirmed": "yes"})
    assert done.status_code == 302
    with store.read() as db:
        assert db.get(LiveSession, live["id"]).state == "ended"


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("script", [True, False], ids=["javascript", "no-javascript"])
def test_ending_a_session_in_chromium_is_confirmed_once(tmp_path, script):
    expect = playwright_or_skip().expect
    setup = prepare(tmp_path / "palabre.db")
    dialogs: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        page = browser.new_context(locale="en-GB", java_script_enabled=script).new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
        page.goto(f"{srv.url}/f/{setup.facilitator}")
        if script:  # an off-screen poll: one button shows and opens it
            page.click(f"[data-key='show_open-{setup.activity}']")
            expect(page.locator(f"[data-key='close-{setup.activity}']")).to_be_visible()
            assert query(setup.database, "select state from activities") == [("open",)]
        page.click("[data-key='end-']")
        if not script:
            expect(page.locator("h1")).to_have_text("End the session")
            assert query(setup.database, "select state from live_sessions") != [("ended",)]
            page.get_by_role("button", name="Yes, end the session").click()
        expect(page.locator("#session-state")).to_have_text("Ended")
    assert query(setup.database, "select state from live_sessions") == [("ended",)]
    assert dialogs == (["End the session now? This cannot be undone."] if script else [])
