"""QR codes as SVG (segno): pure and cached."""

from __future__ import annotations

import io
from functools import lru_cache

import segno


@lru_cache(maxsize=256)
def qr_svg(url: str) -> bytes:
    """A standalone SVG QR code of `url`, dark on light, scalable, with a quiet zone."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=10, border=2, dark="#111111", light="#ffffff",
        xmldecl=False, omitsize=True, title=url)
    return buffer.getvalue()
