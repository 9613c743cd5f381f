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
the font, is paid once per worker at `start()` (pre-warm: the server starts the pool when a
word cloud is shown or opened, `live.wordclouds.images.prepare`), not on the first render. The
processes are `live.procpool`'s: at a lower priority than the server, exiting if the server
dies, shut down at exit, replaced when one died.

Use, from a Socket.IO background task:

    pool = default_pool().start()                  # a cloud shown: workers warm up meanwhile
    job = pool.render({"sobriété": 12, "low-tech": 8})
    svg = job.wait(socketio.sleep)                 # the loop keeps turning while it renders

`submit_svg()` does the same on the default pool.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass

from live.procpool import PoolFull, ProcessPool
from live.render import HEIGHT, WIDTH

IDLE_SECONDS = 300.0  # the workers stop after this long without a render (the next one starts them)
RENDERER_VERSION = "4"  # keep in step with live.render.wordcloud.RENDERER_VERSION
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

    def __init__(self, workers: int = 1, cache_size: int = 64, start_method: str = "spawn",
                 idle_seconds: float = IDLE_SECONDS):
        self.workers, self.cache_size, self.start_method = workers, cache_size, start_method
        self.idle_seconds = idle_seconds
        self._executor: ProcessPool | None = None
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._in_flight: dict[str, _Slot] = {}
        self._lock = threading.RLock()

    def start(self) -> RenderPool:
        """Start and pre-warm the workers unless they run (returns at once; they warm up in the
        background). They stop after `idle_seconds` without a render; the next start or render
        starts them again."""
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPool(self.workers, method=self.start_method,
                                             initializer=_warm_worker, idle_timeout=self.idle_seconds)
            if not self._executor.running:
                self._executor.warm()  # one call per worker: each warms up before running it
        return self

    def ready(self) -> bool:
        """Whether the workers have started and warmed up (fonts loaded)."""
        with self._lock:
            return self._executor is not None and self._executor.ready()

    def render(self, frequencies: Mapping[str, float], fmt: str = "svg", width: int = WIDTH,
               height: int = HEIGHT, theme: str = "light") -> RenderJob:
        """Ask for an image now (no debounce): cached, and joined with an identical render in flight."""
        slot = self._slot_for(frequencies, fmt, width, height, theme)
        with self._lock:
            if slot.value is None and slot.future is None:
                self._launch(slot)
        return RenderJob(self, slot)

    def cached(self, frequencies: Mapping[str, float], fmt: str = "svg", width: int = WIDTH,
               height: int = HEIGHT, theme: str = "light") -> bytes | None:
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
            executor.shutdown(wait=wait)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        executor = self._executor
        return executor.worker_pids() if executor is not None else []

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
        try:  # a worker that died (killed, out of memory) is replaced by the pool
            slot.future = self._executor.submit(_render, slot.request)
        except PoolFull as exc:
            slot.error = RenderError("too many renders waiting")
            slot.error.__cause__ = exc
            return
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


def submit_svg(frequencies: Mapping[str, float], width: int = WIDTH, height: int = HEIGHT,
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


def _warm_worker() -> None:
    """Worker initializer (after `live.procpool`'s: lower priority, exit with the server): load
    wordcloud and the font."""
    from live.render import wordcloud

    wordcloud.warm_up()


def _render(request: dict) -> bytes:
    from live.render.wordcloud import render

    return render(**request)
