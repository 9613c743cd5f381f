"""Word clouds over Socket.IO with the app's own test client: entries, caps, bad and hostile
inputs, the word rate, roles, moderation reaching the screen's image, held profanity, freezing,
and what participants are actually sent."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import choose_language, cid, command
from support import pushes_settled, wait_for_event

from live.render import pool as render_pool
from live.sessions import service as sessions
from live.wordclouds import service
from live.wordclouds.model import WordEntry

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile-inputs.json"
SVG = "{http://www.w3.org/2000/svg}"
EN = {"Accept-Language": "en"}


@pytest.fixture(scope="module", autouse=True)
def _stop_render_workers():
    yield
    render_pool.shutdown()  # no worker process outlives these tests


def add_cloud(store, session_id, **settings):
    with store.write() as db:
        return service.add_wordcloud(db, sessions.get_session(db, session_id), "En un mot ?", settings).id


@pytest.fixture
def cloud(store, live):
    """An open, revealed word cloud on screen (3 entries of 40 characters, profanity held)."""
    activity = add_cloud(store, live["id"])
    for action in ("show", "open", "reveal"):
        command(store, live["id"], action, activity)
    return activity


def word(sock, activity, text, **extra):
    return sock.emit("word:add", {"cid": cid(), "activity": activity, "text": text, **extra}, callback=True)


def moderate(sock, activity, action, key, into=None):
    return sock.emit("word:moderate", {"cid": cid(), "activity": activity, "action": action, "key": key,
                                       "into": into}, callback=True)


def key_of(store, activity, text):
    with store.read() as db:
        for g in service.groups(db, db.get(service.Activity, activity)):
            if g.text == text or text in {s for s in g.spellings}:
                return g.key
    raise AssertionError(f"no group for {text!r}")


def wait_cloud_push(sock, activity, timeout=8.0):
    """The `cloud` push (after the debounced render) that this socket receives next."""
    push = wait_for_event(sock, "cloud", lambda payload: payload["activity"] == activity, timeout)
    assert push is not None, "no cloud push"
    return push


def svg_words(client, activity, token, v="x"):
    response = client.get(f"/cloud/{activity}.svg?t={token}&v={v}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    return {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_only_own_markup(html: str) -> None:
    """No element from participants' text: no handler attribute, no inline script, no svg/style."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert tag not in ("svg", "style", "textarea") or tag == "textarea" and "alert" not in str(attrs)
        if tag == "script":
            assert attrs.get("src") or attrs.get("type") == "application/json", attrs
        if tag == "img":
            assert attrs.get("src") != "x", attrs
        if tag == "a":
            assert not str(attrs.get("href", "")).startswith("javascript:"), attrs


def sent_texts(sock) -> str:
    """Everything a socket received, as one JSON text (to look for words it must not get)."""
    return json.dumps([e["args"] for e in sock.get_received()], ensure_ascii=False)


# --- entries ------------------------------------------------------------------------------

def test_add_and_withdraw_entries_ack_with_mine(phone, cloud, store):
    sock = phone()
    ack = word(sock, cloud, "  Sobriété  ")
    assert ack["ok"] and ack["entry"]["text"] == "Sobriété"
    assert [e["text"] for e in ack["mine"]] == ["Sobriété"]
    ack = word(sock, cloud, "low-tech")
    assert [e["text"] for e in ack["mine"]] == ["Sobriété", "low-tech"]
    first = ack["mine"][0]["id"]
    ack = sock.emit("word:withdraw", {"cid": cid(), "activity": cloud, "entry": first}, callback=True)
    assert ack["ok"] and [e["text"] for e in ack["mine"]] == ["low-tech"]
    with store.read() as db:
        assert db.query(WordEntry).filter(WordEntry.slot.is_not(None)).count() == 1
    # A fresh snapshot carries the participant's own entries.
    snap = sock.emit("sync", {"cid": cid()}, callback=True)["snapshot"]
    assert [e["text"] for e in snap["current"]["mine"]] == ["low-tech"]


