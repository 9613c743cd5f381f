"""The one process pool of renders, archives and charts: lower priority, exits with its parent,
replaces a dead worker, bounded, stopped at exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from support import process_alive, still_running, wait_until

from live.procpool import PoolFull, ProcessPool, reap_idle

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pool():
    started = ProcessPool(1)
    yield started
    started.shutdown()


def test_starts_when_first_needed_and_runs_at_a_lower_priority(pool):
    assert not pool.running and pool.worker_pids() == []
    assert pool.run(os.getpriority, os.PRIO_PROCESS, 0) == os.getpriority(os.PRIO_PROCESS, 0) + 10
    assert pool.running and len(pool.worker_pids()) == 1


def test_stops_when_idle_and_starts_again_when_needed():
    pool = ProcessPool(1, idle_timeout=0.5)
    try:
        first = pool.run(os.getpid)
        assert pool.stop_if_idle() is False  # just used: kept
        busy = pool.submit(time.sleep, 5)
        assert wait_until(lambda: time.monotonic() - pool._last_used > 0.6, 5)
        assert reap_idle() == 0 and pool.running  # a call unfinished: kept
        busy.result(timeout=30)
        assert wait_until(lambda: reap_idle() > 0, 5) and not pool.running  # idle: stopped
        assert still_running([first]) == []
        assert pool.run(os.getpid) != first  # needed again: a fresh worker
    finally:
        pool.shutdown()


def test_the_initializer_runs_in_each_worker(tmp_path):
    pool = ProcessPool(1, initializer=os.chdir, initargs=(str(tmp_path),))
    try:
        assert pool.run(os.getcwd) == str(tmp_path) != os.getcwd()
    finally:
        pool.shutdown()


def test_warm_starts_every_worker_now():
    pool = ProcessPool(2)
    try:
        pids = {future.result(timeout=60) for future in pool.warm()}
        assert pool.ready() and pids <= set(pool.worker_pids()) and pids
    finally:
        pool.shutdown()


def test_a_killed_worker_is_replaced(pool):
    first = pool.run(os.getpid)
    os.kill(first, signal.SIGKILL)
    assert still_running([first]) == []
    # The call under way when the worker died runs again in a fresh one.
    assert pool.run(os.getpid) not in (first, None)
    second = pool.run(os.getpid)
    os.kill(second, signal.SIGKILL)
    still_running([second])
    assert wait_until(pool.broken, timeout=10)  # the pool knows, as soon as the executor does
    assert pool.submit(os.getpid).result(timeout=60) != second  # then a submit gets a fresh one


def test_at_most_max_pending_calls_wait():
    pool = ProcessPool(1, max_pending=2)
    try:
        waiting = [pool.submit(time.sleep, 0.5), pool.submit(time.sleep, 0)]
        with pytest.raises(PoolFull):
            pool.submit(os.getpid)
        for future in waiting:
            future.result(timeout=60)
        assert isinstance(pool.submit(os.getpid), Future)  # room again once they are done
    finally:
        pool.shutdown()


def test_shutdown_stops_the_workers_and_the_pool_can_start_again(pool):
    pids = [pool.run(os.getpid)]
    pool.shutdown()
    assert still_running(pids) == [] and not pool.running
    assert pool.run(os.getpid) not in pids


def test_forked_daemonic_workers_from_a_spawned_worker_stop_with_it(pool):
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this system")
    children = pool.run(_fork_pool_pids)
    assert len(children) == 2 and all(process_alive(pid) for pid in children)
    parent = pool.worker_pids()[0]
    os.kill(parent, signal.SIGKILL)  # no chance to stop its children: they must notice
    assert still_running(children) == []


_KEPT: list[ProcessPool] = []


def _fork_pool_pids() -> list[int]:
    forked = ProcessPool(2, method="fork", daemon=True, nice=0)
    _KEPT.append(forked)  # the pool lives on in this worker, as the archive worker's does
    return sorted(future.result() for future in forked.warm())


def test_only_forked_workers_are_daemonic():
    with pytest.raises(ValueError):
        ProcessPool(1, daemon=True)
    with pytest.raises(ValueError):
        ProcessPool(1, method="forkserver")


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=90, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_workers_exit_when_their_parent_is_killed():
    code = ("import os\nfrom live.procpool import ProcessPool\n"
            "pool = ProcessPool(2)\n"
            "print(*[f.result() for f in pool.warm()], flush=True)\nos._exit(1)")
    pids = [int(pid) for pid in _python(code).stdout.split()]
    assert len(pids) == 2
    assert still_running(pids) == []


def test_an_eventlet_parent_exits_without_stopping_its_pool():
    # eventlet's threading never runs concurrent.futures' exit hook: the pool's own atexit must.
    code = ("import eventlet\neventlet.monkey_patch()\nimport os\n"
            "from live.procpool import ProcessPool\n"
            "pool = ProcessPool(1)\nprint(pool.run(os.getpid), flush=True)\n")
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert still_running([int(result.stdout.split()[0])]) == []
