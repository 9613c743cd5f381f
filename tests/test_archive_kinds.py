"""Archives of word clouds, idea walls and Q&A: schema, round trip, CSVs, purge, report, synthesis."""

from __future__ import annotations

import json
import re

import pytest
from archive_helpers import seed_every_kind, unzip, validate
from sqlalchemy import select

from live.archive import export, importer, retention
from live.archive.csvsafe import read_csv
from live.archive.document import session_document, without_export_metadata
from live.boards.model import BoardVote, Item
from live.sessions import service as sessions
from live.sessions.model import Activity, Participant
from live.wordclouds import service as clouds
from live.wordclouds.model import WordEntry


@pytest.fixture
def seeded(store, live):
    ids = seed_every_kind(store, live["id"])
    with store.read() as db:
        data, _, doc = export.session_zip(db, live["id"])
    return {"ids": ids, "data": data, "doc": doc, "files": unzip(data)}


def _activity(doc, kind):
    return next(a for a in doc["activities"] if a["kind"] == kind)


def _pseudonyms(db, session_id):
    people = db.scalars(select(Participant).where(Participant.session_id == session_id)
                        .order_by(Participant.joined_at, Participant.id))
    return {p.id: f"p{i}" for i, p in enumerate(people, start=1)}


def _import(store, data):
    docs = importer.read_archive(data)
    with store.write() as db:
        return importer.create_sessions(db, docs)


def test_archives_with_every_kind_match_the_schema(seeded):
    doc = json.loads(seeded["files"]["session.json"])
    validate(doc)
    assert [a["kind"] for a in doc["activities"]] == ["poll"] * 4 + ["wordcloud", "ideas", "questions"]
    cloud, wall, qa = (_activity(doc, k) for k in ("wordcloud", "ideas", "questions"))
    assert cloud["entries"] and cloud["groups"] and cloud["words"]
    assert any(e["withdrawn_at"] for e in cloud["entries"])
    assert any(g["merged_into"] for g in cloud["groups"]) and any(g["hidden"] for g in cloud["groups"])
    assert {i["state"] for i in wall["items"]} >= {"approved", "rejected", "merged"}
    assert wall["votes"] and wall["moderation"] and qa["votes"] and qa["moderation"]
    merged = next(i for i in wall["items"] if i["state"] == "merged")
    target = next(i for i in wall["items"] if i["ref"] == merged["merged_into"])
    assert any(h.get("merged") == merged["ref"] for h in target["history"])
    assert {m["action"] for m in wall["moderation"]} >= {"approve", "reject", "edit", "merge", "merged_into"}
    names = set(seeded["files"])
    for expected in ("activities/05-wordcloud.csv", "activities/05-wordcloud-groups.csv",
                     "activities/05-wordcloud-entries.csv", "activities/05-wordcloud-cloud.svg",
                     "activities/05-wordcloud-cloud.png", "activities/06-ideas.csv",
                     "activities/06-ideas-votes.csv", "activities/06-ideas-moderation.csv",
                     "activities/07-questions.csv", "activities/07-questions-votes.csv"):
        assert expected in names
    assert seeded["files"]["activities/05-wordcloud-cloud.png"].startswith(b"\x89PNG")
    assert b"<svg" in seeded["files"]["activities/05-wordcloud-cloud.svg"][:400]


def test_round_trip_with_every_kind_gives_the_same_session_json(store, seeded):
    (new_id,) = _import(store, seeded["data"])
    with store.read() as db:
        again_data, _, again = export.session_zip(db, new_id)
    validate(again)
    assert without_export_metadata(again) == without_export_metadata(seeded["doc"])
    assert unzip(again_data)["activities/05-wordcloud-cloud.svg"] == \
        seeded["files"]["activities/05-wordcloud-cloud.svg"]
    with store.read() as db:
        # The live services read the imported rows as they read the original ones.
        s = sessions.get_session(db, new_id)
        cloud = next(a for a in s.activities if a.kind == "wordcloud")
        words = {w["text"]: w["count"] for w in _activity(seeded["doc"], "wordcloud")["words"]}
        assert clouds.cloud(db, cloud, 10**6) == words


