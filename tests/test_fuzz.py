"""Fuzzing every socket event and every form with hypothesis (issue 11, "Fuzzed").

Payloads mix the hostile corpus (tests/data/hostile-inputs.json: markup, Unicode tricks,
spreadsheet formulas, huge texts, wrong types) with random types and sizes, and with ids that
exist (activities, items, options, entries, word groups) so that the fuzzer gets past the
first checks into the rules. After every example:

- the answer is an ack with `ok` (socket) or a page below 500 (form), never `server_error`;
- nothing was logged at ERROR level (no traceback);
- the server still answers (`/healthz` and a `sync` over the socket);
- the database holds only what valid requests could store: clean texts within their limits,
  settings that the validators accept, votes the poll accepts, dots within budgets and only on
  published items, entries within their caps.

Each test is bounded (max_examples, no deadline) so that the module stays well under a minute.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from pathlib import Path

import pytest
from conftest import Browser, cid, command, database_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from live import create_app
from live.boards import service as boards
from live.boards.model import PUBLISHED, STATUSES, TEXT_LENGTH, BoardVote, Item, ModerationEntry
from live.polls import service as polls
from live.polls.model import Option, Vote
from live.realtime import socketio
from live.render import pool as render_pool
from live.sessions import service as sessions
from live.sessions.model import Activity, ClientAck, Event, LiveSession, TimelineEntry
from live.text import clean
from live.wordclouds import service as clouds
from live.wordclouds.model import WordEntry, WordGroupState

HOSTILE = json.loads((Path(__file__).resolve().parent / "data" / "hostile-inputs.json").read_text("utf-8"))
SIZES = HOSTILE["sizes"]
CORPUS_TEXTS = [*HOSTILE["markup"], *HOSTILE["unicode"], *HOSTILE["spreadsheet"],
                "x" * SIZES["long_word_chars"], "mot " * (SIZES["long_text_chars"] // 4)]
CORPUS_VALUES = [*CORPUS_TEXTS, *HOSTILE["types"], 10**20, -(10**20), 2**63, 2**31, float("inf"),
                 float("nan"), -0.0, "0", "-1", "10" * 20, "²", "١٢", "Ⅻ", " 1 ", "1.0", "0x10"]
# Per test: the whole module runs in well under a minute. PALABRE_FUZZ_EXAMPLES=2000 digs deeper.
EXAMPLES = int(os.environ.get("PALABRE_FUZZ_EXAMPLES", "50"))


@pytest.fixture(scope="module", autouse=True)
def _stop_render_workers():
    yield
    render_pool.shutdown()  # no worker process outlives these tests


# --- strategies ---------------------------------------------------------------------------

def _texts(alphabet_ok_for_forms: bool = False):
    # Forms travel as UTF-8: a lone surrogate cannot even be sent, so forms do without them.
    chars = st.characters(exclude_categories=("Cs",)) if alphabet_ok_for_forms else st.characters()
    return st.one_of(st.text(chars, max_size=30), st.text(chars, min_size=250, max_size=400))


def _scalars():
    return st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70),
                     st.floats(allow_nan=True, allow_infinity=True), _texts(),
                     st.sampled_from(CORPUS_VALUES))


VALUES = st.recursive(_scalars(), lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=8)


# Ids that are not: out of SQLite's range, negative, of another type, or text that looks numeric.
ID_JUNK = [10**20, -(10**20), 2**63, 2**63 - 1, -1, 0, True, 1.0, "1", None, [], {}, [1], {"id": 1}]
NUMERIC_TEXT = ["", "0", "-1", "1e309", "NaN", "inf", "²", "١٢", "Ⅻ", "𝟙", " 3 ", "+3", "1_000",
                "99999999999999999999999", "-99999999999999999999999", "9223372036854775808", "1.5",
                "0x10", "3\x00", "\u0663"]


# --- the world the fuzzer acts on ---------------------------------------------------------

@pytest.fixture
def world(tmp_path):
    """A fresh app with a session holding every kind of activity, all open, some content,
    three participants' browsers and sockets and the three staff sockets."""
    app = create_app({"TESTING": True, "HOST": "127.0.0.1", "SECRET_KEY": "fuzz",
                      "DATABASE_URL": database_url(tmp_path), "ASYNC_MODE": "threading",
                      "RATE_LIMIT_PER_10S": 100000, "WORDCLOUD_RATE_PER_10S": 100000,
                      "PUSH_INTERVAL": 0.05})
    app.test_client_class = Browser  # form posts carry the CSRF token a page would hold
    store = app.extensions["palabre.store"]
    with store.write() as db:
        event = sessions.create_event(db, "Fuzz", "Chartres", "2026-04-05")
        live = sessions.create_session(db, event, "workshop", "Atelier")
        ids = {"session": live.id, "event": event.id, "code": live.join_code,
               "facilitator": live.facilitator_token, "moderator": live.moderator_token,
               "screen": live.screen_token}
        made = [polls.add_poll(db, live, "single", "Q1 ?", ["Oui", "Non"]),
                polls.add_poll(db, live, "multiple", "Q2 ?", ["A", "B", "C"], {"max_choices": 2}),
                polls.add_poll(db, live, "scale", "Q3 ?", [], {"scale_max": 5}),
                polls.add_poll(db, live, "ranking", "Q4 ?", ["X", "Y", "Z"]),
                clouds.add_wordcloud(db, live, "En un mot ?"),
                boards.add_board(db, live, "ideas", "Idées ?", {"columns": ["A", "B"], "budget": 3,
                                                                "premoderation": False}),
                boards.add_board(db, live, "questions", "Questions ?")]
        ids["activities"] = [a.id for a in made]
    for activity in ids["activities"]:
        command(store, ids["session"], "open", activity)
    command(store, ids["session"], "show", ids["activities"][5])
    phones = []
    for _ in range(3):
        browser = app.test_client()
        browser.get(f"/j/{ids['code']}")
        phones.append((browser, socketio.test_client(app, auth={"code": ids["code"], "lang": "en"},
                                                     flask_test_client=browser)))
    staff = {role: socketio.test_client(app, auth={"token": ids[role], "lang": "en"})
             for role in ("facilitator", "moderator", "screen")}
    wall, qa, cloud = ids["activities"][5], ids["activities"][6], ids["activities"][4]
    for n, (_, sock) in enumerate(phones):
        for board in (wall, qa):
            assert sock.emit("board_post", {"cid": cid(), "activity": board, "text": f"idée {n}"},
                             callback=True)["ok"]
        assert sock.emit("word:add", {"cid": cid(), "activity": cloud, "text": f"sobriété {n}"},
                         callback=True)["ok"]
    yield {"app": app, "store": store, "ids": ids, "phones": phones, "staff": staff}
    for sock in [s for _, s in phones] + list(staff.values()):
        if sock.is_connected():
            sock.disconnect()
    store.dispose()


