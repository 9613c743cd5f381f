"""The footprint of a session: what the server served for it (HTTP bodies of its pages and
their static files, Socket.IO packets of its rooms, CPU, peak phones), counted in memory, written
every few seconds, shown on the console, kept in the archive (with an estimate) and its import."""

import json
import re

from archive_helpers import unzip, validate
from conftest import choose_language, cid, events_named
from support import pushes_settled

from live import footprint
from live.app import stop_background
from live.archive import export, importer


def _counts(store, session_id):
    with store.read() as db:
        return footprint.totals(db, session_id)


def test_page_loads_and_their_static_files_count_for_the_session_and_no_other(app, store, live, client):
    before = _counts(store, live["id"])
    page = choose_language(client).get(f"/j/{live['code']}")
    assert page.status_code == 200
    after_page = _counts(store, live["id"])
    assert after_page["http_requests"] == before["http_requests"] + 1
    assert after_page["http_bytes"] >= before["http_bytes"] + len(page.data) > 0
    # A style sheet asked for by that page counts; the same file asked for by nobody's page does not.
    css = client.get("/static/css/palabre.css", headers={"Referer": f"http://localhost/j/{live['code']}"})
    assert css.status_code == 200
    after_css = _counts(store, live["id"])
    assert after_css["http_requests"] == after_page["http_requests"] + 1
    assert after_css["http_bytes"] - after_page["http_bytes"] == len(css.data)
    client.get("/static/css/palabre.css", headers={"Referer": "http://localhost/admin/"})
    client.get("/")
    assert _counts(store, live["id"])["http_requests"] == after_css["http_requests"]
    # The console and the screen are the session's too.
    assert client.get(f"/screen/{live['screen']}").status_code == 200
    assert _counts(store, live["id"])["http_requests"] == after_css["http_requests"] + 1


def test_socket_traffic_and_the_peak_of_phones_are_counted_and_written_by_the_flush(
        app, store, live, phone, staff, poll):
    console = staff("facilitator")
    phones = [phone() for _ in range(3)]
    option = events_named(phones[0], "snapshot")[-1]["current"]["options"][0]["id"]
    ack = phones[0].emit("vote", {"cid": cid(), "activity": poll, "choice": option}, callback=True)
    assert ack["ok"], ack
    counts = _counts(store, live["id"])
    assert counts["peak_phones"] == 3
    assert counts["socket_packets_in"] >= 1 and counts["socket_bytes_in"] > 20
    assert counts["socket_packets_out"] >= 1 and counts["socket_bytes_out"] > 0
    phones[1].disconnect()
    assert _counts(store, live["id"])["peak_phones"] == 3  # a peak, not the number now
    # Written to the database by the flush; nothing counted twice, nothing lost. The pushes
    # the vote and the disconnection cause are sent (and counted) first.
    assert pushes_settled(app)
    stop_background(app)  # no periodic push (presence refresh...) counts anew meanwhile
    footprint.flush(store)
    assert live["id"] not in footprint.session_ids()
    with store.read() as db:
        row = footprint.stored(db, live["id"])
        assert row is not None and row.peak_phones == 3
        assert row.socket_packets_in == counts["socket_packets_in"]
    assert _counts(store, live["id"])["socket_packets_in"] == counts["socket_packets_in"]
    console.emit("command", {"cid": cid(), "action": "close", "activity": poll}, callback=True)
    assert _counts(store, live["id"])["socket_packets_in"] == counts["socket_packets_in"] + 1


def test_the_console_shows_the_line_live_in_its_language(app, store, live, client):
    choose_language(client).get(f"/j/{live['code']}")
    client.set_cookie("lang", "fr")
    page = client.get(f"/f/{live['facilitator']}").get_data(as_text=True)
    assert 'id="footprint"' in page and "Servi jusqu’ici" in page
    first = client.get(f"/f/{live['facilitator']}/footprint").get_json()["text"]
    client.set_cookie("lang", "en")
    text = client.get(f"/f/{live['facilitator']}/footprint").get_json()["text"]
    assert text.startswith("Served so far: ") and "requests" in text and "phones at the peak: 0" in text
    assert "requêtes" in first
    assert client.get("/f/not-a-token/footprint").status_code == 404


def test_the_archive_has_the_footprint_with_its_estimate_and_the_import_keeps_it(app, store, live, client):
    choose_language(client).get(f"/j/{live['code']}")
    client.get(f"/f/{live['facilitator']}")
    footprint.flush(store)
    files = unzip(client.get(f"/f/{live['facilitator']}/archive.zip").data)
    doc = json.loads(files["session.json"])
    validate(doc)
    section = doc["footprint"]
    assert section["http_requests"] >= 2 and section["http_bytes"] > 1000
    assert section["bytes_per_participant"] == section["bytes"] // 1  # one participant
    assert section["wh"] > 0 and section["gco2e"] > 0
    assert section["factors"]["grid_g_per_kwh"] == footprint.GRID_G_PER_KWH
    assert any("ademe" in url for url in section["sources"])
    report = files["report.html"].decode()
    assert 'id="footprint"' in report and "gCO2e" in report and "base-empreinte.ademe.fr" in report
    served = report.split('id="footprint"')[1].split("</p>")[0]  # in the session's language (French)
    assert re.search(r"Servi : [\d.]+ (ko|Mo) en \d+ requêtes", served), served
    assert "Bytes" not in served and "téléphones connectés en même temps au pic : 0." in served
    assert '<ul class="sources">' in report  # one per line: a long address never runs over another
    with store.read() as db:
        data, _, exported = export.session_zip(db, live["id"])  # (the download above counts too)
    docs = importer.read_archive(data)
    with store.write() as db:
        [imported] = importer.create_sessions(db, docs)
    with store.read() as db:
        again = footprint.document(db, imported, doc["session"]["participant_count"])
    assert exported["footprint"]["http_bytes"] > section["http_bytes"]
    for name in footprint.FIELDS:
        assert again[name] == exported["footprint"][name], name