def test_word_cloud_csvs_parse_back_to_the_database(store, live, seeded):
    files = seeded["files"]
    with store.read() as db:
        pseudonym = _pseudonyms(db, live["id"])
        cloud = db.get(Activity, seeded["ids"]["wordcloud"])
        entries = db.scalars(select(WordEntry).where(WordEntry.activity_id == cloud.id)
                             .order_by(WordEntry.id))
        expected = [[pseudonym[e.participant_id], e.text, e.key, e.withdrawn_at is not None] for e in entries]
        shown = clouds.cloud(db, cloud, 10**6)
        found = clouds.groups(db, cloud)
    rows = read_csv(files["activities/05-wordcloud-entries.csv"], "fr")
    assert rows[0][:3] == ["participant", "texte", "groupe"]
    assert [[r[0], r[1], r[2], r[5] != ""] for r in rows[1:]] == expected
    words = read_csv(files["activities/05-wordcloud.csv"], "fr")[1:]
    assert {w: int(n) for w, n in words} == shown
    groups = read_csv(files["activities/05-wordcloud-groups.csv"], "fr")[1:]
    counted = {r[0]: int(r[2]) for r in groups}
    assert all(counted[g.key] == g.count for g in found)
    assert "=1+1" in {e[1] for e in expected}  # formula-like words come back as typed


def test_board_csvs_parse_back_to_the_database(store, live, seeded):
    files = seeded["files"]
    with store.read() as db:
        pseudonym = _pseudonyms(db, live["id"])
        for kind, number in (("ideas", 6), ("questions", 7)):
            activity_id = seeded["ids"][kind]
            items = list(db.scalars(select(Item).where(Item.activity_id == activity_id).order_by(Item.id)))
            ref = {i.id: f"i{n}" for n, i in enumerate(items, start=1)}
            counts = _counts(db, activity_id)
            rows = read_csv(files[f"activities/0{number}-{kind}.csv"], "fr")
            by_ref = {r[0]: r for r in rows[1:]}
            assert set(by_ref) == set(ref.values())
            for item in items:
                row = by_ref[ref[item.id]]
                assert row[1] == item.text
                assert int(row[2]) == counts.get(item.id, 0)
            votes = read_csv(files[f"activities/0{number}-{kind}-votes.csv"], "fr")[1:]
            stored = db.execute(select(BoardVote.participant_id, BoardVote.item_id)
                                .where(BoardVote.activity_id == activity_id).order_by(BoardVote.id)).all()
            assert [(r[0], r[1]) for r in votes] == [(pseudonym[p], ref[i]) for p, i in stored]


def _counts(db, activity_id):
    from sqlalchemy import func

    return dict(db.execute(select(BoardVote.item_id, func.count(BoardVote.id))
                           .where(BoardVote.activity_id == activity_id).group_by(BoardVote.item_id)).all())


def test_purge_keeps_texts_and_aggregates_of_every_kind(store, live, seeded):
    before = seeded["doc"]
    with store.write() as db:
        retention.mark_exported(db, live["id"])
    retention.purge(store, live["id"], batch=7)  # small batches: many transactions
    with store.read() as db:
        after = session_document(db, sessions.get_session(db, live["id"]))
        # Texts stay in the database too: items detached from their authors, not deleted.
        items = list(db.scalars(select(Item).where(Item.activity_id == seeded["ids"]["ideas"])))
        assert items and all(i.participant_id is None and i.text for i in items)
        assert not db.scalars(select(BoardVote)).first()
        assert not db.scalars(select(WordEntry)).first()
        assert not db.scalars(select(Participant).where(Participant.session_id == live["id"])).first()
    validate(after)
    assert after["participants"] == []
    assert after["session"]["participant_count"] == before["session"]["participant_count"]
    for old, new in zip(before["activities"], after["activities"], strict=True):
        assert new["results"] == old["results"], old["kind"]
        if old["kind"] == "wordcloud":
            assert new["entries"] == [] and new["words"] == old["words"] and new["groups"] == old["groups"]
        if old["kind"] in ("ideas", "questions"):
            assert new["votes"] == []
            assert [(i["text"], i["score"], i["state"]) for i in new["items"]] == \
                [(i["text"], i["score"], i["state"]) for i in old["items"]]
            assert all(i["author"] is None and i["author_name"] is None for i in new["items"])
            assert new["moderation"] == old["moderation"]
    raw = json.dumps(after, ensure_ascii=False)
    assert "Camille" not in raw and not re.search(r'"p\d+"', raw)
    # A purged archive round-trips too.
    with store.read() as db:
        data, _, purged = export.session_zip(db, live["id"])
    (new_id,) = _import(store, data)
    with store.read() as db:
        again = export.session_zip(db, new_id)[2]
    assert without_export_metadata(again) == without_export_metadata(purged)