def test_cap_and_length_and_empty_get_clear_errors(phone, cloud):
    sock = phone()
    for text in ("sobriété", "partage", "réemploi"):
        ack = word(sock, cloud, text)
        assert ack["ok"], ack
    ack = word(sock, cloud, "quatre")
    assert not ack["ok"] and ack["error"]["code"] == "too_many_entries" and "3" in ack["error"]["message"]
    other = phone()
    ack = word(other, cloud, "x" * 41)
    assert not ack["ok"] and ack["error"]["code"] == "entry_too_long" and "40" in ack["error"]["message"]
    for empty in ("", "   ", "\u200b\u200b", "!!!"):
        ack = word(other, cloud, empty)
        assert not ack["ok"] and ack["error"]["code"] == "entry_empty", (empty, ack)
    for bad in (None, 12, ["a"], {"t": "a"}):
        ack = word(other, cloud, bad)
        assert not ack["ok"] and ack["error"]["message"], (bad, ack)


def test_closed_and_unknown_activities_refuse_entries(phone, cloud, store, live):
    sock = phone()
    ack = word(sock, cloud, "sobriété")
    entry = ack["entry"]["id"]
    command(store, live["id"], "close", cloud)
    ack = word(sock, cloud, "réemploi")
    assert not ack["ok"] and ack["error"]["code"] == "activity_closed" and ack["error"]["message"]
    ack = sock.emit("word:withdraw", {"cid": cid(), "activity": cloud, "entry": entry}, callback=True)
    assert not ack["ok"] and ack["error"]["code"] == "activity_closed"
    ack = word(sock, 99999, "x")
    assert not ack["ok"] and ack["error"]["code"] == "activity_not_found"


def test_someone_elses_entry_cannot_be_withdrawn(phone, cloud):
    alice, bob = phone(), phone()
    entry = word(alice, cloud, "partage")["entry"]["id"]
    ack = bob.emit("word:withdraw", {"cid": cid(), "activity": cloud, "entry": entry}, callback=True)
    assert not ack["ok"] and ack["error"]["code"] == "entry_not_found"


