"""Session archives: schema, files, CSVs parsed back against the database, formula neutralisation."""

from __future__ import annotations

import json

import pytest
from archive_helpers import seed_session, unzip, validate
from sqlalchemy import select

from live.archive import export
from live.archive.csvsafe import is_formula, neutralise, read_csv, restore, to_csv
from live.polls.model import Vote
from live.sessions.model import Participant


@pytest.fixture
def archive(store, live):
    seed_session(store, live["id"])
    with store.read() as db:
        data, name, doc = export.session_zip(db, live["id"])
    return {"files": unzip(data), "name": name, "doc": doc}


def test_every_exported_archive_matches_the_schema(archive):
    doc = json.loads(archive["files"]["session.json"])
    validate(doc)
    assert doc["schema_version"] == 1
    assert archive["name"].startswith("palabre-2022-04-05-table-ronde")


def test_the_archive_holds_every_part(archive):
    names = set(archive["files"])
    for expected in ("session.json", "report.html", "README.txt", "archive.schema.json",
                     "participants.csv", "timeline.csv", "participation.svg", "participation.png"):
        assert expected in names
    for i in range(1, 5):
        for suffix in (".csv", "-votes.csv", "-results.svg", "-results.png"):
            assert f"activities/0{i}-poll{suffix}" in names


def test_participants_are_pseudonymous(archive, store, live):
    raw = archive["files"]["session.json"].decode()
    with store.read() as db:
        keys = list(db.scalars(select(Participant.device_key)))
        ids = list(db.scalars(select(Participant.id)))
    assert not any(key in raw for key in keys)
    doc = json.loads(raw)
    assert [p["id"] for p in doc["participants"]] == [f"p{i}" for i in range(1, len(ids) + 1)]
    assert "device" not in raw


@pytest.mark.parametrize("text", ["=1+1", "+A1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1",
                                  "-5 degrees\n=1+1", "-1 cmd|' /C calc'!A0", "+5 (HYPERLINK)",
                                  "-abc", "-", "'=1+1", "''@A1"])
def test_formula_cells_are_neutralised(text):
    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text
    data = to_csv(["h"], [[text]], "fr")
    assert data.startswith("\ufeff".encode())
    assert read_csv(data, "fr")[1] == [text]


@pytest.mark.parametrize("text", ["-5 degrees", "+33 6 12 34 56 78", "-3,5 %", "+1", "-12.5 °C",
                                  "'-5 degrees", "'quoted'"])
def test_text_that_is_no_formula_is_kept_as_typed(text):
    """A sign then a number and words is text: no quote is added, and it reads back the same."""
    assert neutralise(text) == text
    data = to_csv(["h"], [[text]], "en")
    assert data.decode("utf-8-sig").splitlines()[1].strip('"') == text
    assert read_csv(data, "en")[1] == [text]


def test_no_cell_of_any_csv_starts_like_a_formula(archive):
    for name, data in archive["files"].items():
        if name.endswith(".csv"):
            assert data.startswith(b"\xef\xbb\xbf"), name
            import csv
            import io

            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
            for row in rows:
                for cell in row:
                    assert not is_formula(cell), (name, cell)


def test_vote_csvs_parse_back_to_the_database(archive, store, live):
    doc = archive["doc"]
    with store.read() as db:
        people = list(db.scalars(select(Participant).order_by(Participant.joined_at, Participant.id)))
        pseudonym = {p.id: f"p{i}" for i, p in enumerate(people, start=1)}
        for number, activity in enumerate(doc["activities"], start=1):
            rows = read_csv(archive["files"][f"activities/0{number}-poll-votes.csv"], "fr")[1:]
            votes = db.scalars(select(Vote).join(Participant).where(
                Vote.activity_id == _activity_id(db, live["id"], number)))
            label = {i + 1: o["label"] for i, o in enumerate(activity["options"])}
            option_position = _option_positions(db, _activity_id(db, live["id"], number))
            expected = {}
            for v in votes:
                if activity["type"] == "scale":
                    answer = str(v.choice[0])
                else:
                    answer = " | ".join(label[option_position[c]] for c in v.choice)
                expected[pseudonym[v.participant_id]] = answer
            assert {r[0]: r[1] for r in rows} == expected


def test_result_csvs_match_the_tallies(archive):
    for number, activity in enumerate(archive["doc"]["activities"], start=1):
        rows = read_csv(archive["files"][f"activities/0{number}-poll.csv"], "fr")[1:]
        results = activity["results"]
        if activity["type"] == "scale":
            assert [int(r[1]) for r in rows] == [b["count"] for b in results["buckets"]]
        elif activity["type"] == "ranking":
            assert [(r[0], int(r[1])) for r in rows] == [(o["label"], o["score"]) for o in results["options"]]
        else:
            assert [(r[0], int(r[1])) for r in rows] == [(o["label"], o["count"]) for o in results["options"]]
            assert all("," in r[2] or r[2] == "0" for r in rows if r[1] != "0")


def test_the_report_is_standalone(archive):
    html = archive["files"]["report.html"].decode()
    assert "http://" not in html.replace("http://example.invalid", "")
    assert "<script" not in html.lower()
    assert "src=\"data:image/svg+xml;base64," in html
    assert "Compte rendu de la session" in html


def test_a_french_session_gets_french_files(archive):
    assert read_csv(archive["files"]["activities/01-poll.csv"], "fr")[0] == ["option", "votes", "pourcentage"]
    html = archive["files"]["report.html"].decode()
    assert "La session en bref" in html and "Session facts" not in html


def test_every_archive_word_is_in_the_french_catalogue():
    from babel.messages.pofile import read_po

    from live.archive.labels import TRANSLATIONS, catalogue_entries, labels_for

    with open(TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po", "rb") as source:
        catalog = {(m.context, m.id): m.string for m in read_po(source, locale="fr")}
    french = labels_for("fr")
    for key, (context, msgid) in catalogue_entries().items():
        assert catalog.get((context, msgid)), (key, context, msgid)
        assert french[key] == catalog[context, msgid], key
    assert labels_for("en")["state_hidden"] == labels_for("en")["mod_hide"] == "hidden"
    hidden = [french[key] for key in ("hidden", "state_hidden", "mod_hide")]
    assert hidden == ["masqué", "masquée", "masquages"]
    assert labels_for("de") == french  # a language without a catalogue: French, as before


def test_an_english_session_gets_english_files(store, live):
    with store.write() as db:
        from live.sessions import service

        service.get_session(db, live["id"]).locale = "en"
    seed_session(store, live["id"], voters=5)
    with store.read() as db:
        files = unzip(export.session_zip(db, live["id"])[0])
    assert read_csv(files["activities/01-poll.csv"], "en")[0] == ["option", "votes", "percent"]
    assert "Session report" in files["report.html"].decode()


def _activity_id(db, session_id, number):
    from live.sessions import service

    return service.get_session(db, session_id).activities[number - 1].id


def _option_positions(db, activity_id):
    from live.polls.model import Option

    return {o.id: o.position for o in db.scalars(select(Option).where(Option.activity_id == activity_id))}