def test_the_report_shows_top_ideas_questions_and_moderation(seeded):
    html = seeded["files"]["report.html"].decode()
    top_ideas = html.split("Idées les plus soutenues")[1].split("</ol>")[0]
    wall = _activity(seeded["doc"], "ideas")
    best = max((i for i in wall["items"] if i["state"] == "approved"), key=lambda i: i["score"])
    assert best["text"] in top_ideas
    rejected = next(i for i in wall["items"] if i["state"] == "rejected")
    assert rejected["text"] not in html.split("Idées les plus soutenues")[1].split("<h2")[0]
    top_questions = html.split("Questions les plus soutenues")[1].split("</ol>")[0]
    assert "Quelle place pour l&#39;IA dans la sobriété ?" in top_questions
    assert "Qui finance" not in top_questions  # hidden by the moderator
    moderation = html.split("<h3>Modération</h3>")[1].split("</table>")[0]
    assert "approbations" in moderation and "mots masqués" in moderation and "refus" in moderation
    assert re.search(r"approbations</td><td class=\"num\">5<", moderation)
    assert 'alt="Nuage de mots' in html


def test_the_event_synthesis_has_one_cloud_over_every_cloud(store, live):
    seed_every_kind(store, live["id"], people=8, seed=1)
    with store.write() as db:
        event = sessions.get_session(db, live["id"]).event
        other = sessions.create_session(db, event, "workshop", "Atelier 1", locale="fr")
        event_id, other_id = event.id, other.id
    seed_every_kind(store, other_id, people=6, seed=2)
    with store.read() as db:
        data, _, info = export.event_zip(db, event_id)
    files = unzip(data)
    assert info["sessions"] == 2
    docs = [json.loads(unzip(files[name])["session.json"]) for name in sorted(files)
            if name.startswith("sessions/")]
    for doc in docs:
        validate(doc)
    expected: dict[str, int] = {}
    for doc in docs:
        for w in _activity(doc, "wordcloud")["words"]:
            expected[w["text"]] = expected.get(w["text"], 0) + w["count"]
    words = {w: int(n) for w, n in read_csv(files["synthesis/words.csv"], "fr")[1:]}
    assert words == expected
    assert files["synthesis/wordcloud.png"].startswith(b"\x89PNG")
    html = files["synthesis.html"].decode()
    assert html.count("data:image/svg+xml;base64,") == 1
    ideas = read_csv(files["synthesis/ideas.csv"], "fr")[1:]
    published = [i for d in docs for i in _activity(d, "ideas")["items"]
                 if i["state"] in ("approved", "visible")]
    assert len(ideas) == len(published)
    assert [int(r[4]) for r in ideas] == sorted((int(r[4]) for r in ideas), reverse=True)


def _twice_upvoted(doc):
    qa = _activity(doc, "questions")
    qa["votes"].append(dict(qa["votes"][0]))


def _unknown_author(doc):
    _activity(doc, "questions")["items"][0]["author"] = "p999"


def _unknown_entry_participant(doc):
    _activity(doc, "wordcloud")["entries"][0]["participant"] = "p999"


def _unknown_item(doc):
    _activity(doc, "ideas")["votes"][0]["item"] = "i99"


@pytest.mark.parametrize("spoil", [_unknown_item, _twice_upvoted, _unknown_author,
                                   _unknown_entry_participant])
