"""The footprint of a session: what the server served for it, counted cheaply, and an estimate.

Counted in memory per session (plain integer additions, no lock: one event loop per process)
and written to `session_footprints` every `FLUSH_SECONDS` by a background loop, never once per
request. What is counted (the method, also stated in the archive and in docs/footprint.md):

- HTTP: the body size (after compression) of every response to a session's pages (the phone's
  /j/<code>, the screen /screen/<token>, the console /f/<token>, the moderator /m/<token>, and
  their form posts), plus static files (scripts, styles, fonts) whose Referer is one of those
  pages. Headers are not counted.
- Socket.IO: packets received from the session's sockets (their JSON size) and packets sent to
  its rooms (one per socket in the room, the JSON size of the data each).
- CPU: the server process's CPU time (user + system) from the session's first counted request
  in this process to its last, not shared out between sessions live at the same time: an upper
  bound when several sessions run at once.
- Peak phones: the most participants with a socket open at once (in this process).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, select, text
from sqlalchemy.orm import Mapped, mapped_column

from live.store import Base

FLUSH_SECONDS = 5.0
# Energy and carbon factors (docs/footprint.md gives the sources and the uncertainty).
NETWORK_KWH_PER_GB = 0.06   # fixed + mobile access networks, Malmodin 2020 / ARCEP-ADEME 2022
SERVER_WATTS = 30.0         # one busy core of a small server or a laptop, per CPU second
GRID_G_PER_KWH = 52.0       # French grid, average carbon intensity (ADEME Base Empreinte, 2022)
SOURCES = (
    "https://www.arcep.fr/uploads/tx_gspublication/etude-numerique-environnement-ademe-arcep-volet03_janv2022.pdf",
    "https://doi.org/10.3390/su12239929",
    "https://base-empreinte.ademe.fr/",
    "https://www.rte-france.com/eco2mix/les-emissions-de-co2-par-kwh-produit-en-france",
)
UNCERTAINTY = 3.0  # the estimate is good to within a factor of about 3 either way


class SessionFootprint(Base):
    """What the server served for a session (flushed from memory every few seconds)."""

    __tablename__ = "session_footprints"
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    http_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    http_requests: Mapped[int] = mapped_column(Integer, default=0)
    socket_bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    socket_packets_in: Mapped[int] = mapped_column(Integer, default=0)
    socket_bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)
    socket_packets_out: Mapped[int] = mapped_column(Integer, default=0)
    cpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    peak_phones: Mapped[int] = mapped_column(Integer, default=0)


FIELDS = ("http_bytes", "http_requests", "socket_bytes_in", "socket_packets_in",
          "socket_bytes_out", "socket_packets_out", "cpu_seconds", "peak_phones")


@dataclass
class Tally:
    """The counts of one session not yet written, and the CPU clock at its first/last count."""

    http_bytes: int = 0
    http_requests: int = 0
    socket_bytes_in: int = 0
    socket_packets_in: int = 0
    socket_bytes_out: int = 0
    socket_packets_out: int = 0
    peak_phones: int = 0
    cpu_from: float = 0.0
    cpu_to: float = 0.0

    def cpu(self) -> float:
        return max(0.0, self.cpu_to - self.cpu_from)


_tallies: dict[int, Tally] = {}
_pages: dict[str, int] = {}  # page path ("/j/ABC123") -> session id, for static files' Referer


# The process's CPU clock is read at most every CPU_CLOCK_EVERY seconds: reading it is a
# system call that sums every thread's time (it was a tenth of a connection's CPU).
CPU_CLOCK_EVERY = 0.05
_cpu_clock = [float("-inf"), 0.0]  # monotonic time of the last read, what it read


def _cpu_now() -> float:
    now = time.monotonic()
    if now - _cpu_clock[0] >= CPU_CLOCK_EVERY:
        _cpu_clock[0], _cpu_clock[1] = now, time.process_time()
    return _cpu_clock[1]


def _tally(session_id: int) -> Tally:
    tally = _tallies.get(session_id)
    now = _cpu_now()
    if tally is None:
        tally = _tallies[session_id] = Tally(cpu_from=now)
    tally.cpu_to = now
    return tally


def page_served(session_id: int, path: str) -> None:
    """Remember that `path` is a page of the session (its static files name it as Referer)."""
    if len(_pages) > 10000:
        _pages.clear()
    _pages[path] = session_id


def session_of_referrer(referrer: str | None) -> int | None:
    """The session whose page asked for a static file, by the path of its Referer."""
    if not referrer:
        return None
    path = referrer.split("://", 1)[-1]
    path = "/" + path.split("/", 1)[1] if "/" in path else "/"
    return _pages.get(path.split("?", 1)[0])


def count_http(session_id: int, size: int) -> None:
    """One HTTP response of `size` body bytes served for the session."""
    tally = _tally(session_id)
    tally.http_requests += 1
    tally.http_bytes += size


# One encoder for every packet measured: `json.dumps` with options builds a new one at each call
# (4.2 against 1.8 us for a vote's packet).
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)


def size_of(data) -> int:
    """The JSON size of a packet's data (what goes on the wire, give or take the framing)."""
    try:
        return len(_COMPACT.encode(data)) + 4
    except (TypeError, ValueError):
        return 0


def count_in(session_id: int, size: int) -> None:
    """One Socket.IO packet received from a socket of the session."""
    tally = _tally(session_id)
    tally.socket_packets_in += 1
    tally.socket_bytes_in += size


def count_out(session_id: int, size: int, sockets: int) -> None:
    """One packet of `size` bytes sent to `sockets` sockets of the session."""
    if sockets <= 0:
        return
    tally = _tally(session_id)
    tally.socket_packets_out += sockets
    tally.socket_bytes_out += size * sockets


