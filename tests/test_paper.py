"""Paper and phone in one tally: staff enter counts from paper ballots or a show of hands."""

from __future__ import annotations

import re

import pytest
from conftest import add_poll, cid, command
from sqlalchemy.exc import IntegrityError
from support import wait_until

from live.errors import DomainError
from live.polls import service as polls
from live.polls.model import Option, PaperCount
from live.realtime import socketio
from live.sessions import service as sessions


def _options(store, activity):
    with store.read() as db:
        return [o.id for o in db.query(Option).filter_by(activity_id=activity).order_by(Option.position)]


def _paper(store, live, activity, target, delta, actor="facilitator"):
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        entry = polls.add_paper(db, s, sessions.get_activity(db, s, activity), target, delta, actor)
        return entry.total_after


def _tally(store, live, activity):
    with store.read() as db:
        return polls.tally(db, sessions.get_activity(db, sessions.get_session(db, live["id"]), activity))


def test_paper_counts_add_to_phone_votes_and_show_apart(store, live, phone, poll):
    a, b, _ = _options(store, poll)
    sock = phone()
    assert sock.emit("vote", {"cid": cid(), "activity": poll, "choice": b}, callback=True)["ok"]
    assert _paper(store, live, poll, b, 12) == 12
    assert _paper(store, live, poll, a, "+3") == 3
    result = _tally(store, live, poll)
    assert result["total"] == 16 and result["phone_total"] == 1 and result["paper_total"] == 15
    assert [(o["count"], o["phone"], o["paper"]) for o in result["options"]] == [
        (3, 0, 3), (13, 1, 12), (0, 0, 0)]
    # a correction is an entry too; the log keeps both
    assert _paper(store, live, poll, b, -2, "moderator") == 10
    with store.read() as db:
        log = [(e.delta, e.total_after, e.entered_by) for e in db.query(PaperCount).order_by(PaperCount.id)]
    assert log == [(12, 12, "facilitator"), (3, 3, "facilitator"), (-2, 10, "moderator")]


def test_totals_never_go_negative_and_counts_are_bounded(store, live, poll):
    a = _options(store, poll)[0]
    _paper(store, live, poll, a, 2)
    for target, delta, code in ((a, -3, "paper_negative"), (a, 0, "bad_paper_count"),
                                (a, 10001, "bad_paper_count"), (a, "1.5", "bad_paper_count"),
                                (999999, 1, "bad_paper_option"), (None, 1, "bad_paper_option")):
        with pytest.raises(DomainError) as refused:
            _paper(store, live, poll, target, delta)
        assert refused.value.code == code
    assert _tally(store, live, poll)["options"][0]["paper"] == 2


def test_the_database_refuses_a_negative_total_or_a_zero_entry(store, poll):
    a = _options(store, poll)[0]
    for row in ({"delta": -1, "total_after": -1}, {"delta": 0, "total_after": 0},
                {"delta": 1, "total_after": 1, "value": 3}):
        with pytest.raises(IntegrityError), store.write() as db:
            db.add(PaperCount(activity_id=poll, option_id=a, entered_by="facilitator", **row))
            db.flush()


def test_a_scale_takes_paper_counts_in_its_mean_and_a_ranking_refuses_them(store, live):
    scale = add_poll(store, live["id"], "scale", (), scale_max=5)
    command(store, live["id"], "open", scale)
    _paper(store, live, scale, 5, 2)
    _paper(store, live, scale, 1, 2)
    result = _tally(store, live, scale)
    assert result["mean"] == 3 and result["buckets"][4] == {"value": 5, "count": 2, "phone": 0, "paper": 2}
    with pytest.raises(DomainError) as refused:
        _paper(store, live, scale, 6, 1)
    assert refused.value.code == "bad_paper_option"
    ranking = add_poll(store, live["id"], "ranking")
    command(store, live["id"], "open", ranking)
    with pytest.raises(DomainError) as refused:
        _paper(store, live, ranking, _options(store, ranking)[0], 1)
    assert refused.value.code == "paper_not_countable"


def test_a_draft_poll_takes_no_paper_count_and_reset_clears_them(store, live):
    activity = add_poll(store, live["id"])
    a = _options(store, activity)[0]
    with pytest.raises(DomainError):
        _paper(store, live, activity, a, 1)
    command(store, live["id"], "open", activity)
    _paper(store, live, activity, a, 4)
    command(store, live["id"], "reset", activity)
    assert _tally(store, live, activity)["options"][0]["paper"] == 0


