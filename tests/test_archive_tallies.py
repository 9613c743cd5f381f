"""door-codes.csv and footprint.csv in the session archive: the counts of session.json as
tables (never a code nor who used it), neutralised like every CSV, the same after an import."""

import json

from archive_helpers import unzip, validate
from conftest import choose_language

from live import footprint
from live.archive import export, importer, tallies
from live.archive.csvsafe import read_csv
from live.archive.labels import labels_for
from live.sessions import doorcodes, service


def _zip_of(store, session_id):
    with store.read() as db:
        data, _, doc = export.session_zip(db, session_id)
    return data, unzip(data), doc


def _table(files, name, locale="fr"):
    return {row[0]: row[1:] for row in read_csv(files[name], locale)[1:]}


def test_the_zip_has_the_door_code_counts_and_the_footprint_as_csv_and_the_import_keeps_them(
        app, client, store, live):
    with store.write() as db:
        issued = doorcodes.issue(db, service.get_session(db, live["id"]), 4)
    codes = [code for _number, code in issued]
    assert app.test_client().post(f"/j/{live['code']}/door", data={"door_code": codes[0]}).status_code == 303
    client.post(f"/admin/sessions/{live['id']}/codes/3/revoke")
    choose_language(client).get(f"/j/{live['code']}")
    footprint.flush(store)
    downloaded = unzip(client.get(f"/f/{live['facilitator']}/archive.zip").data)
    assert "door-codes.csv" in downloaded and "footprint.csv" in downloaded
    assert "door-codes.csv" in downloaded["README.txt"].decode()
    data, files, doc = _zip_of(store, live["id"])
    validate(doc)
    # French session: semicolons, French headers, the counts of session.json.
    assert files["door-codes.csv"].decode("utf-8-sig").startswith("champ;valeur\r\n")
    assert _table(files, "door-codes.csv") == {"issued": ["4"], "used": ["1"], "unused": ["2"],
                                               "revoked": ["1"]}
    for code in codes:
        assert code.encode() not in files["door-codes.csv"]
        assert doorcodes.code_hash(code).encode() not in files["door-codes.csv"]
    table = _table(files, "footprint.csv")
    section = doc["footprint"]
    for key in ("bytes", "requests", "bytes_per_participant", "http_bytes", "peak_phones"):
        assert table[key] == [str(section[key])], key
    assert float(table["cpu_seconds"][0].replace(",", ".")) == section["cpu_seconds"]
    assert float(table["wh"][0].replace(",", ".")) == section["wh"] > 0
    assert float(table["gco2e"][0].replace(",", ".")) == section["gco2e"] > 0
    assert float(table["grid_g_per_kwh"][0].replace(",", ".")) == footprint.GRID_G_PER_KWH
    sources = [row[1] for row in read_csv(files["footprint.csv"], "fr") if row[0] == "source"]
    assert sources == list(footprint.SOURCES)
    # The import reads session.json; the copy exports the same two tables.
    docs = importer.read_archive(data)
    with store.write() as db:
        (new_id,) = importer.create_sessions(db, docs)
    _, again, _ = _zip_of(store, new_id)
    assert again["door-codes.csv"] == files["door-codes.csv"]
    assert again["footprint.csv"] == files["footprint.csv"]


def test_without_codes_there_is_no_door_code_table_and_english_uses_commas(app, client, store, live):
    with store.write() as db:
        service.get_session(db, live["id"]).locale = "en"
    _, files, doc = _zip_of(store, live["id"])
    assert "door_codes" not in doc["session"] and "door-codes.csv" not in files
    assert files["footprint.csv"].decode("utf-8-sig").startswith("field,value\r\n")
    requests = int(_table(files, "footprint.csv", "en")["requests"][0])
    assert json.loads(files["session.json"])["footprint"]["requests"] == requests


def test_a_formula_in_a_footprint_cell_is_neutralised():
    doc = {"session": {"door_codes": None},
           "footprint": {"bytes": 1, "sources": ["=HYPERLINK(\"x\")", "@SUM(A1)"]}}
    text = tallies.csv_files(doc, labels_for("en"), "en")["footprint.csv"].decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\r\nsource,'@SUM(A1)\r\n" in text
