"""`python -m bench yardstick` runs end to end, alone and with one copy per core at once, so that
it cannot rot (no timing is asserted: the figures are the benchmark's to print)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _yardstick(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "bench", "yardstick", "--repeat", "2", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_alone_it_prints_the_fastest_cpu_time_and_nothing_of_the_copies():
    figures = json.loads(_yardstick("--json").stdout)
    assert figures["votes"] == 5000
    assert figures["yardstick_ms"] > 0
    assert "together_ms" not in figures


def test_together_every_core_runs_a_copy_and_their_spread_is_printed():
    figures = json.loads(_yardstick("--together", "--json").stdout)
    assert figures["copies"] == (os.cpu_count() or 1)
    fastest, median, slowest = figures["together_ms"]
    assert 0 < fastest <= median <= slowest

    text = _yardstick("--together").stdout
    assert text.startswith("yardstick_ms ")
    assert f"of {2 * figures['copies']}: {figures['copies']} copies at once" in text


def test_loopback_times_a_message_echoed_on_one_core_and_across_two():
    figures = json.loads(_yardstick("--loopback", "--json").stdout)
    trips = figures["loopback_us"]
    cores = len(os.sched_getaffinity(0))
    assert set(trips) == ({"one_core", "two_cores"} if cores > 1 else {"any_core"})
    assert all(us > 0 for us in trips.values())

    text = _yardstick("--loopback").stdout
    assert "loopback_us " in text and "per round trip" in text
    assert "together_ms" not in text
