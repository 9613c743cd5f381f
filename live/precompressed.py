"""Static text files (scripts, style sheets, SVG) compressed once per file and kept in memory.

Flask-Compress compresses what it is given on every request, and a static file (streamed) again
for each phone of a crowded hall. Here each file is compressed the first time a browser asks for
it (brotli at its best quality, gzip at level 9: slow once, smaller for every phone after), kept
in memory with its modification time and size (an edited file is compressed again), and served
to the browsers that accept the encoding; the others get the file as it is. A compressed copy
has its own ETag (the file's, suffixed with the encoding), so a cached copy is revalidated for
the encoding it was served in. Flask-Compress leaves a response that already has a
Content-Encoding alone, and so does nginx's gzip.
"""

from __future__ import annotations

import gzip
import os
import threading

import brotli
from flask import Flask, Response, request
from werkzeug.security import safe_join

ENCODINGS = ("br", "gzip")  # the server's preference, when the browser accepts both equally
TYPES = frozenset({"text/javascript", "application/javascript", "text/css", "image/svg+xml"})
MIN_SIZE = 300  # bytes: below, compression saves less than the headers it costs


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(data, quality=11)
    return gzip.compress(data, 9, mtime=0)


class StaticCompression:
    """The compressed copies of one app's static folder."""

    def __init__(self, app: Flask) -> None:
        self.folder = app.static_folder
        self._copies: dict[tuple[str, str], tuple[int, int, bytes]] = {}
        self._lock = threading.Lock()
        app.after_request(self.after_request)

    def copy(self, path: str, encoding: str) -> bytes | None:
        """The file at `path` compressed with `encoding` (computed on first use), or None when
        it is too small to be worth it."""
        stat = os.stat(path)
        if stat.st_size < MIN_SIZE:
            return None
        key = (path, encoding)
        kept = self._copies.get(key)
        if kept is None or kept[:2] != (stat.st_mtime_ns, stat.st_size):
            with open(path, "rb") as file:
                data = file.read()
            kept = (stat.st_mtime_ns, stat.st_size, _compress(data, encoding))
            with self._lock:
                self._copies[key] = kept
        return kept[2]

    def after_request(self, response: Response) -> Response:
        if (request.endpoint != "static" or response.status_code != 200
                or response.mimetype not in TYPES or "Content-Encoding" in response.headers):
            return response
        response.vary.add("Accept-Encoding")
        encoding = request.accept_encodings.best_match(ENCODINGS)
        path = safe_join(self.folder, (request.view_args or {}).get("filename", ""))
        body = self.copy(path, encoding) if encoding and path and os.path.isfile(path) else None
        if body is None:
            return response
        etag, weak = response.get_etag()
        response.close()  # the file send_file opened
        response.direct_passthrough = False
        response.set_data(body)
        response.headers["Content-Encoding"] = encoding
        if etag:
            response.set_etag(f"{etag}-{encoding}", weak)
        return response.make_conditional(request)
