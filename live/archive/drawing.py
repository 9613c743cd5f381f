"""The charts of archives: drawn on both cores while the rest is built, and remembered.

A session of 40 activities has ~20 charts (matplotlib bars, word clouds): ~5 s of CPU on one
core, more than the rest of its archive. So the archive worker hands each chart spec to a
small pool of chart processes as soon as its activity is read from the database
(`Drawer.prefetch`), builds session.json and the CSVs meanwhile, and collects the images
last (`Drawer.__call__`). Without a pool (tests, threading mode, CLI) charts are drawn inline.

Drawn charts are remembered by content (sha256 of the spec and of the renderers' versions):

- in memory, the last `KEPT` (a re-export redraws nothing);
- on disk, when a folder is configured (`ARCHIVE_CHART_CACHE`, by default `chart-cache/` in
  the instance folder), so that an export after a restart reuses them too. Oldest-used files
  are evicted beyond `ARCHIVE_CHART_CACHE_MB`.

The chart processes are forked from the archive worker once it has warmed up (matplotlib,
fonts and the word-cloud renderer already loaded: a fork costs milliseconds, a spawn ~1 s).
The archive worker is a spawned, never monkey-patched interpreter, so forking it is safe.
They are daemonic (stopped when the archive worker exits), run at its lower CPU priority and
exit by themselves if it dies.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from pathlib import Path

from live.procpool import ProcessPool
from live.render import charts

KEPT = 96  # charts of about two big sessions in memory; a few tens of MB at most
FORMATS = ("svg", "png")

_drawn: OrderedDict[str, dict[str, bytes]] = OrderedDict()
_pool: ProcessPool | None = None
_workers = 0
_cache: ChartCache | None = None


@lru_cache(maxsize=1)
def _versions() -> str:
    import matplotlib

    from live.render.pool import RENDERER_VERSION

    return f"charts {charts.VERSION}, wordcloud {RENDERER_VERSION}, matplotlib {matplotlib.__version__}"


def spec_key(spec: dict) -> str:
    """The cache key of a chart: its spec and the versions of what draws it."""
    canonical = json.dumps([_versions(), spec], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ChartCache:
    """Drawn charts on disk, `<folder>/<ab>/<key>.svg|png`, oldest-used evicted beyond `limit` bytes."""

    def __init__(self, folder: str | os.PathLike, limit: int):
        self.folder, self.limit = Path(folder), limit

    def _path(self, key: str, fmt: str) -> Path:
        return self.folder / key[:2] / f"{key}.{fmt}"

    def get(self, key: str) -> dict[str, bytes] | None:
        """The images of `key`, or None."""
        try:
            drawn = {fmt: self._path(key, fmt).read_bytes() for fmt in FORMATS}
            os.utime(self._path(key, "png"))  # recently used: evicted last
        except OSError:
            return None
        return drawn

    def put(self, key: str, drawn: dict[str, bytes]) -> None:
        """Store the images of `key` (atomically; a full or read-only disk only loses the cache)."""
        try:
            self._path(key, "png").parent.mkdir(parents=True, exist_ok=True)
            for fmt in ("svg", "png"):  # the PNG last: its presence marks a complete entry
                path = self._path(key, fmt)
                temporary = path.with_name(f".{path.name}.{os.getpid()}")
                temporary.write_bytes(drawn[fmt])
                os.replace(temporary, path)
        except OSError:
            pass

    def evict(self) -> None:
        """Delete the oldest-used entries while the cache is over its limit."""
        entries, total = [], 0
        for png in self.folder.glob("*/*.png"):
            svg = png.with_suffix(".svg")
            try:
                size = png.stat().st_size + (svg.stat().st_size if svg.exists() else 0)
                entries.append((png.stat().st_mtime, size, png, svg))
            except OSError:
                continue
            total += size
        for _, size, png, svg in sorted(entries):
            if total <= self.limit:
                break
            for path in (png, svg):
                path.unlink(missing_ok=True)
            total -= size


def configure(cache_folder: str | None = None, cache_mb: float = 64, workers: int | None = None) -> None:
    """In the archive worker: the disk cache (None: none) and the chart processes (0: inline)."""
    global _cache, _workers
    _cache = ChartCache(cache_folder, int(cache_mb * 1024 * 1024)) if cache_folder else None
    _workers = min(2, os.cpu_count() or 1) if workers is None else workers
    if _workers > 1 and hasattr(os, "fork"):
        _start_pool()


def _start_pool() -> None:
    global _pool
    if _pool is None and _workers > 1 and hasattr(os, "fork"):
        # Daemonic forks of this warm archive worker, at its priority already (nice=0 more).
        _pool = ProcessPool(_workers, method="fork", daemon=True, nice=0)
        # Fork them now, while this process is idle and warm.
        for future in _pool.warm():
            future.result()


def shutdown() -> None:
    """Stop the chart processes."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False)
        _pool = None


