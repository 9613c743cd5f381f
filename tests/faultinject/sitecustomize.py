"""Failures injected into a real server process, for tests/test_faults.py only.

A test starts `python wsgi.py` with this folder on PYTHONPATH and PALABRE_FAULTS naming a JSON
file; Python imports this module at start-up. It patches a few functions of Palabre as their
modules are imported, so that each raises (or the database refuses to grow) while the file asks
for it:

    {"presence": 2}    the broadcaster's presence step raises, twice in all
    {"heartbeat": 1}   one heartbeat iteration raises
    {"block_loop_ms": 400}  one heartbeat iteration blocks the loop's thread 400 ms in a C call
                       (libc's usleep: no monkey-patching makes it yield), as a blocking disk
                       write or lock would
    {"clouds": 1}      one word-cloud render task raises
    {"disk_full": true}  every write transaction gets PRAGMA max_page_count = its current size:
                       a write that needs one more page fails with SQLITE_FULL, as on a full disk

The test edits the file while the server runs. Without PALABRE_FAULTS this module does nothing
(the render and archive workers, also started with this PYTHONPATH, never import the targets'
code paths that matter).
"""

from __future__ import annotations

import ctypes
import importlib.abc
import importlib.machinery
import json
import os
import sys

CONTROL = os.environ.get("PALABRE_FAULTS")
_used: dict[str, int] = {}


def _wanted() -> dict:
    try:
        with open(CONTROL, encoding="utf-8") as control:
            return json.load(control)
    except (OSError, ValueError):
        return {}


def _maybe_fail(name: str) -> None:
    if _used.get(name, 0) < int(_wanted().get(name, 0) or 0):
        _used[name] = _used.get(name, 0) + 1
        raise RuntimeError(f"injected failure: {name} #{_used[name]}")


def _failing(name: str, original):
    def patched(*args, **kwargs):
        _maybe_fail(name)
        return original(*args, **kwargs)
    return patched


def _patch_push(module) -> None:
    module.Broadcaster._presence = _failing("presence", module.Broadcaster._presence)


def _blocking(original):
    def patched(*args, **kwargs):
        wanted = int(_wanted().get("block_loop_ms", 0) or 0)
        if wanted and not _used.get("block_loop_ms"):
            _used["block_loop_ms"] = 1
            ctypes.CDLL(None).usleep(wanted * 1000)
        return original(*args, **kwargs)
    return patched


def _patch_health(module) -> None:
    module.Heartbeat._beat = _blocking(_failing("heartbeat", module.Heartbeat._beat))


def _patch_images(module) -> None:
    module.CloudImages._render = _failing("clouds", module.CloudImages._render)


def _patch_store(module) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "begin")
    def _cap_size(conn):
        if conn.dialect.name != "sqlite" or not conn.get_execution_options().get("palabre_write"):
            return
        # Lower than the current size is not possible: SQLite then caps at the current size.
        limit = 1 if _wanted().get("disk_full") else 1073741823
        conn.exec_driver_sql(f"PRAGMA max_page_count = {limit}")


PATCHES = {"live.sessions.push": _patch_push, "live.health": _patch_health,
           "live.wordclouds.images": _patch_images, "live.store": _patch_store}


class _Loader(importlib.abc.Loader):
    """The module's own loader, then its patch."""

    def __init__(self, original):
        self.original = original

    def create_module(self, spec):
        return self.original.create_module(spec)

    def exec_module(self, module):
        self.original.exec_module(module)
        PATCHES[module.__name__](module)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds the target modules as usual, with a loader that patches them once they have run."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None:
            spec.loader = _Loader(spec.loader)
        return spec


if CONTROL:
    sys.meta_path.insert(0, _AfterImport())
