"""A fork server for the tests: `python wsgi.py` without paying for its imports at every start.

The tests start the real server a few hundred times, and each `python wsgi.py` spent about 2 s
importing (more under CI's load) before it built the application. This process does, once per
async mode and test process, what `wsgi.py` does before it builds the application: patch the
standard library for eventlet or gevent, keep the client libraries out, import `live`. Then it
forks a child for each server a test starts. The child takes the test's environment, working
directory and log, and runs `wsgi.py` as `__main__`: the same code from there on (settings read,
application built, port bound, served, stopped by SIGTERM), and it exits as `python wsgi.py`
would (exit handlers run, status kept).

`tests/realserver.py` talks to it over its stdin and stdout, one JSON line each way:

    -> {"env": {...}, "cwd": "...", "log": "..."}
    <- {"pid": N}                      the child runs
    <- {"exited": N, "status": S}      later, when it ended (S as Popen's returncode)

The command line itself (settings refused at start, several processes, a process group's
signals) is still tested on `python wsgi.py` (tests/test_start_settings.py, test_faults.py,
test_multiprocess.py), and the benchmarks start it that way.

When its stdin closes (the test process ended, however it ended), it stops the servers it
started (SIGTERM, SIGKILL 10 s later) and exits.
"""

import json
import os
import select
import signal
import sys
import time

# Kept before the standard library is patched: this loop must never run eventlet's or gevent's
# hub, which a forked child would inherit half-used.
_read, _write, _fork, _waitpid, _select, _kill, _sleep = (
    os.read, os.write, os.fork, os.waitpid, select.select, os.kill, time.sleep)


def _prepare(mode: str, root: str) -> None:
    """What `wsgi.py` does before `create_app()`, and the imports that follow from it."""
    os.environ["LIVE_ASYNC_MODE"] = mode
    sys.path.insert(0, root)
    from live import runtime

    runtime.monkey_patch()
    runtime.without_client_libraries()
    # The modules `wsgi.py` imports, `create_app()` first of all (`live` imports it lazily).
    import live.app  # noqa: F401
    import live.archive.worker  # noqa: F401
    import live.config  # noqa: F401
    import live.errors  # noqa: F401
    import live.i18n  # noqa: F401
    import live.launcher  # noqa: F401
    import live.netinfo  # noqa: F401
    import live.render.pool  # noqa: F401
    import live.wordclouds.images  # noqa: F401


def _send(message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[_write(1, data):]


def _become_server(request: dict, mode: str) -> None:
    """In the forked child: the test's log, environment and directory, then `wsgi.py`."""
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, write_through=True)  # PYTHONUNBUFFERED
    if mode == "gevent":
        import gevent

        gevent.reinit()  # a hub made before the fork is made fit for this process
    else:
        from eventlet import hubs

        hubs.use_hub()  # a hub made before the fork is dropped: this process makes its own
    import runpy

    sys.argv = ["wsgi.py"]
    runpy.run_path(os.path.join(request["cwd"], "wsgi.py"), run_name="__main__")


def _stop_all(children: set[int]) -> None:
    for pid in children:
        try:
            _kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while children and time.monotonic() < deadline:
        pid, status = _waitpid(-1, os.WNOHANG)
        if pid:
            children.discard(pid)
            _send({"exited": pid, "status": os.waitstatus_to_exitcode(status)})
        else:
            _sleep(0.05)
    for pid in children:
        try:
            _kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def serve() -> dict | None:
    """Answer requests until stdin closes (None), or, in a forked child, return its request."""
    children: set[int] = set()
    pending = b""
    while True:
        readable, _, _ = _select([0], [], [], 0.05 if children else None)
        while children:
            pid, status = _waitpid(-1, os.WNOHANG)
            if not pid:
                break
            children.discard(pid)
            _send({"exited": pid, "status": os.waitstatus_to_exitcode(status)})
        if not readable:
            continue
        data = _read(0, 1 << 16)
        if not data:
            _stop_all(children)
            return None
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            pid = _fork()
            if pid == 0:
                return request
            children.add(pid)
            _send({"pid": pid})


def main() -> None:
    mode, root = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the tests; stdin's end stops this
    _prepare(mode, root)
    request = serve()
    if request is not None:
        _become_server(request, mode)


if __name__ == "__main__":
    main()