def test_boards_and_clouds_with_broken_references_are_refused(seeded, spoil):
    doc = json.loads(seeded["files"]["session.json"])
    spoil(doc)
    with pytest.raises(importer.ImportRefused) as refused:
        importer.parse_document(json.dumps(doc).encode())
    assert refused.value.code == "import_bad_reference"


def test_a_board_item_in_an_unknown_state_fails_the_schema(seeded):
    doc = json.loads(seeded["files"]["session.json"])
    _activity(doc, "ideas")["items"][0]["state"] = "deleted"
    with pytest.raises(importer.ImportRefused) as refused:
        importer.parse_document(json.dumps(doc).encode())
    assert refused.value.code == "import_bad_schema"


# The report: counts that agree, a readable time axis, a legible cloud, an appendix -------------

def test_the_participation_chart_counts_the_answers_the_facts_count(seeded):
    from live.archive.labels import labels_for
    from live.archive.report import session_context

    doc = seeded["doc"]
    assert any(a.get("votes") for a in doc["activities"] if a["kind"] == "ideas")  # dots were put
    spec = export.participation_spec(doc, labels_for("fr"))
    answers = session_context(doc, {}, {})["answers"]
    # Before: every dot on an idea and every entry counted as an answer (610 against 310).
    assert sum(spec["answers"]) == answers > 0
    facts = seeded["files"]["report.html"].decode().split("</dl>")[0]
    assert f"<dd>{answers}</dd>" in facts


@pytest.mark.parametrize("minutes", [0.5, 3, 12, 47, 200, 600])
def test_the_time_axis_never_repeats_a_label(minutes):
    from datetime import datetime, timedelta

    from live.render import charts

    start = datetime(2022, 4, 5, 9, 58)  # buckets start on a whole minute (participation_spec)
    spec = {"chart": "participation", "title": "Participation", "minutes": 1, "time_label": "heure",
            "answers_label": "réponses", "joined_label": "arrivées",
            "buckets": [(start + timedelta(minutes=i)).isoformat() for i in range(max(1, round(minutes)))]}
    spec["answers"] = [3] * len(spec["buckets"])
    spec["joined"] = list(range(1, len(spec["buckets"]) + 1))
    svg = charts.participation(spec)["svg"].decode()
    labels = re.findall(r">\s*(\d\d:\d\d)\s*<", svg)
    assert len(labels) >= 2 and len(labels) == len(set(labels)), labels
    assert len(labels) <= 8


def test_the_report_cloud_keeps_its_words_apart(seeded):
    import base64
    import itertools
    import xml.etree.ElementTree as ET

    from live.render import wordcloud as render

    html = seeded["files"]["report.html"].decode()
    uri = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="Nuage de mots', html).group(1)
    root = ET.fromstring(base64.b64decode(uri))
    font = str(render.default_font_path())
    boxes = []
    for text in root.iter("{http://www.w3.org/2000/svg}text"):
        size, word = int(text.get("font-size")), "".join(text.itertext())
        left, top, right, bottom = render._shape(word, size, font).box
        x, y = float(text.get("x")), float(text.get("y"))
        boxes.append((x + left, y + top, x + right, y + bottom, size))
    assert len(boxes) >= 5
    gaps = [max(a[0] - b[2], b[0] - a[2], a[1] - b[3], b[1] - a[3]) / max(a[4], b[4])
            for a, b in itertools.combinations(boxes, 2)]
    assert min(gaps) >= 0.33


def test_the_report_ends_with_its_appendix(seeded):
    html = seeded["files"]["report.html"].decode()
    body, appendix = html.split('<section class="appendix"', 1)
    appendix = appendix.split("</section>")[0]
    assert "<h2>Résultats</h2>" in body and "Idées les plus soutenues" in body
    assert "Modération" not in body and "session.json" not in body
    assert '<h2 id="appendix-title">Annexe</h2>' in appendix
    assert "<h3>Modération</h3>" in appendix and "approbations" in appendix
    assert "<li>session.json</li>" in appendix and "<li>report.html</li>" in appendix
    assert "<h2" not in html.split('<section class="appendix"', 1)[1].split("</section>", 1)[1]