def _existing(store) -> dict:
    """What exists now, per activity: items with their versions, options, entries, word keys."""
    with store.read() as db:
        per: dict = {}
        for activity_id, item_id, version in db.execute(select(Item.activity_id, Item.id, Item.version)):
            per.setdefault(("items", activity_id), []).append(item_id)
            per.setdefault(("refs", activity_id), []).append({"id": item_id, "version": version})
        for activity_id, option_id in db.execute(select(Option.activity_id, Option.id)):
            per.setdefault(("options", activity_id), []).append(option_id)
        for activity_id, entry_id, key in db.execute(select(WordEntry.activity_id, WordEntry.id,
                                                            WordEntry.key)):
            per.setdefault(("entries", activity_id), []).append(entry_id)
            if key not in per.get(("keys", activity_id), []):
                per.setdefault(("keys", activity_id), []).append(key)
        every = {kind: [v for (k, _), values in per.items() if k == kind for v in values]
                 for kind in ("items", "refs", "options", "entries", "keys")}
        return {**per, **every}


# --- checks after every example -----------------------------------------------------------

def _clean(text, limit: int) -> bool:
    return isinstance(text, str) and len(text) <= limit and clean(text, limit) == text


def assert_only_valid_data(store) -> None:
    """What a valid request could have stored, and nothing else."""
    with store.read() as db:
        for event in db.scalars(select(Event)):
            assert _clean(event.title, 200) and (event.place is None or _clean(event.place, 200))
        for live in db.scalars(select(LiveSession)):
            assert _clean(live.title, 200) and live.state in ("draft", "live", "ended")
        for activity in db.scalars(select(Activity)):
            assert _clean(activity.prompt, 300), activity.prompt
            assert activity.state in ("draft", "open", "closed")
            _assert_settings(db, activity)
        for vote in db.scalars(select(Vote)):
            activity = db.get(Activity, vote.activity_id)
            assert polls.check_choice(db, activity, vote.choice) == vote.choice, vote.choice
        for item in db.scalars(select(Item)):
            activity = db.get(Activity, item.activity_id)
            assert _clean(item.text, TEXT_LENGTH) and _clean(item.original_text, TEXT_LENGTH)
            assert item.author_name is None or _clean(item.author_name, boards.NAME_LENGTH)
            assert item.status in STATUSES
            assert 0 <= item.column < max(1, len(activity.settings["columns"]))
            assert item.client_id is None or len(item.client_id) <= 64
        for vote in db.scalars(select(BoardVote)):
            activity, item = db.get(Activity, vote.activity_id), db.get(Item, vote.item_id)
            assert item.status in PUBLISHED, (item.id, item.status)  # hidden ideas give dots back
            budget = activity.settings["budget"]
            assert (vote.slot is None) if not budget else 1 <= vote.slot <= budget
        per_person = Counter(db.execute(select(BoardVote.activity_id, BoardVote.participant_id)
                                        .where(BoardVote.slot.is_not(None))).all())
        for (activity_id, _), used in per_person.items():
            assert used <= db.get(Activity, activity_id).settings["budget"]
        for entry in db.scalars(select(WordEntry)):
            activity = db.get(Activity, entry.activity_id)
            assert _clean(entry.text, activity.settings["max_length"]), entry.text
            assert entry.slot is None or 1 <= entry.slot <= activity.settings["entries_per_participant"]
        for state in db.scalars(select(WordGroupState)):
            assert isinstance(state.key, str) and len(state.key) <= 200
            assert state.merged_into is None or len(state.merged_into) <= 200
        for entry in db.scalars(select(ModerationEntry)):
            assert entry.moderator is None or _clean(entry.moderator, boards.NAME_LENGTH)
            assert len(entry.action) <= 20 and entry.link in ("moderator", "facilitator")
        assert all(len(a) <= 30 for a in db.scalars(select(TimelineEntry.action)))
        assert all(len(c) <= 64 for c in db.scalars(select(ClientAck.client_id)))
        assert (db.scalar(select(func.count(Item.id))) or 0) <= 3 * 2 * boards.MAX_ITEMS_PER_PARTICIPANT + 60


