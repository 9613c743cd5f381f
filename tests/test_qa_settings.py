"""A Q&A added from the console has its own settings, not an idea wall's: no pre-moderation by
default, one upvote per question and as many questions as one likes (no "votes left"). The Q&A
is added with the console's own form as a browser would send it (its defaults included: the
ready-made "Questions to the panel"), then participants ask and upvote through both doors
(socket and plain form)."""

from __future__ import annotations

from html.parser import HTMLParser

from conftest import choose_language, cid
from test_boards_service import act

from live.boards import service
from live.boards.model import BoardVote, Item
from live.sessions import service as sessions
from live.sessions.model import Activity

EN = {"Accept-Language": "en"}


class _Forms(HTMLParser):
    """The forms of a page with what a browser would send by default (checked boxes, values)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "fields": {}})
        elif self.forms and tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value", "on" if kind == "checkbox" else "")
        elif self.forms and tag == "textarea":
            self._textarea = a.get("name")
            self.forms[-1]["fields"][self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.forms[-1]["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def console_form(client, token: str, action_end: str) -> tuple[str, dict]:
    """The console's form posting to an address ending with `action_end`: (action, default fields)."""
    parser = _Forms()
    parser.feed(client.get(f"/f/{token}", headers=EN).get_data(as_text=True))
    for form in parser.forms:
        if (form["action"] or "").endswith(action_end):
            return form["action"], form["fields"]
    raise AssertionError(f"no console form posts to …{action_end}")


def _add_qa_from_console(app, live, store) -> int:
    browser = app.test_client()
    # The console's ready-made "Questions to the panel", as its form sends it, only added.
    action, fields = console_form(browser, live["facilitator"], "/presets")
    fields.pop("launch")
    response = browser.post(action, data={**fields, "preset": "questions", "prompt": "Vos questions ?"})
    assert response.status_code == 302
    with store.read() as db:
        qa = db.query(Activity).filter_by(kind="questions").one()
        assert (qa.settings["premoderation"], qa.settings["budget"]) == (False, 0)
        qa_id = qa.id
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        for action_name in ("show", "open"):
            sessions.apply_command(db, s, action_name, qa_id)
    return qa_id


def test_a_q_and_a_from_the_console_publishes_at_once_and_takes_unlimited_upvotes_by_socket(
        app, live, store, phone):
    qa = _add_qa_from_console(app, live, store)
    asker = phone()
    posted = [asker.emit("board_post", {"cid": cid(), "activity": qa, "text": f"Question {n} ?"},
                         callback=True) for n in range(5)]
    assert [ack["status"] for ack in posted] == ["visible"] * 5  # no pre-moderation
    voter = phone()
    acks = [voter.emit("board_vote", {"cid": cid(), "activity": qa, "item": ack["item"]}, callback=True)
            for ack in posted]
    assert all(ack["ok"] for ack in acks), acks  # an idea wall's 3 votes would refuse the 4th
    assert acks[-1]["mine"]["left"] is None  # nothing like "0 votes left"
    again = voter.emit("board_vote", {"cid": cid(), "activity": qa, "item": posted[0]["item"]}, callback=True)
    assert not again["ok"] and again["error"]["code"] == "already_voted"  # one per question
    with store.read() as db:
        assert db.query(BoardVote).filter_by(activity_id=qa).count() == 5


def test_a_q_and_a_from_the_console_takes_unlimited_upvotes_by_plain_forms(app, live, store):
    qa = _add_qa_from_console(app, live, store)
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    for n in range(5):
        browser.post(f"/j/{live['code']}/boards/post",
                     data={"activity": qa, "text": f"Question {n} ?", "cid": f"p{n}"})
    with store.read() as db:
        items = db.query(Item).filter_by(activity_id=qa).all()
        assert [i.status for i in items] == ["visible"] * 5
        ids = [i.id for i in items]
    voter = choose_language(app.test_client())  # (a French session: this phone chose English)
    voter.get(f"/j/{live['code']}", headers=EN)
    for n, item in enumerate(ids):
        page = voter.post(f"/j/{live['code']}/boards/vote", headers=EN, follow_redirects=True,
                          data={"activity": qa, "item": item, "cid": f"v{n}"}).get_data(as_text=True)
        assert "Your vote is saved." in page and 'class="votes-left"' not in page
    with store.read() as db:
        assert db.query(BoardVote).filter_by(activity_id=qa).count() == 5


def test_an_idea_wall_from_the_console_keeps_its_own_defaults(app, live, store):
    browser = app.test_client()
    action, fields = console_form(browser, live["facilitator"], "/boards")
    browser.post(action, data={**fields, "prompt": "Vos idées ?"})
    with store.read() as db:
        wall = db.query(Activity).filter_by(kind="ideas").one()
        assert (wall.settings["premoderation"], wall.settings["budget"]) == (True, 3)


def test_a_q_and_a_settings_page_keeps_its_upvote_rules(app, live, store):
    qa = _add_qa_from_console(app, live, store)
    browser = app.test_client()
    # A form carrying an idea wall's fields (a stale page, a hand-made post) changes nothing of them.
    browser.post(f"/f/{live['facilitator']}/boards/{qa}/settings",
                 data={"prompt": "Vos questions ?", "budget": "3", "stack": "on", "signed": "on"})
    with store.read() as db:
        settings = db.get(Activity, qa).settings
    assert (settings["budget"], settings["stack"], settings["premoderation"]) == (0, False, False)
    item = act(store, live["id"], qa, service.post, "Une question ?", device="d1")
    assert item