def test_both_doors_add_paper_counts_and_push_the_results(app, store, live, staff, poll):
    a, b, _ = _options(store, poll)
    facilitator, moderator = staff("facilitator"), staff("moderator")
    ack = moderator.emit("paper", {"cid": cid(), "activity": poll, "option": b, "count": 12}, callback=True)
    assert ack["ok"] and ack["total"] == 12, ack
    refused = moderator.emit("paper", {"cid": cid(), "activity": poll, "option": b, "count": -13},
                             callback=True)
    assert not refused["ok"] and refused["error"]["code"] == "paper_negative"
    console = app.test_client()
    page = console.get(f"/f/{live['facilitator']}/paper")
    assert page.status_code == 200 and "0 téléphone + 12 papier" in page.text  # the session's language
    posted = console.post(f"/f/{live['facilitator']}/paper/{poll}", data={"option": a, "count": "5"})
    assert posted.status_code == 302
    page = console.get(posted.headers["Location"])
    assert "Décompte papier ajouté." in page.text and "0 téléphone + 5 papier" in page.text
    assert "modérat" in page.text and "+12" in page.text and "+5" in page.text
    bad = console.post(f"/f/{live['facilitator']}/paper/{poll}", data={"option": a, "count": "-9"})
    assert "négatif" in console.get(bad.headers["Location"]).text

    def pushed():
        results = [e["args"][0] for e in facilitator.get_received() if e["name"] == "results"]
        return any(r.get("results", {}).get("paper_total") == 17 for r in results)
    assert wait_until(pushed, 8, sleep=socketio.sleep)
    assert app.test_client().get(f"/m/{live['moderator']}/paper").status_code == 404


def _archived_with_paper(store, live):
    from archive_helpers import seed_session

    from live.archive import export

    ids = seed_session(store, live["id"], voters=6, end=False)["activities"]
    single, scale = ids[0], ids[1]
    formula = _options(store, single)[2]  # the option "=1+1"
    _paper(store, live, single, formula, 7, "moderator")
    _paper(store, live, single, formula, -2)
    _paper(store, live, scale, 4, 3)
    with store.write() as db:
        sessions.end_session(db, sessions.get_session(db, live["id"]), "facilitator")
    with store.read() as db:
        data, _, doc = export.session_zip(db, live["id"])
    return data, doc


def test_the_archive_keeps_paper_counts_apart_and_round_trips(store, live):
    from archive_helpers import unzip, validate

    from live.archive import export, importer
    from live.archive.csvsafe import is_formula, read_csv
    from live.archive.document import without_export_metadata

    data, doc = _archived_with_paper(store, live)
    validate(doc)
    single, scale = doc["activities"][0], doc["activities"][1]
    assert [(e["option"], e["count"], e["total"], e["entered_by"]) for e in single["paper"]] == [
        ("o3", 7, 7, "moderator"), ("o3", -2, 5, "facilitator")]
    counted = single["results"]["options"][2]
    assert counted["paper"] == 5 and counted["count"] == counted["phone"] + 5
    assert scale["results"]["buckets"][3]["paper"] == 3 and scale["results"]["paper_total"] == 3
    files = unzip(data)
    log = read_csv(files["activities/01-poll-paper.csv"], "fr")
    assert [row[1:] for row in log[1:]] == [["moderator", "=1+1", "7", "7"],
                                            ["facilitator", "=1+1", "-2", "5"]]
    raw = files["activities/01-poll-paper.csv"].decode("utf-8-sig")
    assert all(not is_formula(cell) for line in raw.splitlines() for cell in line.split(";"))
    main = read_csv(files["activities/01-poll.csv"], "fr")
    assert main[0][-2:] == ["votes par téléphone", "votes papier"] and main[3][-1] == "5"
    report = files["report.html"].decode()
    assert "Décomptes papier saisis" in report and "5 votes papier" in report
    log_rows = report.split('<table class="paper">')[1].split("</table>")[0]
    assert "<td>modérateur</td>" in log_rows and "<td>animateur</td>" in log_rows  # who, in French
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>", log_rows)  # when, for people
    with store.write() as db:
        (new_id,) = importer.create_sessions(db, importer.read_archive(data))
    with store.read() as db:
        again = export.session_zip(db, new_id)[2]
    assert without_export_metadata(again)["activities"] == without_export_metadata(doc)["activities"]


@pytest.mark.parametrize(("change", "reason"), [
    ({"count": -8, "total": -1}, "paper_negative"), ({"count": -8, "total": 0}, "paper_negative"),
    ({"count": -2, "total": 4}, "paper_total_mismatch"), ({"count": 0, "total": 7}, "bad_paper_count")])
def test_an_archive_whose_paper_log_does_not_add_up_is_refused(store, live, change, reason):
    import io
    import json
    import zipfile

    from archive_helpers import unzip

    from live.archive import importer

    data, _ = _archived_with_paper(store, live)
    members = unzip(data)
    doc = json.loads(members["session.json"])
    doc["activities"][0]["paper"][1].update(change)
    members["session.json"] = json.dumps(doc).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(importer.ImportRefused) as refused:
        importer.read_archive(out.getvalue())
    assert refused.value.code == "import_invalid" and refused.value.params["reason"] == reason
