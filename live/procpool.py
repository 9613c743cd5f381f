"""One process pool for the work that must not run on the event loop: renders, archives, charts.

A thin layer over `concurrent.futures.ProcessPoolExecutor` that holds what the three users
need alike, so that none of them writes it again:

- **Started when first needed** (`submit`, `run`), or ahead of time with `start()`; `warm()`
  makes every worker start now (one trivial call each) and returns their futures.
- **Stopped when idle**: a pool made with `idle_timeout` stops its workers once no call has
  been made for that long and none is unfinished (`stop_if_idle`; the server calls
  `reap_idle()` every few seconds); the next call starts them again. An idle worker costs
  tens of megabytes that a hall of phones needs more. Once no pool runs, multiprocessing's
  resource tracker (a helper process the first spawned pool started) stops too
  (`stop_tracker_if_unused`); the next pool starts it again.
- **Lower priority**: workers `os.nice(nice)` themselves (on a two-core laptop the event loop
  must win the CPU; a render or an archive can wait).
- **Exit with their parent**: each worker watches its parent (its sentinel, and its pid) and
  exits as soon as it is gone, even when the parent was killed with -9.
- **Stopped at exit**: `atexit` shuts the pool down before multiprocessing joins its children.
  Normally concurrent.futures does this from a `threading` exit hook, which eventlet's patched
  threading never runs: the server would hang after Ctrl-C.
- **Restarted when broken**: a worker that died (killed, out of memory) breaks the executor;
  the next `submit` starts a fresh one, and `run` runs its call again once.
- **Bounded**: at most `max_pending` calls submitted and unfinished; one more raises `PoolFull`
  (a `RuntimeError`) rather than growing a queue without end.

Start methods: `"spawn"` workers are fresh interpreters that never see eventlet's or gevent's
patching (forking a patched, threaded server would copy its locks and hub); the parent's
`__main__` is hidden while one is launched, so `wsgi.py` or a `python -` parent is not run
again in the worker. `"fork"` (with `daemon=True`) is for pools started from a spawned worker
that is already warm: a fork costs milliseconds where a spawn costs a second, and daemonic
children stop when that worker exits.

    pool = ProcessPool(workers=1, initializer=warm_up)
    future = pool.submit(fn, arg)      # at once; the pool starts if it was not running
    value = pool.run(fn, arg)          # waits (cooperatively once eventlet/gevent patched)
    pool.shutdown()
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.context
import os
import sys
import threading
import time
import types
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

METHODS = ("spawn", "fork")


class PoolFull(RuntimeError):
    """More calls are waiting for the pool than it accepts (`max_pending`)."""


class ProcessPool:
    """Worker processes at a lower priority, started on demand, restarted when broken."""

    def __init__(self, workers: int = 1, *, method: str = "spawn", nice: int = 10,
                 daemon: bool = False, initializer: Callable[..., object] | None = None,
                 initargs: tuple = (), max_pending: int = 256, idle_timeout: float | None = None):
        if method not in METHODS:
            raise ValueError(f"unknown start method {method!r}")
        if daemon and method != "fork":
            raise ValueError("daemonic workers are forked ones")
        self.workers, self.method, self.nice, self.daemon = workers, method, nice, daemon
        self.initializer, self.initargs, self.max_pending = initializer, initargs, max_pending
        self.warming: list[Future] = []
        self._executor: ProcessPoolExecutor | None = None
        self._pending: set[Future] = set()
        self._lock = threading.RLock()
        self._exit_hook = False
        self.idle_timeout = idle_timeout
        self._last_used = time.monotonic()
        _POOLS.add(self)

    @property
    def running(self) -> bool:
        """Whether the workers are started (or being started)."""
        return self._executor is not None

    def start(self) -> ProcessPool:
        """Create the executor if there is none (its workers start with the first calls)."""
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=_context(self.method, self.daemon),
                    initializer=_start_worker,
                    initargs=(os.getpid(), self.nice, self.initializer, self.initargs))
                self.warming = []
                if not self._exit_hook:
                    _stop_before_exit(self)
                    self._exit_hook = True
        return self

    def warm(self) -> list[Future]:
        """Start every worker now (each runs its initializer); the futures give their pids."""
        with self._lock:
            self.start()
            self._last_used = time.monotonic()  # idle time counts from now (and the warm-up's end)
            self.warming = [self._executor.submit(os.getpid) for _ in range(self.workers)]
            for future in self.warming:
                future.add_done_callback(self._touch)
            return self.warming

    def ready(self) -> bool:
        """Whether `warm()` was called and every worker has started without error."""
        with self._lock:
            return self._executor is not None and bool(self.warming) and all(
                future.done() and not future.cancelled() and future.exception() is None
                for future in self.warming)

    def submit(self, fn: Callable, *args) -> Future:
        """Start `fn(*args)` in a worker and return its future at once."""
        with self._lock:
            self._pending = {future for future in self._pending if not future.done()}
            if len(self._pending) >= self.max_pending:
                raise PoolFull(f"{len(self._pending)} calls already wait for the pool")
            self._last_used = time.monotonic()
            if self.broken():
                self.restart()  # a worker died: do not hand this call to its executor
            self.start()
            try:
                future = self._executor.submit(fn, *args)
            except BrokenProcessPool:
                self.restart()  # a worker died: fresh workers, once
                future = self._executor.submit(fn, *args)
            self._pending.add(future)
            future.add_done_callback(self._touch)  # idle time counts from the last call's end
            return future

    def _touch(self, _future=None) -> None:
        self._last_used = time.monotonic()

    def run(self, fn: Callable, *args):
        """`fn(*args)` in a worker, waiting for it; run again once if its worker died."""
        try:
            return self.submit(fn, *args).result()
        except BrokenProcessPool:
            self.restart_if_broken()
            return self.submit(fn, *args).result()

    def restart_if_broken(self) -> None:
        """Replace the workers if one of them died (not if another caller replaced them already)."""
        with self._lock:
            if self._executor is not None and getattr(self._executor, "_broken", False):
                self.restart()

    def restart(self, warm: bool = True) -> None:
        """Replace the workers (after one died); unfinished calls are cancelled."""
        with self._lock:
            self.shutdown(wait=False)
            self.start()
            if warm:
                self.warm()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers and cancel what they had not started. The pool can start again."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._pending, self.warming = set(), []
        if executor is not None:
            manager = getattr(executor, "_executor_manager_thread", None)
            executor.shutdown(wait=wait, cancel_futures=True)
            if manager is not None:
                _STOPPING.append(manager)

    def broken(self) -> bool:
        """Whether a worker of the running pool has died (the executor says so, or its exit code
        is known already). A call submitted in the instant between a worker's death and this
        becoming true fails with BrokenProcessPool; `run` then runs it again."""
        executor = self._executor
        if executor is None:
            return False
        processes = getattr(executor, "_processes", None) or {}
        return bool(getattr(executor, "_broken", False)) or any(
            process.exitcode is not None for process in list(processes.values()))

    def stop_if_idle(self, now: float | None = None) -> bool:
        """Stop the workers if the pool has an `idle_timeout`, no call is unfinished and none
        was made for that long; whether it stopped them (the next call starts them again)."""
        if self.idle_timeout is None or self._executor is None:
            return False
        now = time.monotonic() if now is None else now
        with self._lock:
            busy = any(not future.done() for future in (*self._pending, *self.warming))
            if busy or now - self._last_used < self.idle_timeout:
                return False
            self.shutdown(wait=False)
            return True

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (tests, diagnostics)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return sorted(processes)


_POOLS: weakref.WeakSet[ProcessPool] = weakref.WeakSet()


def reap_idle() -> int:
    """Stop the workers of every pool idle past its `idle_timeout`, and multiprocessing's
    resource tracker once no pool runs (`stop_tracker_if_unused`); how many pools stopped."""
    stopped = sum(1 for pool in list(_POOLS) if pool.stop_if_idle())
    stop_tracker_if_unused()
    return stopped


# The manager threads of stopped executors, until they have finished (`_release_stopped`).
_STOPPING: list[threading.Thread] = []
_DEAD_TRACKERS: list[int] = []  # resource trackers told to stop, not yet reaped
# What a finished manager thread still holds: the queues, whose named semaphores stay
# registered with the resource tracker as long as they live.
_MANAGER_HOLDS = ("call_queue", "result_queue", "work_ids_queue", "pending_work_items", "processes",
                  "thread_wakeup", "shutdown_lock", "executor_reference")


def _release_stopped() -> bool:
    """Let go of what the finished manager threads of stopped executors hold (under eventlet a
    finished thread stays referenced from a cycle: its queues, and their semaphores, would wait
    for a full garbage collection); whether every stopped executor is finished."""
    for manager in list(_STOPPING):
        if manager.is_alive():
            continue
        for name in _MANAGER_HOLDS:
            if hasattr(manager, name):
                setattr(manager, name, None)
        _STOPPING.remove(manager)
    return not _STOPPING


def _semaphores_alive() -> int:
    """Named semaphores of this process not yet unlinked (each registered with the tracker)."""
    from multiprocessing import util
    from multiprocessing.synchronize import SemLock

    cleanup = getattr(SemLock, "_cleanup", None)
    finalizers = list(getattr(util, "_finalizer_registry", {}).values())
    return sum(1 for finalizer in finalizers if getattr(finalizer, "_callback", None) is cleanup)


def stop_tracker_if_unused() -> bool:
    """Stop multiprocessing's resource tracker (a helper process of ~12 MB that spawned pools
    start, and that would otherwise run as long as the server) once no pool runs and every
    semaphore it watched is gone; the next pool starts it again. Whether it was stopped."""
    from multiprocessing import resource_tracker

    for pid in list(_DEAD_TRACKERS):  # reaped once it has exited (no zombie left)
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _DEAD_TRACKERS.remove(pid)
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    if tracker is None or getattr(tracker, "_fd", None) is None or getattr(tracker, "_pid", None) is None:
        return False
    if any(pool.running for pool in list(_POOLS)) or not _release_stopped() or _semaphores_alive():
        return False
    with tracker._lock:
        fd, pid = tracker._fd, tracker._pid
        tracker._fd = tracker._pid = None
    os.close(fd)  # the tracker ends at the end of its pipe (its own main loop)
    _DEAD_TRACKERS.append(pid)
    return True


def _stop_before_exit(pool: ProcessPool) -> None:
    """Shut `pool` down at interpreter exit (atexit hooks run last-in, first-out: before
    multiprocessing's, which would otherwise wait for workers nobody told to stop)."""
    reference = weakref.ref(pool)

    def stop() -> None:
        alive = reference()
        if alive is not None:
            alive.shutdown()

    atexit.register(stop)


# Process classes: module-level, so that a spawned worker can unpickle its own -------------------


class _SpawnProcess(multiprocessing.context.SpawnProcess):
    """A spawned worker that does not re-run the parent's main script.

    Spawn normally re-imports `__main__` in each child (`wsgi.py` would build a whole app there,
    a `python -` or REPL parent could not be imported at all). Workers run functions of
    importable modules only, so the parent's `__main__` is hidden while a worker is launched.
    """

    @staticmethod
    def _Popen(process_obj):
        saved = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            return multiprocessing.context.SpawnProcess._Popen(process_obj)
        finally:
            sys.modules["__main__"] = saved


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnProcess


_FORK = multiprocessing.get_context("fork") if hasattr(os, "fork") else None


if _FORK is not None:
    class _DaemonForkProcess(_FORK.Process):
        """A forked worker that its parent stops when it exits."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.daemon = True

    class _DaemonForkContext(type(_FORK)):
        Process = _DaemonForkProcess


def _context(method: str, daemon: bool):
    if method == "spawn":
        return _SpawnContext()
    if _FORK is None:
        raise ValueError("this system cannot fork")
    return _DaemonForkContext() if daemon else _FORK


# In the workers ---------------------------------------------------------------------------------


def _start_worker(parent: int, nice: int, initializer, initargs: tuple) -> None:
    """Worker initializer: lower priority, exit with the parent, then the user's initializer."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    process = multiprocessing.parent_process()
    sentinel = process.sentinel if process is not None else None
    threading.Thread(target=_exit_with, args=(parent, sentinel), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_with(parent: int, sentinel: int | None) -> None:
    """Return never: exit the worker as soon as its parent is gone (sentinel closed or pid changed)."""
    import time
    from multiprocessing.connection import wait

    while os.getppid() == parent:
        if sentinel is None:
            time.sleep(0.5)
        elif wait([sentinel], timeout=0.5):
            break
    os._exit(0)
