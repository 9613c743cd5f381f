"""Render word clouds off the event loop: a process pool and a content cache.

Rendering is CPU-bound Python that holds the GIL for ~0.2 s: in the server process it would
freeze every phone in the room. So it runs in worker processes, and nothing here ever blocks:

- `render()` returns a `RenderJob` at once. The caller polls `job.done()` and sleeps with the
  function its event loop provides (`job.wait(socketio.sleep)`), so the loop keeps turning. This
  module imports neither eventlet nor gevent, and starts no thread in the server process beyond
  the executor's own.
- Results are cached by content: sha256 of the canonical input (sorted words and weights,
  format, size, theme, renderer version). Identical content is never rendered twice.
- A request equal to a render in flight joins it. Debouncing a cloud that changes often is the
  caller's business (`live.wordclouds.images` renders a cloud at most once a second).

Workers are started with the `spawn` method, not `fork`: forking a process whose standard
library eventlet or gevent has monkey-patched, and which runs threads (the executor's own, the
database's), copies locks in whatever state they were and the hub's sockets; a spawned worker is
a fresh interpreter that never sees the patching. (`forkserver` would do too, on Unix only;
spawn also works on macOS and Windows laptops.) The price, ~1 s to import wordcloud and load
the font, is paid once per worker at `start()` (pre-warm), not on the first render. Workers run
at a lower priority than the server, exit if the server dies, and are shut down at exit.

Use, from a Socket.IO background task:

    pool = default_pool().start()                  # at app start: workers warm up meanwhile
    job = pool.render({"sobriété": 12, "low-tech": 8})
    svg = job.wait(socketio.sleep)                 # the loop keeps turning while it renders

`submit_svg()` does the same on the default pool.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import multiprocessing
import multiprocessing.context
import os
import sys
import threading
import time
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

RENDERER_VERSION = "1"  # keep in step with live.render.wordcloud.RENDERER_VERSION
FORMATS = ("svg", "png")


class RenderError(RuntimeError):
    """A render that failed in its worker (the cause is chained)."""


@dataclass(eq=False)
class _Slot:
    """One render: what to render, and then its future or its outcome."""

    digest: str
    request: dict
    future: Future | None = None
    value: bytes | None = None
    error: BaseException | None = None


class RenderJob:
    """A render requested from the pool: poll `done()`, then read `result()`; never blocks."""

    def __init__(self, pool: RenderPool, slot: _Slot):
        self._pool, self._slot = pool, slot

    @property
    def digest(self) -> str:
        """Content hash of what this job renders."""
        return self._slot.digest

    def done(self) -> bool:
        """Whether the image is ready (or the render failed); also collects finished renders."""
        self._pool._collect_finished()
        return self._slot.value is not None or self._slot.error is not None

    def result(self) -> bytes:
        """The image bytes; raise RenderError if the render failed, RuntimeError if not done."""
        if not self.done():
            raise RuntimeError("render not finished: poll done() first")
        if self._slot.error is not None:
            raise RenderError(str(self._slot.error)) from self._slot.error
        return self._slot.value

    def wait(self, sleep: Callable[[float], object], interval: float = 0.02,
             timeout: float | None = None) -> bytes:
        """Poll until done, calling `sleep(interval)` in between (e.g. socketio.sleep)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("render took too long")
            sleep(interval)
        return self.result()