def phones(session_id: int, connected: int) -> None:
    """The number of phones connected now (the peak is kept)."""
    tally = _tally(session_id)
    tally.peak_phones = max(tally.peak_phones, connected)


def flush(store) -> None:
    """Add the counts gathered since the last flush to the database (one transaction)."""
    if not _tallies:
        return
    pending = dict(_tallies)
    _tallies.clear()
    with store.write() as db:
        for session_id, tally in pending.items():
            row = db.get(SessionFootprint, session_id)
            if row is None:
                if db.scalar(text("SELECT 1 FROM live_sessions WHERE id = :id"), {"id": session_id}) is None:
                    continue  # deleted meanwhile
                row = SessionFootprint(session_id=session_id, **{f: 0 for f in FIELDS})
                db.add(row)
            for name in FIELDS[:-2]:
                setattr(row, name, (getattr(row, name) or 0) + getattr(tally, name))
            row.cpu_seconds = (row.cpu_seconds or 0.0) + tally.cpu()
            row.peak_phones = max(row.peak_phones or 0, tally.peak_phones)


def totals(db, session_id: int) -> dict:
    """The session's counts so far: those written plus those still in memory in this process."""
    row = db.get(SessionFootprint, session_id)
    counts = {f: (getattr(row, f) or 0) if row is not None else 0 for f in FIELDS}
    tally = _tallies.get(session_id)
    if tally is not None:
        for name in FIELDS[:-2]:
            counts[name] += getattr(tally, name)
        counts["cpu_seconds"] += tally.cpu()
        counts["peak_phones"] = max(counts["peak_phones"], tally.peak_phones)
    counts["cpu_seconds"] = round(float(counts["cpu_seconds"]), 3)  # 0.0, not 0, when none
    return counts


def estimate(counts: dict, participants: int) -> dict:
    """Per participant figures, energy (Wh) and carbon (gCO2e), from the counts."""
    total_bytes = counts["http_bytes"] + counts["socket_bytes_in"] + counts["socket_bytes_out"]
    network_wh = total_bytes / 1e9 * NETWORK_KWH_PER_GB * 1000
    server_wh = counts["cpu_seconds"] * SERVER_WATTS / 3600
    wh = network_wh + server_wh
    people = max(participants, counts["peak_phones"], 1)
    return {
        "bytes": total_bytes,
        "requests": counts["http_requests"],
        "bytes_per_participant": total_bytes // people,
        "network_wh": round(network_wh, 6), "server_wh": round(server_wh, 6),
        "wh": round(wh, 6), "gco2e": round(wh / 1000 * GRID_G_PER_KWH, 6),
    }


def document(db, session_id: int, participants: int) -> dict:
    """The archive's "footprint" section: the counts, the estimate, the method and sources."""
    counts = totals(db, session_id)
    return {**counts, **estimate(counts, participants),
            "factors": {"network_kwh_per_gb": NETWORK_KWH_PER_GB, "server_watts": SERVER_WATTS,
                        "grid_g_per_kwh": GRID_G_PER_KWH, "uncertainty_factor": UNCERTAINTY},
            "sources": list(SOURCES)}


def restore(db, session_id: int, section: dict | None) -> None:
    """Keep an imported archive's counts (the import round trip)."""
    if not section:
        return
    db.add(SessionFootprint(session_id=session_id, **{f: section.get(f, 0) for f in FIELDS}))


def session_ids() -> list[int]:
    """The sessions with counts not yet written (tests)."""
    return list(_tallies)


def stored(db, session_id: int) -> SessionFootprint | None:
    """The written row of a session, if any."""
    return db.scalars(select(SessionFootprint).where(SessionFootprint.session_id == session_id)).first()


def count_response(response):
    """After every request (after compression): count the body for the session it belongs to,
    a page of the session (`g.footprint_session`, set by the doors) or a static file it asked
    for (by its Referer). A few dict look-ups; nothing written here."""
    from flask import g, request

    session_id = g.get("footprint_session")
    if session_id is not None:
        if request.method == "GET":
            page_served(session_id, request.path)
    elif request.endpoint == "static":
        session_id = session_of_referrer(request.referrer)
        if session_id is not None and request.path.endswith(".js"):
            # A module's own imports name it as their Referer, not the page.
            page_served(session_id, request.path)
    if session_id is not None:
        size = response.content_length  # a file sent as is says its length in the header
        count_http(session_id, size if size is not None else response.calculate_content_length() or 0)
    return response


def console_line(db, session_id: int, people: int) -> str:
    """The console's compact line, in the request's language: served so far, per participant
    (`people` joined), CPU and the peak of phones."""
    from flask_babel import gettext as _

    counts = totals(db, session_id)
    figures = estimate(counts, people)
    return _("Served so far: %(size)s in %(requests)s requests, %(per)s per participant, "
             "CPU %(cpu)s s, phones at the peak: %(phones)s",
             size=_size(figures["bytes"]), requests=counts["http_requests"],
             per=_size(figures["bytes_per_participant"]), cpu=round(counts["cpu_seconds"]),
             phones=counts["peak_phones"])


def _size(size: int) -> str:
    from flask_babel import gettext as _

    if size >= 1_000_000:
        return _("%(n)s MB", n=f"{size / 1e6:.1f}")
    return _("%(n)s kB", n=f"{size / 1e3:.0f}")


def reset() -> None:
    """Forget every count not yet written (a new application in this process: its sessions are
    another database's)."""
    _tallies.clear()
    _pages.clear()
