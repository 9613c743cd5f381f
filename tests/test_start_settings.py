"""`python wsgi.py` with a setting it cannot use stops at once, saying which and what it takes
(status 2, in the terminal's language), instead of a traceback; the database is not touched."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from realserver import ROOT, free_port, sqlite_url

pytestmark = pytest.mark.server


def _start(tmp_path, env: dict) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_")}
    base.update({"LIVE_HOST": "127.0.0.1", "LIVE_PORT": str(free_port()),
                 "LIVE_DATABASE_URL": sqlite_url(tmp_path / "settings.db"),
                 "LIVE_SECRET_KEY": "k-settings", "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8", **env})
    done = subprocess.run([sys.executable, "wsgi.py"], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize(("name", "value", "takes"), [
    ("LIVE_PROCESSES", "two", "from 1 to 64"),
    ("LIVE_PROCESSES", "0", "from 1 to 64"),
    ("LIVE_PROCESSES", "1.5", "from 1 to 64"),
    ("LIVE_PORT", "http", "from 1 to 65535"),
    ("LIVE_PORT", "70000", "from 1 to 65535"),
    ("LIVE_MAX_CONNECTIONS", "lots", "from 1 to 1000000"),
    ("LIVE_HTTP_TIMEOUT", "0", "from 1 to 3600"),
    # The tuning settings: a typo failed later, in the middle of the room (no vote acknowledged).
    ("LIVE_WRITE_GATHER", "5ms", "a number, 0 or more"),
    ("LIVE_WRITE_BATCH_SECONDS", "NaN", "a number, 0 or more"),
    ("LIVE_PING_INTERVAL", "-1", "a number, 0 or more"),
    ("LIVE_PUSH_SLICE", "many", "a number, 0 or more"),
])
def test_a_setting_that_is_no_whole_number_stops_the_start_saying_so(tmp_path, name, value, takes):
    status, output = _start(tmp_path, {name: value})
    assert status == 2, output
    assert f"Palabre cannot start: {name}=" in output and takes in output, output
    assert "Traceback" not in output, output
    assert "Palabre is running" not in output


def test_the_refusal_speaks_the_terminals_language(tmp_path):
    status, output = _start(tmp_path, {"LIVE_PROCESSES": "deux", "LANG": "fr_FR.UTF-8"})
    assert status == 2, output
    assert "Palabre ne peut pas démarrer : LIVE_PROCESSES='deux'" in output, output
