"""door-codes.csv and footprint.csv: the session's counts from session.json as tables.

Both are derived from `session.json` (`session.door_codes`, `footprint`), which the import
reads; the import ignores these files, and an imported session exports them again the same
(the counts are restored). One row per figure: its key in session.json, then its value.
"""

from __future__ import annotations

from live.archive.csvsafe import to_csv

DOOR_CODES = ("issued", "used", "unused", "revoked")  # counts only: never a code nor who
FOOTPRINT = ("bytes", "requests", "bytes_per_participant", "http_bytes", "http_requests",
             "socket_bytes_in", "socket_packets_in", "socket_bytes_out", "socket_packets_out",
             "cpu_seconds", "peak_phones", "network_wh", "server_wh", "wh", "gco2e")
FACTORS = ("network_kwh_per_gb", "server_watts", "grid_g_per_kwh", "uncertainty_factor")


def csv_files(doc: dict, labels: dict, locale: str) -> dict[str, bytes]:
    """door-codes.csv when codes were issued, footprint.csv when the archive has a footprint."""
    files = {}
    header = [labels["field"], labels["value"]]
    codes = doc["session"].get("door_codes")
    if codes:
        files["door-codes.csv"] = to_csv(header, [[key, codes[key]] for key in DOOR_CODES], locale)
    section = doc.get("footprint")
    if section:
        factors = section.get("factors") or {}
        rows = [[key, section[key]] for key in FOOTPRINT if key in section]
        rows += [[key, factors[key]] for key in FACTORS if key in factors]
        rows += [["source", source] for source in section.get("sources") or []]
        files["footprint.csv"] = to_csv(header, rows, locale)
    return files
