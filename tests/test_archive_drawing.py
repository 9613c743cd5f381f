"""Charts of archives: drawn in chart processes, remembered in memory and on disk, never leaked."""

from __future__ import annotations

import os
import time

import pytest
from archive_helpers import seed_session, unzip
from support import still_running

from live.archive import drawing, export, worker
from live.render import charts

BARS = {"chart": "bars", "name": "results", "title": "Que faire ?", "labels": ["Réparer", "Partager"],
        "values": [3, 1], "unit": "votes", "total": 4, "percent": True, "vertical": False, "note": "4"}


@pytest.fixture(autouse=True)
def _forget():
    drawing._drawn.clear()
    yield
    drawing._drawn.clear()


def test_drawn_charts_are_reused_from_disk(tmp_path, monkeypatch):
    cache = drawing.ChartCache(tmp_path, 10 * 1024 * 1024)
    first = drawing.Drawer(cache=cache)(BARS)
    assert first["svg"].startswith(b"<?xml") and first["png"].startswith(b"\x89PNG")
    drawing._drawn.clear()  # as after a restart
    monkeypatch.setattr(charts, "render", lambda spec: pytest.fail("drawn again"))
    assert drawing.Drawer(cache=cache)(BARS) == first


def test_the_cache_key_follows_the_spec_and_the_renderer_version(monkeypatch):
    key = drawing.spec_key(BARS)
    assert drawing.spec_key(dict(reversed(list(BARS.items())))) == key
    assert drawing.spec_key({**BARS, "values": [3, 2]}) != key
    drawing._versions.cache_clear()
    monkeypatch.setattr(charts, "VERSION", "test")
    try:
        assert drawing.spec_key(BARS) != key
    finally:
        drawing._versions.cache_clear()


def test_the_disk_cache_evicts_the_oldest_used(tmp_path):
    cache = drawing.ChartCache(tmp_path, 3000)
    for n in range(4):
        cache.put(f"{n:02d}" * 32, {"svg": b"s" * 500, "png": b"p" * 500})
        stamp = time.time() - 100 + n
        os.utime(cache._path(f"{n:02d}" * 32, "png"), (stamp, stamp))
    assert cache.get("00" * 32) is not None  # used again: now the newest
    cache.evict()
    kept = sorted(p.stem for p in tmp_path.glob("*/*.png"))
    assert kept == ["00" * 32, "02" * 32, "03" * 32]  # 3,000 bytes at most: the oldest-used went


def test_a_missing_or_unwritable_cache_only_loses_the_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = drawing.ChartCache(blocker / "cache", 1024)
    cache.put("ab" * 32, {"svg": b"s", "png": b"p"})
    assert cache.get("ab" * 32) is None
    cache.evict()


def test_chart_processes_draw_the_same_bytes_and_stop_with_the_worker(tmp_path):
    worker._executor().submit(worker.warm_up, str(tmp_path / "charts"), 8).result(timeout=120)
    try:
        pids = worker._executor().submit(drawing.worker_pids).result(timeout=30)
        assert len(pids) == min(2, os.cpu_count() or 1) or not hasattr(os, "fork")
        inline = charts.render(BARS)
        drawn = worker._executor().submit(_draw_in_worker, BARS).result(timeout=60)
        assert drawn == inline
        assert list((tmp_path / "charts").glob("*/*.png"))
    finally:
        worker.shutdown()
    assert still_running(pids) == [], "chart processes outlived the archive worker"


def test_the_worker_with_chart_processes_builds_the_same_files(store, live, tmp_path):
    seed_session(store, live["id"], voters=12)
    with store.read() as db:
        inline = unzip(export.session_zip(db, live["id"], drawing.Drawer())[0])
    worker._executor().submit(worker.warm_up, str(tmp_path / "charts"), 8).result(timeout=120)
    try:
        pooled = unzip(worker.run(False, worker.session_zip, store.url, live["id"])[0])
    finally:
        worker.shutdown()
    assert sorted(pooled) == sorted(inline)
    for name in inline:
        if name == "session.json":
            assert _without_export(pooled[name]) == _without_export(inline[name])
        elif name != "report.html":  # it shows the export time
            assert pooled[name] == inline[name], name


def _without_export(data: bytes) -> list[bytes]:
    return [line for line in data.splitlines() if b'"exported_at"' not in line]


def _draw_in_worker(spec: dict) -> dict:
    drawer = worker._drawer()
    drawer.prefetch(spec)
    try:
        return drawer(spec)
    finally:
        drawer.close()