def test_hostile_corpus_is_stored_as_text_or_refused_clearly(phone, cloud, store, client, live, app):
    corpus = json.loads(HOSTILE.read_text(encoding="utf-8"))
    texts = [t for t in corpus["markup"] + corpus["unicode"] + corpus["spreadsheet"] if isinstance(t, str)]
    texts += ["x" * corpus["sizes"]["long_word_chars"]]
    app.config["WORDCLOUD_RATE_PER_10S"] = 10**6
    stored = []
    for index, text in enumerate(texts):
        sock = phone() if index % 3 == 0 else sock  # noqa: F821 - three entries per phone
        ack = word(sock, cloud, text)
        if ack["ok"]:
            stored.append(ack["entry"]["text"])
        else:
            assert ack["error"]["code"].startswith(("entry_", "payload_")), (text, ack)
            assert ack["error"]["message"]
            if ack["error"]["code"] == "too_many_entries":
                pytest.fail(f"cap reached: {text!r}")
    assert "<script>alert(1)</script>" in stored  # kept, as text
    for kept in stored:
        assert "\u202e" not in kept and "\x00" not in kept  # bidi overrides and NULs removed
    # The pages show them as text: escaped in HTML, never as markup.
    for path in (f"/screen/{live['screen']}", f"/m/{live['moderator']}", f"/f/{live['facilitator']}"):
        html = client.get(path).get_data(as_text=True)
        at = html.find("<script>alert(1)</script>")
        assert at < 0, (path, html[at - 300:at + 50])
        if path.startswith("/m/"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert_only_own_markup(html)
    # The image has them as text nodes (escaped XML that parses).
    shown = svg_words(client, cloud, live["screen"])
    assert any("alert" in t for t in shown)


def test_a_flood_from_one_participant_is_slowed_down(phone, cloud, app):
    app.config["WORDCLOUD_RATE_PER_10S"] = 6
    sock = phone()
    answers = []
    for n in range(12):  # add/withdraw cycles: never over the cap, but far too fast
        ack = word(sock, cloud, f"mot{n}")
        answers.append(ack)
        if ack["ok"]:
            sock.emit("word:withdraw", {"cid": cid(), "activity": cloud, "entry": ack["entry"]["id"]},
                      callback=True)
    refused = [a for a in answers if not a["ok"]]
    assert refused and all(a["error"]["code"] == "words_too_fast" for a in refused)
    assert "wait" in refused[0]["error"]["message"].lower()


def test_roles_are_checked(phone, staff, cloud):
    sock = phone()
    word(sock, cloud, "sobriété")
    ack = sock.emit("word:moderate", {"cid": cid(), "activity": cloud, "action": "hide", "key": "sobriete"},
                    callback=True)
    assert not ack["ok"] and ack["error"]["code"] == "forbidden"
    ack = sock.emit("word:groups", {"cid": cid(), "activity": cloud}, callback=True)
    assert not ack["ok"] and ack["error"]["code"] == "forbidden"
    for role in ("facilitator", "moderator", "screen"):
        ack = word(staff(role), cloud, "staff")
        assert not ack["ok"] and ack["error"]["code"] == "forbidden"
    ack = staff("screen").emit("word:moderate", {"cid": cid(), "activity": cloud, "action": "hide",
                                                 "key": "sobriete"}, callback=True)
    assert not ack["ok"] and ack["error"]["code"] == "forbidden"
    ack = staff("screen").emit("command", {"cid": cid(), "action": "freeze", "activity": cloud},
                               callback=True)
    assert not ack["ok"] and ack["error"]["code"] == "forbidden"


# --- moderation reaches the screen -----------------------------------------------------------

def test_hide_and_restore_reach_the_screen_image(phone, staff, cloud, client, live, store):
    sock = phone()
    for text in ("sobriété", "réemploi"):
        ack = word(sock, cloud, text)
        assert ack["ok"], ack
    screen = staff("screen")
    wait_cloud_push(screen, cloud)
    assert {"sobriété", "réemploi"} <= svg_words(client, cloud, live["screen"])
    screen.get_received()
    moderator = staff("moderator")
    ack = moderate(moderator, cloud, "hide", key_of(store, cloud, "réemploi"))
    assert ack["ok"] and any(g["hidden"] for g in ack["groups"])
    push = wait_cloud_push(screen, cloud)
    shown = svg_words(client, cloud, live["screen"], push["v"])
    assert "réemploi" not in shown and "sobriété" in shown
    screen.get_received()
    assert moderate(moderator, cloud, "restore", key_of(store, cloud, "réemploi"))["ok"]
    push = wait_cloud_push(screen, cloud)
    assert "réemploi" in svg_words(client, cloud, live["screen"], push["v"])


def test_merge_and_unmerge_reach_the_screen_image(phone, staff, cloud, client, live, store):
    for text in ("IA", "intelligence artificielle", "intelligence artificielle"):
        assert word(phone(), cloud, text)["ok"]
    screen, moderator = staff("screen"), staff("moderator")
    ia, ai = key_of(store, cloud, "IA"), key_of(store, cloud, "intelligence artificielle")
    ack = moderate(moderator, cloud, "merge", ia, into=ai)
    assert ack["ok"]
    merged = next(g for g in ack["groups"] if g["key"] == ai)
    # The moderator sees the merged group by its label, not by its stem.
    assert merged["count"] == 3 and merged["members"] == [{"key": ia, "text": "IA"}]
    push = wait_cloud_push(screen, cloud)
    shown = svg_words(client, cloud, live["screen"], push["v"])
    assert "intelligence artificielle" in shown and "IA" not in shown
    screen.get_received()
    assert moderate(moderator, cloud, "unmerge", ia)["ok"]
    push = wait_cloud_push(screen, cloud)
    assert {"IA", "intelligence artificielle"} <= svg_words(client, cloud, live["screen"], push["v"])
    ack = moderate(moderator, cloud, "merge", ia, into=ia)
    assert not ack["ok"] and ack["error"]["code"] == "bad_merge" and ack["error"]["message"]


def test_held_profanity_stays_off_the_screen_until_released(phone, staff, cloud, client, live, store):
    rude = phone()
    assert word(rude, cloud, "shit")["ok"]  # stored (acknowledged), but held back
    assert word(phone(), cloud, "sobriété")["ok"]
    screen, moderator = staff("screen"), staff("moderator")
    wait_cloud_push(screen, cloud)
    assert "shit" not in svg_words(client, cloud, live["screen"])
    groups = moderator.emit("word:groups", {"cid": cid(), "activity": cloud}, callback=True)["groups"]
    held = next(g for g in groups if g["held"])
    assert held["count"] == 0 and not held["released"]
    screen.get_received()
    assert moderate(moderator, cloud, "release", held["key"])["ok"]
    push = wait_cloud_push(screen, cloud)
    assert "shit" in svg_words(client, cloud, live["screen"], push["v"])


def test_profanity_is_not_held_when_the_organiser_turns_it_off(phone, staff, store, live, client):
    activity = add_cloud(store, live["id"], hold_profanity=False)
    for action in ("show", "open", "reveal"):
        command(store, live["id"], action, activity)
    assert word(phone(), activity, "shit")["ok"]
    assert "shit" in svg_words(client, activity, live["screen"])


def test_participants_never_receive_hidden_or_held_words(app, phone, staff, cloud, store):
    watcher = phone()
    assert word(phone(), cloud, "shit")["ok"]
    assert word(phone(), cloud, "Zorglub")["ok"]
    assert word(phone(), cloud, "sobriété")["ok"]
    assert pushes_settled(app)  # revealed results reach phones too (at most once a second)
    before = sent_texts(watcher)
    assert "zorglub" in before  # its label, shown (revealed) until a moderator hides it
    assert moderate(staff("moderator"), cloud, "hide", key_of(store, cloud, "Zorglub"))["ok"]
    assert pushes_settled(app)  # a push computed before the hide has gone out
    watcher.get_received()
    assert word(phone(), cloud, "réemploi")["ok"]  # more pushes, after the hide
    screen = staff("screen")
    wait_cloud_push(screen, cloud)
    assert pushes_settled(app)
    watcher.emit("sync", {"cid": cid()}, callback=True)
    after = sent_texts(watcher)
    assert "réemploi" in after  # revealed: the visible words do reach the phone
    assert "orglub" not in after  # neither its label nor its spelling
    assert "shit" not in before + after  # held back: never sent to participants


def test_participants_get_no_words_before_the_reveal(app, phone, store, live):
    activity = add_cloud(store, live["id"])
    for action in ("show", "open"):
        command(store, live["id"], action, activity)
    watcher, writer = phone(), phone()
    assert word(writer, activity, "sobriété")["ok"]
    assert pushes_settled(app)
    ack = watcher.emit("sync", {"cid": cid()}, callback=True)
    assert "results" not in ack["snapshot"]["current"]
    assert "sobriété" not in sent_texts(watcher)
    assert ack["snapshot"]["current"]["entries"] == 1  # the count is public, the words are not


# --- freezing -----------------------------------------------------------------------------

def test_a_frozen_cloud_accepts_entries_but_its_image_keeps_still(phone, staff, cloud, client, live, store):
    assert word(phone(), cloud, "sobriété")["ok"]
    facilitator = staff("facilitator")
    ack = facilitator.emit("command", {"cid": cid(), "action": "freeze", "activity": cloud}, callback=True)
    assert ack["ok"]
    ack = facilitator.emit("command", {"cid": cid(), "action": "freeze", "activity": cloud}, callback=True)
    assert not ack["ok"] and ack["error"]["code"] == "already_frozen"
    assert word(phone(), cloud, "réemploi")["ok"]  # still accepted
    assert svg_words(client, cloud, live["screen"]) == {"sobriété"}
    ack = facilitator.emit("command", {"cid": cid(), "action": "unfreeze", "activity": cloud}, callback=True)
    assert ack["ok"]
    assert {"sobriété", "réemploi"} <= svg_words(client, cloud, live["screen"], "after")


def test_freeze_is_on_the_timeline(store, live, cloud):
    command(store, live["id"], "freeze", cloud)
    command(store, live["id"], "unfreeze", cloud)
    from live.sessions.model import TimelineEntry

    with store.read() as db:
        actions = [t.action for t in db.query(TimelineEntry).order_by(TimelineEntry.id)]
    assert actions[-2:] == ["word_freeze", "word_unfreeze"]


# --- pages --------------------------------------------------------------------------------

def test_pages_show_the_cloud_forms_and_entries(client, phone, cloud, live, store):
    browser = choose_language(client)
    browser.get(f"/j/{live['code']}", headers=EN)
    page = browser.get(f"/j/{live['code']}", headers=EN).get_data(as_text=True)
    assert 'id="word-form"' in page and 'maxlength="40"' in page and "3 of 3 left" in page
    response = browser.post(f"/j/{live['code']}/words", data={"activity": cloud, "text": "<b>sobre</b>",
                                                              "cid": "form-1"})
    assert response.status_code == 302
    page = browser.get(f"/j/{live['code']}", headers=EN).get_data(as_text=True)
    assert "&lt;b&gt;sobre&lt;/b&gt;" in page and "2 of 3 left" in page and "<b>sobre</b>" not in page
    assert 'class="cloud-img"' in page  # revealed, and allowed on phones
    image = browser.get(f"/cloud/{cloud}.svg?v=1")  # the phone's cookie, no token
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert client.application.test_client().get(f"/cloud/{cloud}.svg").status_code == 404  # no cookie
    screen = client.get(f"/screen/{live['screen']}", headers=EN).get_data(as_text=True)
    assert screen.count('class="cloud-img"') == 1
    console = client.get(f"/f/{live['facilitator']}", headers=EN).get_data(as_text=True)
    assert "Add a word cloud" in console and f"data-key='freeze-{cloud}'".replace("'", '"') in console
    moderation = client.get(f"/m/{live['moderator']}", headers=EN).get_data(as_text=True)
    assert f'id="wc-{cloud}"' in moderation and "&lt;b&gt;sobre&lt;/b&gt;" in moderation


def test_console_form_adds_and_edits_a_word_cloud(client, live, store, app):
    base = f"/f/{live['facilitator']}"
    app.config["WORDCLOUD_HOLD_PROFANITY"] = False
    assert 'name="hold_profanity" checked' not in client.get(base, headers=EN).get_data(as_text=True)
    client.post(f"{base}/wordclouds", data={"prompt": "Un mot ?", "entries_per_participant": "2",
                                            "max_length": "30", "show_on_phones": "on"})
    with store.read() as db:
        activity = sessions.get_session(db, live["id"]).activities[-1]
        assert (activity.kind, activity.settings["entries_per_participant"], activity.settings["max_length"],
                activity.settings["hold_profanity"]) == ("wordcloud", 2, 30, False)
        activity_id = activity.id
    assert "Un mot ?" in client.get(f"{base}/wordclouds/{activity_id}", headers=EN).get_data(as_text=True)
    client.post(f"{base}/wordclouds/{activity_id}", data={
        "prompt": "Deux mots ?", "entries_per_participant": "4", "max_length": "50", "hold_profanity": "on"})
    with store.read() as db:
        activity = db.get(service.Activity, activity_id)
        assert activity.prompt == "Deux mots ?" and activity.settings["entries_per_participant"] == 4
        assert activity.settings["show_on_phones"] is False and activity.settings["hold_profanity"] is True


def test_staff_are_told_which_words_the_image_could_not_draw(phone, staff, cloud, client, live):
    # No installed font draws Egyptian hieroglyphs: the word is stored and counted, and rather
    # than vanishing silently from the image it is named to the facilitator and the moderators.
    screen, facilitator, moderator = staff("screen"), staff("facilitator"), staff("moderator")
    for text in ("𓀀𓀁", "sobriété"):
        assert word(phone(), cloud, text)["ok"]
    told = wait_for_event(facilitator, "cloud", lambda p: p["activity"] == cloud and "𓀀𓀁" in p["missing"], 8)
    assert told is not None and "sobriété" not in told["missing"]
    assert wait_for_event(moderator, "cloud", lambda p: "𓀀𓀁" in p.get("missing", ()), 8) is not None
    assert "missing" not in wait_cloud_push(screen, cloud)  # the room is not told
    assert "sobriété" in svg_words(client, cloud, live["screen"])
    for page in (f"/m/{live['moderator']}", f"/f/{live['facilitator']}"):
        html = client.get(page, headers=EN).get_data(as_text=True)
        assert "Not in the image (no font for them, or no room left): 𓀀𓀁" in html, page


def test_the_moderation_list_shows_labels_never_stems(phone, staff, cloud, client, live, store):
    for text in ("frugalité", "Frugalité", "sobriété", "sobriété", "sobriété"):
        assert word(phone(), cloud, text)["ok"]
    frugal, sober = key_of(store, cloud, "frugalité"), key_of(store, cloud, "sobriété")
    assert frugal == "frugalit"  # the stem the cloud counts it under
    ack = moderate(staff("moderator"), cloud, "merge", frugal, into=sober)
    merged = next(g for g in ack["groups"] if g["key"] == sober)
    assert merged["members"] == [{"key": "frugalit", "text": "frugalité"}]
    page = client.get(f"/m/{live['moderator']}", headers=EN).get_data(as_text=True)
    assert '<span class="g-member" dir="auto">frugalité</span>' in page
    assert ">frugalit<" not in page and ">sobriet<" not in page
    refused = moderate(staff("moderator"), cloud, "hide", frugal)  # act on the group it is in
    assert refused["error"]["code"] == "word_merged" and "sobriété" in refused["error"]["message"]
