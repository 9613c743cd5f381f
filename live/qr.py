"""QR codes as SVG (segno): pure and cached."""

from __future__ import annotations

import base64
import io
from functools import lru_cache


@lru_cache(maxsize=256)
def qr_svg(url: str) -> bytes:
    """A standalone SVG QR code of `url`, dark on light, scalable, with a quiet zone."""
    import segno  # loaded by the first QR code drawn

    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=10, border=2, dark="#111111", light="#ffffff",
        xmldecl=False, omitsize=True, title=url)
    return buffer.getvalue()


def qr_data_uri(url: str) -> str:
    """The QR code of `url` as a `data:` URI: drawn in the page itself, no request."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url)).decode("ascii")
