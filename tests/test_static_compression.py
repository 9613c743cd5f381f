"""Static scripts and style sheets come compressed to a browser that accepts it, as the same
bytes once decoded, and plain to one that does not: through the real server (eventlet and
gevent), over loopback."""

from __future__ import annotations

import gzip
import http.client
from pathlib import Path

import brotli
import pytest
from support import prepare, server

pytestmark = pytest.mark.server

STATIC = Path(__file__).resolve().parent.parent / "static"


def _get(url: str, path: str, **headers: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    host, port = url.split("//", 1)[1].split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        con.request("GET", path, headers=headers)  # http.client never decodes a body
        response = con.getresponse()
        return response.status, response.headers, response.read()
    finally:
        con.close()


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_script_comes_compressed_when_accepted_and_plain_otherwise(tmp_path, mode):
    setup = prepare(tmp_path / "palabre.db")
    script = (STATIC / "js" / "core.js").read_bytes()
    with server(setup.database, mode) as srv:
        zipped = _get(srv.url, "/static/js/core.js", **{"Accept-Encoding": "gzip"})
        squeezed = _get(srv.url, "/static/js/core.js", **{"Accept-Encoding": "gzip, deflate, br"})
        plain = _get(srv.url, "/static/js/core.js")
        again = _get(srv.url, "/static/js/core.js", **{"Accept-Encoding": "gzip",
                                                       "If-None-Match": zipped[1]["ETag"]})
        style = _get(srv.url, "/static/css/palabre.css", **{"Accept-Encoding": "gzip"})

    status, headers, body = zipped
    assert (status, headers["Content-Encoding"]) == (200, "gzip")
    assert gzip.decompress(body) == script
    assert int(headers["Content-Length"]) == len(body) < len(script) / 2
    assert "accept-encoding" in headers["Vary"].lower()
    status, headers, body = squeezed
    assert (status, headers["Content-Encoding"]) == (200, "br")
    assert brotli.decompress(body) == script
    assert len(body) < len(zipped[2])
    status, headers, body = plain
    assert status == 200 and headers["Content-Encoding"] is None and body == script
    assert "accept-encoding" in headers["Vary"].lower()
    # Each encoding has its own ETag: a cached copy is revalidated for the encoding it came in.
    assert len({zipped[1]["ETag"], squeezed[1]["ETag"], plain[1]["ETag"]}) == 3
    assert again[0] == 304 and again[2] == b""
    assert style[1]["Content-Encoding"] == "gzip"
    assert gzip.decompress(style[2]) == (STATIC / "css" / "palabre.css").read_bytes()
    # A script is no document: still none of a document's headers, still nosniff.
    assert style[1]["Content-Security-Policy"] is None and style[1]["X-Content-Type-Options"] == "nosniff"
