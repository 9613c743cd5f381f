"""The room's pulse in the archive: pace marks, raised hands and quick reactions in session.json
(valid against the schema), their CSV files (formula-neutralised names), the report's pulse
timeline chart (SVG), the import round trip, and references an archive may not break."""

import csv
import io
import json
from datetime import timedelta

import pytest
from archive_helpers import unzip, validate

from live.archive import export, importer
from live.archive.contents import ImportRefused
from live.archive.document import without_export_metadata
from live.pulse import service
from live.sessions import service as sessions
from live.store import utcnow


def _seed_pulse(store, session_id):
    """Three participants over ten minutes: paces, three hands (spoke, lowered, still up), reactions."""
    start = utcnow() - timedelta(minutes=10)
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        service.switch(db, s, True)
        a, b, c = (sessions.join(db, s, key) for key in ("a", "b", "c"))
        for minute, person, pace in ((0, a, "fast"), (1, b, "fast"), (4, a, "ok"), (8, c, "slow")):
            service.mark_pace(db, s, person, pace, now=start + timedelta(minutes=minute))
        service.raise_hand(db, s, a, "=HYPERLINK(\"x\")", now=start + timedelta(minutes=2))
        service.raise_hand(db, s, b, None, now=start + timedelta(minutes=3))
        hand = service.queue(db, session_id)[0]["hand"]
        service.hand_done(db, s, hand, now=start + timedelta(minutes=5))
        service.lower_hand(db, s, b, now=start + timedelta(minutes=6))
        service.raise_hand(db, s, c, "Chloé", now=start + timedelta(minutes=7))
        for minute, person, name in ((1, a, "clap"), (1, b, "clap"), (6, c, "question"), (9, a, "love")):
            service.react(db, s, person, name, now=start + timedelta(minutes=minute))


def _export(store, session_id):
    with store.read() as db:
        data, _, doc = export.session_zip(db, session_id)
    return data, doc


def test_the_archive_keeps_hands_and_reactions_with_a_pulse_chart(store, live):
    _seed_pulse(store, live["id"])
    data, doc = _export(store, live["id"])
    validate(doc)
    assert [(h["participant"], h["ticket"], h["outcome"]) for h in doc["pulse_hands"]] == [
        ("p1", 1, "spoke"), ("p2", 2, "lowered"), ("p3", 3, None)]
    assert [r["reaction"] for r in doc["pulse_reactions"]] == ["clap", "clap", "question", "love"]
    files = unzip(data)
    hands = list(csv.reader(io.StringIO(files["pulse-hands.csv"].decode("utf-8-sig")), delimiter=";"))
    assert hands[1][:3] == ["1", "p1", "'=HYPERLINK(\"x\")"]  # a formula is text in a spreadsheet
    assert hands[1][5] == "a parlé" and hands[3][5] == ""
    text = files["pulse-reactions.csv"].decode("utf-8-sig")
    reactions = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [row[2] for row in reactions[1:]] == [
        "applaudissements", "applaudissements", "question", "j’adore"]
    svg = files["pulse.svg"].decode("utf-8")
    assert "<svg" in svg and "Le pouls de la salle" in svg and "Trop rapide".lower() in svg.lower()
    report = files["report.html"].decode("utf-8")
    assert 'id="pulse"' in report and "data:image/svg+xml;base64," in report
    assert "Mains levées : 3, dont 1 ont parlé." in report and "👏 applaudissements 2" in report


def test_the_pulse_survives_the_import_round_trip(store, live):
    _seed_pulse(store, live["id"])
    data, first = _export(store, live["id"])
    docs = importer.read_archive(data)
    with store.write() as db:
        (new_id,) = importer.create_sessions(db, docs)
    again_data, again = _export(store, new_id)
    validate(again)
    assert without_export_metadata(again) == without_export_metadata(first)
    assert again["pulse_hands"] and again["pulse_reactions"] and again["pulse"]
    assert unzip(again_data)["pulse.svg"] == unzip(data)["pulse.svg"]


def _broken(doc, change):
    doc = json.loads(json.dumps(doc))
    change(doc)
    return doc