def worker_pids() -> list[int]:
    """Process ids of the chart processes (tests, diagnostics)."""
    return _pool.worker_pids() if _pool is not None else []


class Drawer:
    """Draws the charts of one export: `prefetch(spec)` starts a chart, `drawer(spec)` returns it."""

    def __init__(self, pool: ProcessPool | None = None, cache: ChartCache | None = None):
        self._pool, self._cache = pool, cache
        self._started: dict[str, Future] = {}
        self._stored = 0

    def prefetch(self, spec: dict) -> None:
        """Start drawing `spec` in a chart process, unless it is remembered (no-op without a pool)."""
        key = spec_key(spec)
        if self._pool is None or key in _drawn or key in self._started or self._recall(key):
            return
        try:
            self._started[key] = self._pool.submit(charts.render, spec)
        except (BrokenProcessPool, RuntimeError):
            self._pool = None

    def start(self, key, fn, *args) -> None:
        """Start `fn(*args)` in a chart process (no-op without a pool); `job(key, ...)` collects it."""
        if self._pool is None or key in self._started:
            return
        try:
            self._started[key] = self._pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):
            self._pool = None

    def job(self, key, fn, *args):
        """The result of `fn(*args)`: started earlier by `start(key, ...)`, or computed here."""
        started = self._started.pop(key, None)
        if started is not None:
            try:
                return started.result()
            except BrokenProcessPool:
                _reset_pool()
        return fn(*args)

    def __call__(self, spec: dict) -> dict[str, bytes]:
        key = spec_key(spec)
        if key in _drawn or self._recall(key):
            _drawn.move_to_end(key)
            return _drawn[key]
        drawn = None
        started = self._started.pop(key, None)
        if started is not None:
            try:
                drawn = started.result()
            except BrokenProcessPool:
                _reset_pool()
        if drawn is None:
            drawn = charts.render(spec)
        self._remember(key, drawn)
        if self._cache is not None:
            self._cache.put(key, drawn)
            self._stored += 1
        return drawn

    def close(self) -> None:
        """After an export: evict old cache entries if this one added any."""
        for future in self._started.values():
            future.cancel()
        self._started.clear()
        if self._cache is not None and self._stored:
            self._cache.evict()
        self._stored = 0

    def _recall(self, key: str) -> bool:
        if key in _drawn:
            return True
        drawn = self._cache.get(key) if self._cache is not None else None
        if drawn is not None:
            self._remember(key, drawn)
        return drawn is not None

    @staticmethod
    def _remember(key: str, drawn: dict[str, bytes]) -> None:
        _drawn[key] = drawn
        _drawn.move_to_end(key)
        while len(_drawn) > KEPT:
            _drawn.popitem(last=False)


def drawer() -> Drawer:
    """A drawer using this process's chart processes and disk cache, if configured."""
    return Drawer(_pool, _cache)


def _reset_pool() -> None:
    """A chart process died (killed, out of memory): fresh ones for next time."""
    global _pool
    if _pool is None:
        return
    try:
        _pool.restart_if_broken()
    except (OSError, BrokenProcessPool):
        _pool.shutdown(wait=False)
        _pool = None
