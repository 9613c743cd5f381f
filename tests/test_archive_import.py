"""Import: round trip, and the hostile-archive corpus (refused with a reason, nothing written)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from archive_helpers import seed_session, unzip, validate
from sqlalchemy import func, select

from live.archive import export, importer
from live.archive.document import without_export_metadata
from live.sessions.model import LiveSession


@pytest.fixture
def exported(store, live):
    seed_session(store, live["id"], voters=15)
    with store.read() as db:
        data, _, doc = export.session_zip(db, live["id"])
    return data, doc


def _import(store, data):
    docs = importer.read_archive(data)
    with store.write() as db:
        return importer.create_sessions(db, docs)


def test_round_trip_gives_the_same_session_json(store, exported):
    data, first = exported
    (new_id,) = _import(store, data)
    with store.read() as db:
        again_data, _, again = export.session_zip(db, new_id)
    validate(again)
    assert again["export"]["read_only"] is True
    assert without_export_metadata(again) == without_export_metadata(first)
    assert json.loads(unzip(again_data)["session.json"])["session"] == first["session"]


def test_an_imported_session_is_read_only(store, exported):
    from live.errors import DomainError
    from live.sessions import service

    (new_id,) = _import(store, exported[0])
    with store.write() as db:
        s = service.get_session(db, new_id)
        assert s.state == "ended"
        with pytest.raises(DomainError):
            service.session_by_code(db, s.join_code)


def _zip(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name == symlink:
                info.external_attr = 0o120777 << 16
            z.writestr(info, data)
    return buffer.getvalue()


def _session_json(exported) -> bytes:
    return unzip(exported[0])["session.json"]


def _edited(exported, change) -> bytes:
    doc = json.loads(_session_json(exported))
    change(doc)
    return _zip({"session.json": json.dumps(doc).encode()})


HOSTILE = {
    "import_bad_path": lambda e: _zip({"../evil.txt": b"x", "session.json": _session_json(e)}),
    "import_bad_path_abs": lambda e: _zip({"/etc/passwd": b"x", "session.json": _session_json(e)}),
    "import_bad_path_win": lambda e: _zip({"C:\\evil.txt": b"x", "session.json": _session_json(e)}),
    "import_symlink": lambda e: _zip({"link": b"/etc/passwd", "session.json": _session_json(e)},
                                     symlink="link"),
    "import_compression_ratio": lambda e: _zip({"bomb.txt": b"\0" * (20 * 1024 * 1024),
                                                "session.json": _session_json(e)}),
    "import_too_many_members": lambda e: _zip({f"f{i}.txt": b"" for i in range(importer.MAX_MEMBERS + 1)}),
    "import_not_zip": lambda e: b"PK\x03\x04 definitely not a zip",
    "import_no_session": lambda e: _zip({"hello.txt": b"hi"}),
    "import_bad_json": lambda e: _zip({"session.json": b"{\"schema_version\": 1, "}),
    "import_bad_json_deep": lambda e: _zip({"session.json": b"[" * 100000 + b"]" * 100000}),
    "import_bad_json_nan": lambda e: _zip({"session.json": b"{\"schema_version\": NaN}"}),
    "import_wrong_version": lambda e: _edited(e, lambda d: d.update(schema_version=99)),
    "import_bad_schema": lambda e: _edited(e, lambda d: d["session"].update(kind="<script>")),
    "import_bad_schema_extra": lambda e: _edited(e, lambda d: d.update(extra=1)),
    "import_bad_reference": lambda e: _edited(
        e, lambda d: d["activities"][0]["votes"][0].update(participant="p999")),
    "import_bad_reference_option": lambda e: _edited(
        e, lambda d: d["activities"][0]["votes"][0].update(choice=["o9"])),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused_and_nothing_is_written(store, exported, case):
    data = HOSTILE[case](exported)
    with store.read() as db:
        before = db.scalar(select(func.count(LiveSession.id)))
    with pytest.raises(importer.ImportRefused) as refused:
        _import(store, data)
    assert refused.value.code == _expected_code(case)
    assert refused.value.code in importer_messages()
    with store.read() as db:
        assert db.scalar(select(func.count(LiveSession.id))) == before


def _expected_code(case: str) -> str:
    for suffix in ("_abs", "_win", "_deep", "_nan", "_extra", "_option"):
        case = case.removesuffix(suffix)
    return case


def importer_messages():
    from live.i18n import MESSAGES

    return MESSAGES


def test_an_oversized_upload_is_refused(monkeypatch, exported):
    monkeypatch.setattr(importer, "MAX_UPLOAD", 100)
    with pytest.raises(importer.ImportRefused) as refused:
        importer.read_archive(exported[0])
    assert refused.value.code == "import_too_large"


def test_an_event_archive_imports_every_session(store, live):
    from live.sessions import service

    seed_session(store, live["id"], voters=5)
    with store.write() as db:
        event = service.get_session(db, live["id"]).event
        other = service.create_session(db, event, "workshop", "Atelier 1", locale="fr")
        event_id, other_id = event.id, other.id
    seed_session(store, other_id, voters=4, seed=2)
    with store.read() as db:
        data, _, info = export.event_zip(db, event_id)
    assert info["sessions"] == 2
    ids = _import(store, data)
    assert len(ids) == 2
    with store.read() as db:
        assert len({service.get_session(db, i).event_id for i in ids}) == 1
