"""One definition of valid, for every door: forms, socket events and archive uploads refuse the
same values with the same message, and an archive the UI could not have produced writes nothing."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import zipfile

import pytest
from archive_helpers import SCHEMA, seed_session
from conftest import add_poll, cid, command
from sqlalchemy import func, select

from live import validation
from live.archive import export
from live.boards import service as boards
from live.polls import service as polls
from live.polls.model import Vote
from live.realtime import socketio
from live.sessions import service as sessions
from live.sessions.model import Activity, Event, LiveSession, Participant, TimelineEntry


def _counts(store) -> tuple:
    with store.read() as db:
        return tuple(db.scalar(select(func.count()).select_from(t))
                     for t in (Event, LiveSession, Participant, Activity, TimelineEntry))


@pytest.fixture
def exported(store, live):
    """A real export: four polls with votes, an idea wall and a Q&A (session ended)."""
    seed_session(store, live["id"], voters=6, end=False)
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        boards.add_board(db, s, "ideas", "Vos idées ?", {"columns": ["Court terme", "Long terme"]})
        boards.add_board(db, s, "questions", "Vos questions ?")
        sessions.end_session(db, s, "facilitator")
    with store.read() as db:
        _, _, doc = export.session_zip(db, live["id"])
    return doc


def _archive(doc: dict, pad: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("session.json", json.dumps(doc).encode() + pad)
    return buffer.getvalue()


def _upload(client, data: bytes, lang: str = "en") -> str:
    response = client.post(f"/admin/archive/import?lang={lang}",
                           data={"archive": (io.BytesIO(data), "forged.zip")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _activity(doc: dict, kind: str, poll_type: str | None = None) -> dict:
    return next(a for a in doc["activities"]
                if a["kind"] == kind and (poll_type is None or a["type"] == poll_type))


def _scale_huge(doc):
    _activity(doc, "poll", "scale")["settings"]["scale_max"] = 10**9


def _columns_number(doc):
    _activity(doc, "ideas")["settings"]["columns"] = 12345


def _many_columns(doc):
    _activity(doc, "ideas")["settings"]["columns"] = [f"c{n}" for n in range(12345)]


def _leading_tab(doc):
    _activity(doc, "poll", "single")["prompt"] = "\tAvez-vous mesuré ?"


def _carriage_return_option(doc):
    _activity(doc, "poll", "ranking")["options"][0]["label"] = "\rÉcoconcevoir"


def _settings_string(doc):
    _activity(doc, "poll", "scale")["settings"]["label_low"] = "x" * 5000


def _checkbox_as_text(doc):
    _activity(doc, "questions")["settings"]["signed"] = "on"


def _unknown_setting(doc):
    _activity(doc, "poll", "single")["settings"]["colour"] = "red"


def _scale_vote_beyond_the_scale(doc):
    _activity(doc, "poll", "scale")["votes"][0]["choice"] = [9]


def _ranking_with_a_tie(doc):
    vote = _activity(doc, "poll", "ranking")["votes"][0]
    vote["choice"] = [vote["choice"][0]] * len(vote["choice"])


def _dot_beyond_the_budget(doc):
    _activity(doc, "ideas")["votes"].append(
        {"participant": "p1", "item": "i1", "slot": 7, "created_at": doc["session"]["ended_at"]})
    _activity(doc, "ideas")["items"].append(
        {"ref": "i1", "column": 1, "text": "Réparer", "original_text": "Réparer", "author": "p1",
         "author_name": None, "state": "visible", "flagged": False, "pinned": False, "highlighted": False,
         "answered": False, "score": 1, "merged_into": None, "history": [],
         "created_at": doc["session"]["ended_at"], "updated_at": doc["session"]["ended_at"],
         "answered_at": None})


def _detail_object(doc):
    doc["timeline"][0]["detail"] = {"nested": {"deep": [1, 2, 3]}}


FORGED = {
    "scale_max 10^9": (_scale_huge, "at activities/1/settings: A scale goes from 1 to a number between 2 "
                       "and 10"),
    "columns: 12345": (_columns_number, "at activities/4/settings: An idea wall has between 1 and 6 columns"),
    "12345 columns": (_many_columns, "at activities/4/settings: An idea wall has between 1 and 6 columns"),
    "leading TAB": (_leading_tab, "at activities/0/prompt: The question holds characters a form would have "
                    "removed (control characters, spaces at either end))"),
    "leading CR": (_carriage_return_option, "at activities/2/options/0: The option holds characters"),
    "long setting": (_settings_string, "at activities/1/settings/label_low: The text is too long "
                     "(at most 300 characters)"),
    "checkbox text": (_checkbox_as_text, "at activities/5/settings: These settings are not valid"),
    "unknown setting": (_unknown_setting, "at activities/0/settings: These settings are not valid"),
    "scale vote": (_scale_vote_beyond_the_scale, "at activities/1/votes/0: Choose a value between 1 and 5)"),
    "ranking tie": (_ranking_with_a_tie, "at activities/2/votes/0: The same option was chosen twice"),
    "dot beyond budget": (_dot_beyond_the_budget, "at activities/4/votes/0/slot: The number of votes must be "
                          "between 1 and 3)"),
    "detail object": (_detail_object, "at timeline/0/detail: A timeline entry's detail is not valid"),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_forged_archive_is_refused_with_its_reason_and_nothing_is_written(client, store, exported, case):
    forge, reason = FORGED[case]
    doc = json.loads(json.dumps(exported))
    forge(doc)
    before = _counts(store)
    page = _upload(client, _archive(doc))
    assert f"Refused: session.json holds something Palabre could not have produced ({reason}" in page
    assert "Nothing was imported." in page
    assert _counts(store) == before


def test_the_refusal_speaks_french(client, store, exported):
    doc = json.loads(json.dumps(exported))
    _leading_tab(doc)
    page = _upload(client, _archive(doc), lang="fr")
    assert ("Refusé : session.json contient ce que Palabre n’aurait pas pu produire (à activities/0/prompt : "
            "Le champ « question » contient des caractères qu’un formulaire aurait retirés") in page
    assert "Rien n’a été importé" in page


def test_a_50_mb_string_in_a_timeline_detail_is_refused_and_nothing_written(client, store, exported):
    doc = json.loads(json.dumps(exported))
    # Random letters (compress like text, not like a bomb): the size check, not the ratio, refuses.
    huge = base64.b64encode(os.urandom(37_500_000)).decode()
    assert len(huge) >= 50_000_000
    doc["timeline"][0]["detail"] = {"prompt": huge}
    before = _counts(store)
    page = _upload(client, _archive(doc))
    assert "could not have produced (at timeline/0/detail/prompt: The text is too long (at most 300" in page
    assert _counts(store) == before


def test_the_untouched_export_imports(client, store, exported):
    before = _counts(store)
    page = _upload(client, _archive(exported))
    assert "Imported: 1 session, read only." in page
    assert _counts(store)[1] == before[1] + 1


# --- the same value through every door -------------------------------------------------------

@pytest.mark.parametrize("settings, form, expected", [
    ({"budget": 999}, {"budget": "999", "columns": "Idées"}, "The number of votes must be between 1 and 20."),
    ({"columns": [f"c{n}" for n in range(7)]}, {"columns": "\n".join(f"c{n}" for n in range(7))},
     "An idea wall has between 1 and 6 columns."),
    ({"columns": ["x" * 41]}, {"columns": "x" * 41}, "The column name is too long (at most 40 characters)."),
    ({"sort": "random"}, {"sort": "random", "columns": "Idées"}, "Sort by votes or by time."),
])
def test_form_socket_and_archive_refuse_the_same_settings_with_the_same_message(
        app, client, store, live, exported, settings, form, expected):
    with store.write() as db:  # `exported` ended the first session: a second one, in the same event
        other = sessions.create_session(db, sessions.get_session(db, live["id"]).event, "workshop", "Atelier")
        board, token = boards.add_board(db, other, "ideas", "Idées ?").id, other.facilitator_token
    with store.read() as db:
        before = dict(db.get(Activity, board).settings)
    page = html.unescape(client.post(f"/f/{token}/boards/{board}/settings?lang=en", data=form,
                                     follow_redirects=True).get_data(as_text=True))
    assert expected in page
    sock = socketio.test_client(app, auth={"token": token, "lang": "en"})
    ack = sock.emit("board_settings", {"cid": cid(), "activity": board, "settings": settings}, callback=True)
    sock.disconnect()
    assert ack["ok"] is False and ack["error"]["message"] == expected
    doc = json.loads(json.dumps(exported))
    _activity(doc, "ideas")["settings"].update(settings)
    assert expected.rstrip(".") in _upload(client, _archive(doc))
    with store.read() as db:
        assert db.get(Activity, board).settings == before


# --- the ranking form, plurals ----------------------------------------------------------------

@pytest.fixture
def ranking(store, live):
    activity = add_poll(store, live["id"], "ranking", ("A", "B", "C"))
    command(store, live["id"], "show", activity)
    command(store, live["id"], "open", activity)
    with store.read() as db:
        options = [o.id for o in polls.options_of(db, db.get(Activity, activity))]
    return activity, options


def _rank(client, live, activity: int, ranks: dict) -> str:
    client.get(f"/j/{live['code']}")
    data = {"activity": str(activity), **{f"rank_{option}": str(place) for option, place in ranks.items()}}
    response = client.post(f"/j/{live['code']}/vote?lang=en", data={"cid": cid(), **data},
                           follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("places", [(1, 1, 2), (1, 2, 4), (0, 1, 2), (1, 2, "x"), (1, 2)])
def test_the_ranking_form_refuses_ties_gaps_and_places_out_of_range(client, store, live, ranking, places):
    activity, options = ranking
    page = _rank(client, live, activity, dict(zip(options, places, strict=False)))
    assert "Give each option a different place, from 1 to 3." in page
    with store.read() as db:
        assert db.scalar(select(func.count(Vote.id)).where(Vote.activity_id == activity)) == 0


def test_the_ranking_form_stores_the_order_given(client, store, live, ranking):
    activity, options = ranking
    page = _rank(client, live, activity, {options[0]: 3, options[1]: 1, options[2]: 2})
    assert "Your answer is saved." in page
    with store.read() as db:
        assert db.scalar(select(Vote.choice).where(Vote.activity_id == activity)) == [
            options[1], options[2], options[0]]


@pytest.mark.parametrize("lang, expected", [("en", "Choose at most 1 option."),
                                            ("fr", "Choisissez au plus 1 option.")])
def test_at_most_one_option_is_said_in_the_singular(app, store, live, lang, expected):
    activity = add_poll(store, live["id"], "multiple", ("A", "B", "C"), max_choices=1)
    command(store, live["id"], "show", activity)
    command(store, live["id"], "open", activity)
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    sock = socketio.test_client(app, auth={"code": live["code"], "lang": lang}, flask_test_client=browser)
    with store.read() as db:
        options = [o.id for o in polls.options_of(db, db.get(Activity, activity))]
    ack = sock.emit("vote", {"cid": cid(), "activity": activity, "choice": options[:2]}, callback=True)
    sock.disconnect()
    assert ack["error"]["message"] == expected


# --- the schema repeats the limits ------------------------------------------------------------

def test_the_archive_schema_states_the_validators_limits():
    defs = SCHEMA["$defs"]
    poll = defs["poll"]["properties"]
    assert poll["settings"]["properties"]["scale_max"]["maximum"] == validation.MAX_SCALE
    assert poll["settings"]["properties"]["label_low"]["maxLength"] == validation.SCALE_LABEL_LENGTH
    assert poll["settings"]["properties"]["max_choices"]["maximum"] == validation.MAX_OPTIONS
    assert poll["options"]["maxItems"] == validation.MAX_OPTIONS
    assert poll["options"]["items"]["properties"]["label"]["maxLength"] == validation.OPTION_LENGTH
    cloud = defs["wordcloud"]["properties"]["settings"]["properties"]
    assert cloud["entries_per_participant"]["maximum"] == validation.MAX_ENTRIES
    assert (cloud["max_length"]["minimum"], cloud["max_length"]["maximum"]) == validation.ENTRY_LENGTH_RANGE
    board = defs["board"]["properties"]
    assert board["settings"]["properties"]["columns"]["maxItems"] == validation.MAX_COLUMNS
    assert board["settings"]["properties"]["columns"]["items"]["maxLength"] == validation.COLUMN_LENGTH
    assert board["settings"]["properties"]["budget"]["maximum"] == validation.MAX_BUDGET
    assert board["items"]["items"]["properties"]["column"]["maximum"] == validation.MAX_COLUMNS - 1
    assert board["items"]["items"]["properties"]["text"]["maxLength"] == validation.ITEM_LENGTH
    assert defs["activity"]["properties"]["prompt"]["maxLength"] == validation.PROMPT_LENGTH
    assert defs["text200"]["maxLength"] == validation.TITLE_LENGTH
    detail = SCHEMA["properties"]["timeline"]["items"]["properties"]["detail"]
    assert detail["maxProperties"] == validation.DETAIL_KEYS
    assert detail["additionalProperties"]["maxLength"] == validation.DETAIL_VALUE_LENGTH


def test_the_export_of_a_live_session_passes_its_own_import_checks(store, exported):
    from live.archive.importer import parse_document

    assert parse_document(json.dumps(exported).encode())["session"] == exported["session"]


@pytest.mark.parametrize("lang, hint, script", [
    ("en", "Choose up to 1 answer.", "Choose at most {n} option."),
    ("fr", "Choisissez jusqu’à 1 réponse.", "Choisissez au plus {n} option."),
])
def test_the_participant_page_says_one_answer_in_the_singular(client, store, live, lang, hint, script):
    activity = add_poll(store, live["id"], "multiple", ("A", "B", "C"), max_choices=1)
    command(store, live["id"], "show", activity)
    command(store, live["id"], "open", activity)
    page = html.unescape(client.get(f"/j/{live['code']}?lang={lang}").get_data(as_text=True))
    assert hint in page  # the page without JavaScript
    assert json.dumps(script, ensure_ascii=False)[1:-1] in page.replace("\\u2019", "’")  # the script's
