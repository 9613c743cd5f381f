"""`python -m bench groupcommit` runs end to end, so that it cannot rot: real group commits of
real vote jobs on a SQLite file, both ways compared, figures printed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("compare", "other"), [("rows", "rows through SQLAlchemy"),
                                                ("savepoint", "SQLAlchemy's savepoint")])
def test_the_group_commit_benchmark_prints_each_size_and_a_commits_fixed_cost(compare, other):
    done = subprocess.run([sys.executable, "-m", "bench", "groupcommit", "--votes", "1,8", "--commits", "10",
                           "--participants", "40", "--compare", compare, "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert figures["participants"] == 40 and set(figures["ways"]) == {"main", other}
    for entry in figures["ways"].values():
        assert set(entry["commits"]) == {"1", "8"}
        assert all(commit["measured"] == 10 and commit["cpu_ms"] > 0 for commit in entry["commits"].values())
        # a commit of 8 votes costs more than one of 1, but less than 8 of them
        one, eight = entry["commits"]["1"]["cpu_ms"], entry["commits"]["8"]["cpu_ms"]
        assert one < eight < 8 * one
        assert "fixed_ms" in entry and "per_vote_us" in entry
