"""How long the tests wait for a real server to start, with and without the fork server:
`python scripts/server_start_time.py [STARTS]` (default 5 per async mode and way).

Each start is what a test does (`tests/realserver.py`): a seeded SQLite file, `Server.start()`
until the server answers HTTP on 127.0.0.1, then `stop()`. Side by side, one start of each way
after the other: `python wsgi.py` as a new process, and a child of `tests/forkserver.py`, which
did wsgi.py's imports once (its own first start, which waits for them, is left out and printed
apart). Prints the median and range of each, per async mode.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import realserver  # noqa: E402
from realserver import Server, prepare  # noqa: E402


def one_start(mode: str, forked: bool, scratch: Path) -> float:
    realserver.FORK_SERVERS = forked
    folder = Path(tempfile.mkdtemp(dir=scratch))
    setup = prepare(folder / "palabre.db")
    started = time.monotonic()
    server = Server(setup.database, mode).start()
    took = time.monotonic() - started
    server.stop()
    return took


def main() -> None:
    starts = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as scratch:
        try:
            for mode in ("eventlet", "gevent"):
                first = one_start(mode, True, Path(scratch))
                figures: dict[str, list[float]] = {"python wsgi.py": [], "forked": []}
                for _ in range(starts):
                    figures["python wsgi.py"].append(one_start(mode, False, Path(scratch)))
                    figures["forked"].append(one_start(mode, True, Path(scratch)))
                for way, values in figures.items():
                    print(f"{mode:8} {way:15} median {statistics.median(values):.2f} s "
                          f"({min(values):.2f}-{max(values):.2f} s, {len(values)} starts)")
                print(f"{mode:8} {'fork server':15} first start, imports included: {first:.2f} s")
        finally:
            realserver.stop_fork_servers()


if __name__ == "__main__":
    main()
