"""`python -m bench votecpu` runs end to end at a tiny size, so that it cannot rot (no timing
is asserted: the figures are the benchmark's to print)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_vote_of_the_in_process_burst_is_acked_and_measured():
    done = subprocess.run([sys.executable, "-m", "bench", "votecpu", "--participants", "6", "--rounds", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("6 of 6 acked ok") == 2, done.stdout
    assert "median CPU per vote" in done.stdout


def test_two_gather_settings_take_turns_round_after_round():
    done = subprocess.run([sys.executable, "-m", "bench", "votecpu", "--participants", "6", "--rounds", "4",
                           "--rate", "200", "--gather", "0.005,0.01"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rounds = [line for line in done.stdout.splitlines() if line.startswith("round ")]
    assert [line.rsplit("gather ", 1)[1] for line in rounds] == ["0.005 s", "0.01 s"] * 2, done.stdout
    assert "gather 0.005 s: median" in done.stdout and "gather 0.01 s: median" in done.stdout