@pytest.mark.parametrize("change", [
    lambda d: d["pulse_reactions"][0].update(participant="p99"),
    lambda d: d["pulse_hands"][1].update(ticket=1),
    lambda d: d["pulse_hands"][1].update(outcome=None, ended_at=None, participant="p3"),
    lambda d: d["pulse_hands"][2].update(outcome="spoke"),
], ids=["unknown participant", "ticket twice", "two hands up at once", "ended without a time"])
def test_an_archive_breaking_the_pulse_rules_is_refused(store, live, change):
    _seed_pulse(store, live["id"])
    _data, doc = _export(store, live["id"])
    with pytest.raises(ImportRefused):
        importer._check_references(_broken(doc, change))


def test_a_purge_deletes_hands_and_reactions_and_their_archive_part(store, live):
    from sqlalchemy import func, select

    from live.archive import retention
    from live.pulse.model import PulseHand, PulseMark, PulseReaction

    _seed_pulse(store, live["id"])
    with store.write() as db:
        sessions.end_session(db, sessions.get_session(db, live["id"]), "facilitator")
    retention.purge(store, live["id"], force=True)
    with store.read() as db:
        left = [db.scalar(select(func.count()).select_from(table).where(table.session_id == live["id"]))
                for table in (PulseMark, PulseHand, PulseReaction)]
    assert left == [0, 0, 0]
    data, doc = _export(store, live["id"])
    validate(doc)
    assert "pulse_hands" not in doc and "pulse_reactions" not in doc and doc["pulse"] == []
    assert "Chloé" not in unzip(data)["session.json"].decode("utf-8")


def _md_rows(text: str, title: str) -> list[list[str]]:
    """The rows of the Markdown table under the bold line starting with `title`."""
    import re

    block = text.split(f"**{title}", 1)[1].split("\n\n", 2)[1]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            for line in block.splitlines() if line.startswith("|") and not line.startswith("| ---")]


def test_the_minutes_and_the_spreadsheet_have_the_pulse(client, store, live):
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    from live.archive.csvsafe import is_formula

    _seed_pulse(store, live["id"])
    text = client.post(f"/admin/archive/sessions/{live['id']}/export.md").get_data(as_text=True)
    assert "## Le pouls de la salle" in text  # the session speaks French
    timeline = _md_rows(text, "Avis sur le rythme : 4.")
    assert timeline[0][:2] == ["heure (UTC)", "rythme (moyenne des 3 dernières minutes)"]
    assert len(timeline) > 5
    assert timeline[1][1] == "1,00" and "-1,00" in [row[1] for row in timeline]  # written the French way
    assert sum(int(row[2]) for row in timeline[1:]) == 3 and sum(int(row[3]) for row in timeline[1:]) == 4
    hands = _md_rows(text, "Mains levées : 3")
    assert [row[:2] for row in hands[1:]] == [["1", "'=HYPERLINK(\"x\")"], ["2", ""], ["3", "Chloé"]]
    assert [row[4] for row in hands[1:]] == ["a parlé", "baissée par le participant", ""]
    reactions = {name.split()[0]: n for name, n in _md_rows(text, "réaction")[1:]}
    assert reactions == {"👏": "2", "❓": "1", "❤️": "1"}
    book = load(io.BytesIO(client.post(f"/admin/archive/sessions/{live['id']}/export.ods").data))
    sheet = next(s for s in book.spreadsheet.getElementsByType(Table) if s.getAttribute("name") == "pulse")
    rows = [["".join(str(n) for p in c.getElementsByType(P) for n in p.childNodes)
             for c in r.getElementsByType(TableCell)] for r in sheet.getElementsByType(TableRow)]
    cells = [c for row in rows for c in row]
    assert "'=HYPERLINK(\"x\")" in cells and "Chloé" in cells and not [c for c in cells if is_formula(c)]
    assert not any(c.getAttribute("formula") for c in sheet.getElementsByType(TableCell))
    assert ["3", "Chloé"] == rows[[r[:1] for r in rows].index(["3"])][:2]