class RenderPool:
    """Worker processes rendering word clouds, with a content cache."""

    def __init__(self, workers: int = 1, cache_size: int = 64, start_method: str = "spawn"):
        self.workers, self.cache_size, self.start_method = workers, cache_size, start_method
        self._executor: ProcessPoolExecutor | None = None
        self._warming: list[Future] = []
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._in_flight: dict[str, _Slot] = {}
        self._lock = threading.RLock()

    def start(self) -> RenderPool:
        """Start and pre-warm the workers (returns at once; they warm up in the background)."""
        with self._lock:
            if self._executor is None:
                context = _WorkerContext() if self.start_method == "spawn" else \
                    multiprocessing.get_context(self.start_method)
                self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                     initializer=_start_worker)
                # Each submission spawns one worker, which warms up before running it.
                self._warming = [self._executor.submit(os.getpid) for _ in range(self.workers)]
                _stop_before_exit(self)
        return self

    def ready(self) -> bool:
        """Whether the workers have started and warmed up (fonts loaded)."""
        with self._lock:
            return self._executor is not None and all(
                future.done() and not future.cancelled() and future.exception() is None
                for future in self._warming)

    def render(self, frequencies: Mapping[str, float], fmt: str = "svg", width: int = 1280,
               height: int = 720, theme: str = "light") -> RenderJob:
        """Ask for an image now (no debounce): cached, and joined with an identical render in flight."""
        slot = self._slot_for(frequencies, fmt, width, height, theme)
        with self._lock:
            if slot.value is None and slot.future is None:
                self._launch(slot)
        return RenderJob(self, slot)

    def cached(self, frequencies: Mapping[str, float], fmt: str = "svg", width: int = 1280,
               height: int = 720, theme: str = "light") -> bytes | None:
        """The image of this content if it was rendered recently, else None."""
        with self._lock:
            return self._cache.get(content_digest(frequencies, fmt, width, height, theme))

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers; unfinished jobs fail with RenderError. The pool can start again."""
        with self._lock:
            executor, self._executor = self._executor, None
            unfinished = list(self._in_flight.values())
            for slot in unfinished:
                if slot.value is None and slot.error is None:
                    slot.error = RenderError("the render pool was shut down")
            self._in_flight.clear()
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        executor = self._executor
        return sorted(executor._processes) if executor is not None else []

    def __enter__(self) -> RenderPool:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    # Internals: every state change happens under the lock, from the callers' own polling.

    def _slot_for(self, frequencies, fmt, width, height, theme) -> _Slot:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        words = {str(text): float(weight) for text, weight in frequencies.items()}
        digest = content_digest(words, fmt, width, height, theme)
        request = {"frequencies": words, "fmt": fmt, "width": width, "height": height, "theme": theme}
        with self._lock:
            if digest in self._cache:
                self._cache.move_to_end(digest)
                return _Slot(digest, request, value=self._cache[digest])
            return self._in_flight.get(digest) or _Slot(digest, request)

    def _collect_finished(self) -> None:
        with self._lock:
            for slot in list(self._in_flight.values()):
                self._collect(slot)

    def _launch(self, slot: _Slot) -> None:
        self.start()
        try:
            slot.future = self._executor.submit(_render, slot.request)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool once.
            self._executor = None
            self.start()
            slot.future = self._executor.submit(_render, slot.request)
        self._in_flight[slot.digest] = slot

    def _collect(self, slot: _Slot) -> None:
        if slot.future is None or not slot.future.done() or slot.value is not None or slot.error:
            return
        if self._in_flight.get(slot.digest) is slot:
            del self._in_flight[slot.digest]
        error = RenderError("render cancelled") if slot.future.cancelled() else slot.future.exception()
        if error is not None:
            slot.error = error
            return
        slot.value = slot.future.result()
        self._cache[slot.digest] = slot.value
        self._cache.move_to_end(slot.digest)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)


def _stop_before_exit(pool: RenderPool) -> None:
    """Shut the pool down at interpreter exit, before multiprocessing joins its children.

    Normally concurrent.futures stops its workers from a `threading` exit hook; eventlet's
    patched threading never runs those hooks, so multiprocessing's own exit hook would then wait
    forever for workers nobody told to stop, and the server would hang after Ctrl-C. `atexit`
    hooks run last-in, first-out, so this one runs before multiprocessing's.
    """
    reference = weakref.ref(pool)

    def stop() -> None:
        alive = reference()
        if alive is not None:
            alive.shutdown()

    atexit.register(stop)


def content_digest(frequencies: Mapping[str, float], fmt: str, width: int, height: int, theme: str) -> str:
    """sha256 of the canonical form of a render request (the cache key)."""
    words = sorted((str(text), float(weight)) for text, weight in frequencies.items())
    canonical = json.dumps([RENDERER_VERSION, fmt, width, height, theme, words], ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# The application's pool --------------------------------------------------------------------------

_pool: RenderPool | None = None


def default_pool() -> RenderPool:
    """The process-wide pool, created (not started) on first use."""
    global _pool
    if _pool is None:
        _pool = RenderPool()
    return _pool


def submit_svg(frequencies: Mapping[str, float], width: int = 1280, height: int = 720,
               theme: str = "light") -> RenderJob:
    """Render an SVG in the default pool (cached; the caller debounces)."""
    return default_pool().render(frequencies, "svg", width, height, theme)


def shutdown() -> None:
    """Stop the default pool's workers."""
    global _pool
    if _pool is not None:
        _pool.shutdown()
        _pool = None


# In the worker processes -----------------------------------------------------------------------


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    """A spawned worker that does not re-run the server's main script.

    Spawn normally re-imports `__main__` in each child (`wsgi.py` would build a whole app there,
    a `python -` or REPL parent could not be imported at all). Workers only run functions of
    this module, so the parent's `__main__` is hidden while a worker is being launched.
    """

    @staticmethod
    def _Popen(process_obj):
        saved = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            return multiprocessing.context.SpawnProcess._Popen(process_obj)
        finally:
            sys.modules["__main__"] = saved


class _WorkerContext(multiprocessing.context.SpawnContext):
    Process = _WorkerProcess



def _start_worker() -> None:
    """Worker initializer: yield the CPU to the server, exit with it, load wordcloud and the font."""
    if hasattr(os, "nice"):
        os.nice(10)  # on a two-core laptop the event loop must win the CPU, renders can wait
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    from live.render import wordcloud

    wordcloud.warm_up()


def _exit_with(sentinel: int) -> None:
    from multiprocessing.connection import wait

    wait([sentinel])
    os._exit(0)


def _render(request: dict) -> bytes:
    from live.render.wordcloud import render

    return render(**request)