def _assert_settings(db, activity) -> None:
    settings = dict(activity.settings)
    if activity.kind == "poll":
        labels = [o.label for o in polls.options_of(db, activity)]
        assert all(_clean(label, polls.OPTION_LENGTH) for label in labels)
        assert polls.check_definition(activity.type, labels, settings) == (labels, settings)
    elif activity.kind == "wordcloud":
        settings.pop("frozen", None)
        assert clouds.check_settings(settings) == settings
    else:
        assert boards.check_settings(activity.kind, settings, settings) == activity.settings
        for key in ("spotlight", "current"):
            value = settings.get(key)
            assert value is None or (isinstance(value, int) and db.get(Item, value) is not None)


def assert_alive(world) -> None:
    """The server answers: its health page, and a snapshot over a participant's socket."""
    assert world["app"].test_client().get("/healthz").status_code == 200
    ack = world["phones"][0][1].emit("sync", {"cid": cid()}, callback=True)
    assert ack["ok"] and ack["snapshot"]["session"]["id"] == world["ids"]["session"]


def assert_no_traceback(caplog, start: int) -> None:
    bad = [r for r in caplog.records[start:] if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
LIGHT = settings(FUZZ, max_examples=max(10, EXAMPLES // 2))  # doors with less behind them


# --- socket events ------------------------------------------------------------------------

PARTICIPANT_EVENTS = {
    "vote": ("activity", "choice"),
    "word:add": ("activity", "text"),
    "word:withdraw": ("activity", "entry"),
    "board_post": ("activity", "text", "column", "name"),
    "board_edit": ("activity", "item", "text"),
    "board_withdraw": ("activity", "item"),
    "board_vote": ("activity", "item", "take"),
    "sync": (),
}
STAFF_EVENTS = {
    "command": ("action", "activity"),
    "word:moderate": ("activity", "action", "key", "into"),
    "word:groups": ("activity",),
    "board_moderate": ("activity", "action", "items", "by", "text", "column", "into"),
    "board_display": ("activity", "sort", "spotlight", "current", "by"),
    "board_settings": ("activity", "settings"),
    "board_moderation": ("activity",),
    "sync": (),
}
# "end" would close the session and leave nothing else to fuzz: it is tried on its own below.
COMMANDS = [c for c in (*sessions.COMMANDS, "freeze", "unfreeze") if c != "end"]
ACTIONS = [*COMMANDS, *boards.MOD_ACTIONS, *clouds.MODERATION]
# How a payload goes wrong, if at all; "valid" (the shape a page sends, hostile texts included)
# comes most often so that the rules behind the first checks are reached.
MODES = ("valid", "valid", "valid", "valid", "junk_field", "junk_field", "missing_field",
         "extra_keys", "bad_cid", "not_a_dict")
TEXT = st.one_of(st.sampled_from(CORPUS_TEXTS), _texts())


def pick(values: list) -> st.SearchStrategy:
    """One of `values`, drawn as an index into them: the list changes from one example to the
    next (items get posted, withdrawn...), and hypothesis needs the draws to keep their shape."""
    values = list(values)
    return st.integers(0, 2**16).map(lambda n: values[n % len(values)])


def _activity_for(event: str, world) -> list[int]:
    a = world["ids"]["activities"]
    if event == "vote":
        return a[0:4]
    if event.startswith("word:"):
        return [a[4]]
    if event.startswith("board_"):
        return a[5:7]
    return a


def _valid(draw, name: str, event: str, activity: int, existing: dict):
    """A value of the shape the pages send for this field (texts from the hostile corpus)."""
    def some(kind, fallback=1):
        values = existing.get((kind, activity)) or existing.get(kind) or [fallback]
        return draw(pick(values))

    if name == "activity":
        return activity
    if name == "choice":
        options = existing.get(("options", activity)) or []
        if not options:  # a scale
            return draw(st.integers(0, 7))
        picked = draw(st.lists(pick(options), min_size=1, max_size=4))
        return picked if draw(st.booleans()) else picked[0]
    if name in ("text", "name", "by"):
        return draw(TEXT)
    if name in ("item", "spotlight", "current"):
        return draw(st.one_of(st.just(None), st.just(some("items")))) if name != "item" else some("items")
    if name == "entry":
        return some("entries")
    if name == "column":
        return draw(st.integers(0, 1))
    if name == "take":
        return draw(st.booleans())
    if name == "action":
        pool = {"command": COMMANDS, "word:moderate": list(clouds.MODERATION),
                "board_moderate": list(boards.MOD_ACTIONS)}[event]
        return draw(st.sampled_from(pool))
    if name == "key":
        return some("keys", "x")
    if name == "into":
        return some("keys", "x") if event.startswith("word") else some("refs", {"id": 1, "version": 1})
    if name == "items":
        refs = existing.get(("refs", activity)) or [{"id": 1, "version": 1}]
        return draw(st.lists(pick(refs), min_size=1, max_size=3))
    if name == "sort":
        return draw(st.sampled_from(boards.SORTS))
    if name == "settings":
        return draw(st.fixed_dictionaries({}, optional={
            "columns": st.one_of(st.lists(TEXT, max_size=8), TEXT), "budget": st.integers(-1, 21),
            "premoderation": st.booleans(), "stack": st.booleans(), "signed": st.booleans(),
            "wall_visible": st.booleans(), "sort": st.sampled_from(boards.SORTS)}))
    raise AssertionError(name)


@st.composite
def _payloads(draw, world, existing, events: dict):
    event = draw(st.sampled_from(sorted(events)))
    mode = draw(st.sampled_from(MODES))
    activity = draw(st.sampled_from(_activity_for(event, world)))
    payload = {name: _valid(draw, name, event, activity, existing) for name in events[event]}
    payload["cid"] = cid()
    fields = sorted(events[event])
    if mode == "junk_field" and fields:
        name = draw(st.sampled_from(fields))
        payload[name] = draw(st.one_of(st.sampled_from(ID_JUNK), VALUES))
    elif mode == "missing_field" and fields:
        payload.pop(draw(st.sampled_from(fields)))
    elif mode == "extra_keys":
        payload.update(draw(st.dictionaries(st.text(max_size=6), VALUES, min_size=1, max_size=3)))
    elif mode == "bad_cid":
        payload["cid"] = draw(VALUES)
    elif mode == "not_a_dict":
        payload = draw(VALUES)
    return event, payload


def _check_ack(event, payload, ack) -> None:
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, payload, ack)
    if not ack["ok"]:
        assert ack["error"]["code"] != "server_error", (event, payload, ack)
        assert ack["error"]["message"] and "Traceback" not in ack["error"]["message"]


def _socket_round(world, caplog, data, senders: dict, events: dict) -> None:
    start = len(caplog.records)
    existing = _existing(world["store"])
    for _ in range(data.draw(st.integers(1, 3))):
        event, payload = data.draw(_payloads(world, existing, events))
        sock = senders[data.draw(st.sampled_from(sorted(senders)))]
        ack = sock.emit(event, payload, callback=True)
        _check_ack(event, payload, ack)
    assert_no_traceback(caplog, start)
    assert_only_valid_data(world["store"])
    assert_alive(world)


def test_participant_socket_events_survive_hostile_payloads(world, caplog):
    senders = {f"phone{n}": sock for n, (_, sock) in enumerate(world["phones"])}

    @FUZZ
    @given(data=st.data())
    def run(data):
        _socket_round(world, caplog, data, senders, PARTICIPANT_EVENTS)

    run()


def test_staff_socket_events_survive_hostile_payloads(world, caplog):
    senders = {role: world["staff"][role] for role in ("facilitator", "moderator")}

    @FUZZ
    @given(data=st.data())
    def run(data):
        _socket_round(world, caplog, data, senders, STAFF_EVENTS)

    run()


def test_every_role_gets_an_ack_for_every_event_with_junk(world, caplog):
    """Any role, any event name (the wrong role too): an ack, never a crash."""
    senders = {"phone": world["phones"][0][1], **world["staff"]}
    every = {**PARTICIPANT_EVENTS, **STAFF_EVENTS}

    @FUZZ
    @given(data=st.data())
    def run(data):
        _socket_round(world, caplog, data, senders, every)

    run()
    ack = world["staff"]["facilitator"].emit("command", {"cid": cid(), "action": "end"}, callback=True)
    assert ack["ok"]  # ended: every participant event is now refused cleanly
    for event, fields in PARTICIPANT_EVENTS.items():
        ack = world["phones"][1][1].emit(event, {"cid": cid(), **dict.fromkeys(fields, 1)}, callback=True)
        _check_ack(event, fields, ack)
    assert_no_traceback(caplog, 0)
    assert_only_valid_data(world["store"])


# --- forms --------------------------------------------------------------------------------

def _form_routes(world, existing) -> list[tuple[str, str, dict]]:
    """(who, path, {field: strategy of a value of the shape the page sends}) for every
    state-changing form. Texts come from the hostile corpus even when "valid"."""
    from urllib.parse import quote

    ids = world["ids"]
    code, f, m = ids["code"], ids["facilitator"], ids["moderator"]
    a = ids["activities"]
    polls_, cloud, wall, qa = a[0:4], a[4], a[5], a[6]
    text = st.one_of(st.sampled_from([t for t in CORPUS_TEXTS if "\ud800" not in t]),
                     _texts(alphabet_ok_for_forms=True))
    small = st.integers(0, 12).map(str)
    form_cid = st.text("abcdef0123456789", min_size=6, max_size=12)

    def of(kind, activity=None, fallback=(1,)):
        values = existing.get((kind, activity)) if activity else existing.get(kind)
        return pick([str(v) for v in (values or fallback)])

    def refs(activity):
        return pick([f"{r['id']}:{r['version']}" for r in existing.get(("refs", activity), [])] or ["1:1"])

    poll = st.sampled_from(polls_)
    choice = poll.flatmap(lambda p: st.lists(of("options", p, fallback=range(1, 8)), min_size=1, max_size=4))
    ranked = existing.get(("options", polls_[3])) or [1, 2, 3]
    ranks = st.lists(st.integers(0, 4), min_size=3, max_size=3).map(  # ties and gaps too
        lambda positions: {f"rank_{o}": str(p) for o, p in zip(ranked, positions, strict=False)})
    entries = existing.get(("entries", cloud)) or [1]  # in the path: the newest one
    keys = pick(existing.get(("keys", cloud)) or ["x"])
    board = st.sampled_from([wall, qa]).map(str)
    return [
        ("phone", f"/j/{code}/vote", {"activity": poll.map(str), "choice": choice, "cid": form_cid}),
        ("phone", f"/j/{code}/vote", {"activity": st.just(str(polls_[3])), "rank_": ranks,
                                      "cid": form_cid}),
        ("phone", f"/j/{code}/words", {"activity": st.just(str(cloud)), "text": text, "cid": form_cid}),
        ("phone", f"/j/{code}/words/{entries[-1]}/withdraw", {"activity": st.just(str(cloud)),
                                                              "cid": form_cid}),
        ("phone", f"/j/{code}/words/{10**20}/withdraw", {"activity": st.just(str(cloud)),
                                                         "cid": form_cid}),
        ("phone", f"/j/{code}/boards/post", {"activity": board, "text": text, "name": text,
                                             "column": st.integers(0, 2).map(str), "cid": form_cid}),
        ("phone", f"/j/{code}/boards/vote", {"activity": board, "item": of("items"),
                                             "take": st.sampled_from(["0", "1"]), "cid": form_cid}),
        ("phone", f"/j/{code}/boards/withdraw", {"activity": board, "item": of("items"), "cid": form_cid}),
        ("staff", f"/f/{f}/command", {"action": st.sampled_from(COMMANDS),
                                      "activity": st.sampled_from(a).map(str)}),
        ("staff", f"/f/{f}/polls", {"type": st.sampled_from(["single", "multiple", "scale", "ranking"]),
                                    "prompt": text, "options": text, "max_choices": small,
                                    "scale_max": small, "label_low": text, "label_high": text}),
        ("staff", f"/f/{f}/polls/{polls_[0]}", {"prompt": text, "options": text, "max_choices": small}),
        ("staff", f"/f/{f}/wordclouds", {"prompt": text, "entries_per_participant": small,
                                         "max_length": st.integers(5, 90).map(str),
                                         "show_on_phones": st.just("on")}),
        ("staff", f"/f/{f}/wordclouds/{cloud}", {"prompt": text, "entries_per_participant": small,
                                                 "max_length": st.integers(5, 90).map(str),
                                                 "hold_profanity": st.just("on")}),
        ("staff", f"/f/{f}/boards", {"kind": st.sampled_from(["ideas", "questions"]), "prompt": text,
                                     "columns": text, "budget": small, "premoderation": st.just("on"),
                                     "sort": st.sampled_from(boards.SORTS)}),
        ("staff", f"/f/{f}/presets", {"preset": st.sampled_from(["yesno", "scale", "abcd", "word",
                                                                 "questions", "<x>"]),
                                      "prompt": text, "launch": st.just("on")}),
        ("staff", f"/f/{f}/boards/{wall}/settings", {
            "prompt": text, "column_0": text, "remove_0": st.just("on"), "column_1": text,
            "column_new": text, "budget": small, "sort": st.sampled_from(boards.SORTS),
            "stack": st.just("on")}),
        ("staff", f"/f/{f}/boards/{qa}/display", {"sort": st.sampled_from(boards.SORTS),
                                                  "spotlight": of("items", qa), "current": of("items", qa)}),
        ("staff", f"/m/{m}/boards/{qa}/display", {"current": of("items", qa)}),
        ("staff", f"/m/{m}/boards/{wall}/moderate", {
            "act": st.builds(lambda x, r: f"{x}:{r}", st.sampled_from(boards.MOD_ACTIONS), refs(wall)),
            "by": text}),
        ("staff", f"/m/{m}/boards/{wall}/moderate", {"edit": refs(wall), "text_1": text, "by": text}),
        ("staff", f"/m/{m}/boards/{wall}/moderate", {
            "merge_pair": st.builds(lambda x, y: f"{x}|{y}", refs(wall), refs(wall)), "by": text}),
        ("staff", f"/m/{m}/boards/{wall}/moderate", {
            "item": st.lists(refs(wall), min_size=1, max_size=3), "into": refs(wall), "by": text,
            "action": st.sampled_from(boards.MOD_ACTIONS), "column": st.integers(0, 2).map(str)}),
        ("staff", f"/m/{m}/words/{cloud}", {"action": st.sampled_from(clouds.MODERATION), "key": keys,
                                            "into": keys}),
        ("staff", f"/f/{f}/activities/{a[1]}/move", {"direction": st.sampled_from(["up", "down"])}),
        ("staff", f"/f/{f}/activities/{10**20}/delete", {}),
        ("staff", "/admin/start", {}),
        ("staff", "/admin/events", {"title": text, "place": text, "date": st.dates().map(str)}),
        ("staff", f"/admin/events/{ids['event']}/sessions", {
            "kind": st.sampled_from(["round_table", "workshop"]), "title": text, "place": text,
            "date": st.dates().map(str), "locale": st.sampled_from(["fr", "en"])}),
        # Organiser forms that would end the fuzzed session's links or data act on another id.
        ("staff", f"/admin/sessions/{10**20}/links/facilitator", {}),
        ("staff", f"/admin/sessions/{ids['session']}/links/{quote('<x>', safe='')}", {}),
        ("staff", f"/admin/archive/sessions/{10**20}/purge", {"confirm": st.just("yes"),
                                                             "unexported": st.just("yes")}),
        ("staff", "/admin/archive/retention", {"days": st.one_of(small, st.sampled_from(NUMERIC_TEXT))}),
        ("staff", "/admin/archive/retention/apply", {"confirm": st.just("yes")}),
        ("staff", "/admin/login", {"password": text}),
    ]


FORM_JUNK = st.one_of(st.sampled_from(NUMERIC_TEXT), st.integers().map(str),
                      st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
                      st.lists(st.sampled_from(NUMERIC_TEXT), min_size=2, max_size=3))


@st.composite
def _form(draw, routes):
    who, path, fields = draw(st.sampled_from(routes))
    data = {name: draw(strategy) for name, strategy in fields.items()}
    mode = draw(st.sampled_from(MODES))
    names = sorted(data)
    if mode in ("junk_field", "bad_cid", "not_a_dict") and names:
        data[draw(st.sampled_from(names))] = draw(FORM_JUNK)
    elif mode == "missing_field" and names:
        data.pop(draw(st.sampled_from(names)))
    elif mode == "extra_keys":
        data.update(draw(st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
                                         FORM_JUNK, min_size=1, max_size=2)))
    if isinstance(data.get("rank_"), dict):
        data.update(data.pop("rank_"))
    return who, path, data


def test_every_form_survives_hostile_posts(world, caplog):
    app = world["app"]
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as the 500 a browser gets
    staff_browser = app.test_client()

    @FUZZ
    @given(data=st.data())
    def run(data):
        start = len(caplog.records)
        routes = _form_routes(world, _existing(world["store"]))
        who, path, form = data.draw(_form(routes))
        browser = world["phones"][data.draw(st.integers(0, 2))][0] if who == "phone" else staff_browser
        response = browser.post(path, data=form, headers={"Accept-Language": "en"})
        assert response.status_code < 500, (path, form, response.status_code)
        assert b"Traceback" not in response.data
        assert_no_traceback(caplog, start)
        assert_only_valid_data(world["store"])
        assert_alive(world)

    run()


# --- the handshake and the pages ------------------------------------------------------------

def test_the_socket_handshake_survives_hostile_auth(world, caplog):
    """Any `auth` (codes, tokens and languages from the corpus, wrong types): connected with a
    role, or refused with a reason; never a crash."""
    app, ids = world["app"], world["ids"]
    auth_values = st.one_of(st.sampled_from([ids["code"], ids["code"].lower(), ids["facilitator"],
                                             ids["screen"], "fr", "en"]), VALUES)
    auths = st.one_of(st.fixed_dictionaries({}, optional={"code": auth_values, "token": auth_values,
                                                          "lang": auth_values}), VALUES)

    @LIGHT
    @given(auth=auths, with_cookie=st.booleans())
    def run(auth, with_cookie):
        start = len(caplog.records)
        browser = world["phones"][0][0] if with_cookie else app.test_client()
        sock = socketio.test_client(app, auth=auth, flask_test_client=browser)
        try:
            if sock.is_connected():
                snapshot = [e for e in sock.get_received() if e["name"] == "snapshot"]
                assert snapshot and snapshot[-1]["args"][0]["session"]["id"] == ids["session"]
        finally:
            if sock.is_connected():
                sock.disconnect()
        assert_no_traceback(caplog, start)
        assert_alive(world)

    run()


def test_pages_survive_hostile_addresses(world, caplog):
    """GET pages with codes, tokens, ids and query strings from the corpus: never a 500."""
    from urllib.parse import quote, urlencode

    app, ids = world["app"], world["ids"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    a = ids["activities"]
    part = st.one_of(st.sampled_from([t for t in CORPUS_TEXTS if "\ud800" not in t and len(t) < 2000]),
                     st.sampled_from(NUMERIC_TEXT), st.text(st.characters(exclude_categories=("Cs",)),
                                                            max_size=30))
    number = st.one_of(st.sampled_from(a), st.integers(0, 2**70))
    paths = st.one_of(
        part.map(lambda x: "/join?" + urlencode({"code": x})),
        part.map(lambda x: f"/j/{quote(x, safe='')}"), part.map(lambda x: f"/j/{quote(x, safe='')}/qr.svg"),
        part.map(lambda x: f"/screen/{quote(x, safe='')}"), part.map(lambda x: f"/f/{quote(x, safe='')}"),
        part.map(lambda x: f"/m/{quote(x, safe='')}"),
        st.builds(lambda n, t, th: f"/cloud/{n}.svg?" + urlencode({"t": t, "theme": th, "v": t}),
                  number, st.one_of(st.just(ids["screen"]), part), part),
        number.map(lambda n: f"/f/{ids['facilitator']}/boards/{n}/settings"),
        number.map(lambda n: f"/f/{ids['facilitator']}/polls/{n}"),
        number.map(lambda n: f"/f/{ids['facilitator']}/wordclouds/{n}"),
        part.map(lambda x: f"/j/{ids['code']}?" + urlencode({"lang": x, "activity": x})),
    )

    @LIGHT
    @given(path=paths)
    def run(path):
        start = len(caplog.records)
        response = world["phones"][1][0].get(path, headers={"Accept-Language": "en"})
        assert response.status_code < 500, (path, response.status_code)
        assert_no_traceback(caplog, start)

    run()


# --- archive import -------------------------------------------------------------------------

def _leaves(doc, path=()):
    """Every (path, value) of a JSON document's scalars, lists and objects."""
    yield path, doc
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _leaves(value, (*path, index))


def _replaced(doc, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _replaced(doc[head], rest, value)
    return copy


def _zip_with(archive: bytes, session_json: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = session_json if info.filename.endswith("session.json") else source.read(info)
            target.writestr(info.filename, data)
    return out.getvalue()


def test_archive_import_stores_only_what_the_ui_could_have_produced(world, caplog):
    """A real export of the fuzzed session, one value of its session.json replaced by a hostile
    one (or the file replaced by junk): imported as it is valid, or refused; never a 500, and
    what is stored passes the same checks as what the pages store."""
    import io
    import zipfile

    app, ids = world["app"], world["ids"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    organiser = app.test_client()
    response = organiser.get(f"/f/{ids['facilitator']}/archive.zip")
    assert response.status_code == 200, response.status_code
    archive = response.data
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        name = next(n for n in source.namelist() if n.endswith("session.json"))
        base = json.loads(source.read(name))
    paths = [path for path, _ in _leaves(base) if path]
    hostile = st.one_of(st.sampled_from(ID_JUNK), st.sampled_from([v for v in CORPUS_VALUES if v == v]),
                        VALUES.filter(lambda v: v == v))  # NaN is not JSON

    @settings(FUZZ, max_examples=max(8, EXAMPLES // 4))
    @given(path=pick(paths), value=hostile, junk=st.one_of(st.none(), st.binary(max_size=64)))
    def run(path, value, junk):
        start = len(caplog.records)
        doc = json.dumps(_replaced(base, path, value)).encode()  # a lone surrogate goes escaped
        upload = junk if junk is not None and not junk.startswith(b"PK") else _zip_with(archive, doc)
        response = organiser.post("/admin/archive/import", content_type="multipart/form-data",
                                  data={"archive": (io.BytesIO(upload), "session.zip")})
        assert response.status_code < 500, (path, value, response.status_code)
        assert_no_traceback(caplog, start)
        assert_only_valid_data(world["store"])
        assert_alive(world)

    run()
