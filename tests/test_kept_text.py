"""Without JavaScript, a refused idea, question or word keeps what was typed: the participant page
the form goes back to shows it again in the form (once), with the message saying why. And a
form's client id sent again with other fields is refused, as on the socket."""

from __future__ import annotations

from conftest import command
from markupsafe import escape
from test_boards_service import add_board

from live.boards.model import Item
from live.sessions import service as sessions
from live.sessions.model import ClientAck
from live.wordclouds import service as clouds
from live.wordclouds.model import WordEntry

HOSTILE = '"><script>alert(1)</script> Réparer & partager'


EN = {"Accept-Language": "en"}


def _page(client, code: str) -> str:
    return client.get(f"/j/{code}", headers=EN).get_data(as_text=True)


def _post(client, code: str, data: dict) -> str:
    """An idea sent by the plain form; the page it goes back to."""
    sent = client.post(f"/j/{code}/boards/post", headers=EN, follow_redirects=True, data=data)
    return sent.get_data(as_text=True)


def test_an_idea_refused_because_the_wall_closed_comes_back_in_the_form(client, store, live):
    wall = add_board(store, live["id"], columns=["Constats", "Idées"], signed=True)
    client.get(f"/j/{live['code']}?lang=en")  # the participant picks English (kept)
    command(store, live["id"], "close", wall)
    page = _post(client, live["code"], {"activity": wall, "text": HOSTILE, "column": "1", "name": "Zoé",
                                        "cid": "k-1"})
    assert "closed" in page  # why, in the page's flash
    assert f"Not sent: {escape(HOSTILE)}" in page  # no form to put it back in: shown as text
    with store.read() as db:
        assert db.query(Item).count() == 0
    assert "warn\">Not sent" not in _page(client, live["code"])  # once, for the page it went back to

    command(store, live["id"], "open", wall)
    long_text = "Réparer " * 40
    page = _post(client, live["code"], {"activity": wall, "text": long_text, "column": "1", "name": "Zoé",
                                        "cid": "k-2"})
    assert "280" in page  # the message
    assert f">{long_text[:280]}</textarea>" in page
    assert '<option value="1" selected>Idées</option>' in page
    assert 'value="Zoé"' in page
    assert "warn\">Not sent" not in page  # the form has it
    assert f">{long_text[:280]}</textarea>" not in _page(client, live["code"])  # once


def test_a_hostile_idea_refused_comes_back_as_text(client, store, live):
    wall = add_board(store, live["id"])
    client.get(f"/j/{live['code']}?lang=en")  # the participant picks English (kept)
    for n in range(5):  # posting_too_fast after 5 a minute
        _post(client, live["code"], {"activity": wall, "text": f"Idée {n}", "cid": f"h-{n}"})
    page = _post(client, live["code"], {"activity": wall, "text": HOSTILE, "cid": "h-5"})
    assert f">{escape(HOSTILE)}</textarea>" in page
    assert "<script>alert(1)" not in page


def test_a_refused_word_comes_back_in_the_form(client, store, live):
    with store.write() as db:
        cloud = clouds.add_wordcloud(db, sessions.get_session(db, live["id"]), "Un mot ?").id
    for action in ("show", "open"):
        command(store, live["id"], action, cloud)
    client.get(f"/j/{live['code']}?lang=en")  # the participant picks English (kept)
    sent = client.post(f"/j/{live['code']}/words", data={"activity": cloud, "text": "le", "cid": "w-1"},
                       headers={"Accept-Language": "en"}, follow_redirects=True)
    page = sent.get_data(as_text=True)
    assert "says too little" in page
    assert 'id="word-text" name="text" value="le"' in page
    with store.read() as db:
        assert db.query(WordEntry).count() == 0


def test_a_form_id_sent_again_with_another_text_is_refused(client, store, live):
    with store.write() as db:
        cloud = clouds.add_wordcloud(db, sessions.get_session(db, live["id"]), "Un mot ?").id
    for action in ("show", "open"):
        command(store, live["id"], action, cloud)
    client.get(f"/j/{live['code']}?lang=en")  # the participant picks English (kept)
    form = {"activity": cloud, "text": "sobriété", "cid": "same"}
    client.post(f"/j/{live['code']}/words", data=form)
    client.post(f"/j/{live['code']}/words", data=form)  # the same form again: stored once
    other = client.post(f"/j/{live['code']}/words", data={**form, "text": "partage"},
                        headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "reused the id" in other.get_data(as_text=True)
    with store.read() as db:
        assert [e.text for e in db.query(WordEntry)] == ["sobriété"]
        assert db.query(ClientAck).count() == 1
