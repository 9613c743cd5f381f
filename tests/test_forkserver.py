"""The tests' fork server (tests/forkserver.py) gives servers that behave as `python wsgi.py`
does from outside: the pid answers, SIGTERM ends it with status 0 after its queued work, SIGKILL
with -9, and closing the fork server's stdin stops the servers it started."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import realserver
from realserver import ROOT, Server, http_get, prepare

pytestmark = [pytest.mark.server]


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_forked_server_answers_and_ends_as_python_wsgi_py_does(tmp_path, monkeypatch, mode):
    monkeypatch.setattr(realserver, "FORK_SERVERS", True)
    setup = prepare(tmp_path / "palabre.db")
    server = Server(setup.database, mode).start()
    again = Server(setup.database, mode)
    try:
        assert isinstance(server.process, realserver.ForkedProcess)
        status, _headers, body = http_get(server.url, "/healthz")
        assert status == 200 and json.loads(body)["pid"] == server.process.pid
        assert f"Palabre is running ({mode})" in server.log_tail()
        assert server.process.poll() is None
        server.process.terminate()
        assert server.process.wait(15) == 0, server.log_tail()
        again.start()  # a second one from the same fork server
        again.process.kill()
        assert again.process.wait(15) == -signal.SIGKILL
        with pytest.raises(OSError):
            http_get(again.url, "/healthz", timeout=2)
    finally:
        server.stop()
        again.stop()


def test_closing_the_fork_servers_stdin_stops_its_servers(tmp_path):
    forks = realserver._ForkServer("eventlet")  # a fork server of its own, not the session's
    try:
        setup = prepare(tmp_path / "palabre.db")
        server = Server(setup.database, "eventlet")
        server.port = realserver.free_port()
        server._log = open(server.log_path, "ab")  # noqa: SIM115 - closed by stop()
        server.process = forks.fork(server._env(), server.log_path)
        assert server._wait_until_answering(60), server.log_tail()
        forks.process.stdin.close()
        assert forks.process.wait(30) == 0
        assert server.process.poll() == 0, server.log_tail()  # SIGTERM: a clean stop
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                http_get(server.url, "/", timeout=1)
            except OSError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the server outlived its fork server")
    finally:
        if forks.process.poll() is None:
            forks.process.kill()
            forks.process.wait(10)
        server.stop()


def test_the_fork_server_is_a_script_of_its_own():
    """It runs as `python tests/forkserver.py MODE ROOT` and exits when its stdin is empty."""
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "forkserver.py"), "eventlet", str(ROOT)],
                          input=b"", capture_output=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
