"""Archive routes: downloads, past sessions page, import form, purge and retention."""

from __future__ import annotations

import io
import json

from archive_helpers import seed_session, unzip, validate

from live.archive import worker


def test_the_facilitator_downloads_the_archive(client, store, live):
    seed_session(store, live["id"], voters=5, end=False)
    response = client.get(f"/f/{live['facilitator']}/archive.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    validate(json.loads(unzip(response.data)["session.json"]))


def test_a_wrong_token_gets_no_archive(client, live):
    assert client.get(f"/f/{live['screen']}/archive.zip").status_code == 404


def test_organiser_pages_refuse_other_machines(client, live):
    remote = {"REMOTE_ADDR": "192.168.1.20"}
    assert client.get("/admin/archive", environ_base=remote).status_code == 403
    assert client.get(f"/admin/sessions/{live['id']}/archive.zip", environ_base=remote).status_code == 403
    assert client.post("/admin/archive/import", environ_base=remote).status_code == 403


def test_export_purge_import_through_the_pages(app, client, store, live):
    seed_session(store, live["id"], voters=6)
    confirmed = {"confirm": "yes"}
    refused = client.post(f"/admin/archive/sessions/{live['id']}/purge", data=confirmed,
                          follow_redirects=True, headers={"Accept-Language": "en"})
    assert "export it first" in refused.get_data(as_text=True)
    page = client.get("/admin/archive").get_data(as_text=True)
    assert "Download the session" in page or "archive" in page.lower()
    first = client.post(f"/admin/archive/sessions/{live['id']}/export").data
    assert client.post(f"/admin/archive/sessions/{live['id']}/purge", data=confirmed).status_code == 303
    purged = json.loads(unzip(client.get(f"/admin/sessions/{live['id']}/archive.zip").data)["session.json"])
    validate(purged)
    before = json.loads(unzip(first)["session.json"])
    assert purged["participants"] == [] and purged["session"]["purged_at"]
    assert purged["session"]["participant_count"] == before["session"]["participant_count"]
    assert [a["results"] for a in purged["activities"]] == [a["results"] for a in before["activities"]]
    response = client.post("/admin/archive/import", data={"archive": (io.BytesIO(first), "a.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    response = client.post("/admin/archive/import", data={"archive": (io.BytesIO(b"nope"), "a.zip")},
                           content_type="multipart/form-data", follow_redirects=True,
                           headers={"Accept-Language": "en"})
    assert "not a readable ZIP" in response.get_data(as_text=True)
    assert client.get(f"/admin/archive/sessions/{live['id']}").status_code == 200


def test_retention_purges_ended_sessions(client, store, live):
    seed_session(store, live["id"], voters=3)
    assert client.post("/admin/archive/retention", data={"days": "0"}).status_code == 303
    assert client.post("/admin/archive/retention/apply", data={"confirm": "yes", "unexported": "yes"}
                       ).status_code == 303
    doc = json.loads(unzip(client.get(f"/admin/sessions/{live['id']}/archive.zip").data)["session.json"])
    assert doc["session"]["purged_at"] and doc["participants"] == []
    response = client.post("/admin/archive/retention", data={"days": "-3"}, follow_redirects=True)
    assert "retention" in response.get_data(as_text=True).lower()


def test_the_worker_process_builds_the_same_archive(app, client, store, live):
    seed_session(store, live["id"], voters=4)
    app.config["ARCHIVE_IN_PROCESS"] = False
    try:
        data = client.get(f"/admin/sessions/{live['id']}/archive.zip").data
    finally:
        worker.shutdown()
    validate(json.loads(unzip(data)["session.json"]))


def test_downloaded_csvs_keep_signed_text_as_typed_and_quote_formulas(client, store, live, phone):
    """Through the doors: options typed by the facilitator, a phone's vote over its socket, the
    archive downloaded by the facilitator. "-5 degrees" is text; "=1+1" and "-1+cmd" are not."""
    from conftest import add_poll, cid, command, events_named

    poll = add_poll(store, live["id"], options=("-5 degrees", "=1+1", "-1+cmd|' /C calc'!A0"))
    command(store, live["id"], "show", poll)
    command(store, live["id"], "open", poll)
    sock = phone()
    option = events_named(sock, "snapshot")[-1]["current"]["options"][0]["id"]
    assert sock.emit("vote", {"cid": cid(), "activity": poll, "choice": option}, callback=True)["ok"]

    response = client.get(f"/f/{live['facilitator']}/archive.zip")
    assert response.status_code == 200
    csvs = {name: data.decode("utf-8-sig") for name, data in unzip(response.data).items()
            if name.startswith("activities/") and name.endswith(".csv")}
    text = "\n".join(csvs.values())
    assert "-5 degrees" in text and "'-5 degrees" not in text, text
    assert "'=1+1" in text and "'-1+cmd" in text
