"""Printed cards for the room (PDF, A4, reportlab): the table card with the join QR code, and
optionally the venue's Wi-Fi as a QR code.

The Wi-Fi name and password come from the organiser's form for this print only: they are drawn
into the PDF returned and kept nowhere (not in the database, archives, logs or cookies).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
_fonts: dict[str, str] = {}


@dataclass(frozen=True)
class Wifi:
    """The venue's network, for one print."""

    ssid: str
    password: str

    def payload(self) -> str:
        """The `WIFI:` text phones read from a QR code (WPA; `\\ ; , : "` escaped)."""
        kind = "WPA" if self.password else "nopass"
        password = f"P:{wifi_escape(self.password)};" if self.password else ""
        return f"WIFI:T:{kind};S:{wifi_escape(self.ssid)};{password};"


def wifi_escape(text: str) -> str:
    """Escape the characters the `WIFI:` format reserves."""
    for char in ("\\", ";", ",", ":", '"'):
        text = text.replace(char, "\\" + char)
    return text


def _font(bold: bool = False) -> str:
    """DejaVu Sans when installed (every script of a title), else Helvetica (Latin-1)."""
    name = "DejaVuSans-Bold" if bold else "DejaVuSans"
    if name not in _fonts:
        _fonts[name] = "Helvetica-Bold" if bold else "Helvetica"
        for folder in FONT_DIRS:
            path = folder / f"{name}.ttf"
            if path.is_file():
                pdfmetrics.registerFont(TTFont(name, str(path)))
                _fonts[name] = name
                break
    return _fonts[name]


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """A QR code of `text` (segno's matrix, drawn as vector squares) in a `size` square whose
    lower left corner is (x, y), quiet zone included."""
    matrix = segno.make(text, error="m", micro=False).matrix
    border = 2
    count = len(matrix) + 2 * border
    cell = size / count
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for row, line in enumerate(matrix):
        for column, dark in enumerate(line):
            if dark:
                path.rect(x + (column + border) * cell, y + size - (row + border + 1) * cell, cell, cell)
    canvas.drawPath(path, stroke=0, fill=1)


def _centred(canvas: Canvas, text: str, y: float, size: float, bold: bool = False,
             width: float = A4[0] - 30 * mm) -> None:
    """One centred line, shrunk until it fits `width`."""
    font = _font(bold)
    while size > 6 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 1
    canvas.setFont(font, size)
    canvas.drawCentredString(A4[0] / 2, y, text)


def table_card(title: str, join_url: str, code: str, wifi: Wifi | None = None) -> bytes:
    """The table card: an A4 page to print and lay on a table, or pin up by the door."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(title)
    canvas.setAuthor("Palabre")
    width, height = A4
    _centred(canvas, title, height - 25 * mm, 22, bold=True)
    _centred(canvas, _("Join with your phone: scan the code"), height - 38 * mm, 18)
    qr_size = 110 * mm if wifi else 140 * mm
    top = height - 45 * mm
    draw_qr(canvas, join_url, (width - qr_size) / 2, top - qr_size, qr_size)
    y = top - qr_size - 12 * mm
    _centred(canvas, _("or open this address:"), y, 14)
    _centred(canvas, join_url, y - 11 * mm, 22, bold=True)
    _centred(canvas, _("Code of the session"), y - 24 * mm, 14)
    _centred(canvas, code, y - 42 * mm, 48, bold=True)
    if wifi:
        _wifi_block(canvas, wifi, y - 55 * mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _wifi_block(canvas: Canvas, wifi: Wifi, top: float) -> None:
    """The venue's Wi-Fi: a QR code phones join with, the name and password in clear."""
    size = min(55 * mm, top - 12 * mm)
    left = 25 * mm
    canvas.setStrokeColorRGB(0.6, 0.6, 0.6)
    canvas.line(15 * mm, top + 4 * mm, A4[0] - 15 * mm, top + 4 * mm)
    draw_qr(canvas, wifi.payload(), left, top - size, size)
    x = left + size + 10 * mm
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(_font(True), 16)
    canvas.drawString(x, top - 12 * mm, _("Wi-Fi of the venue"))
    canvas.setFont(_font(), 13)
    canvas.drawString(x, top - 24 * mm, _("Network: %(ssid)s", ssid=wifi.ssid))
    if wifi.password:
        canvas.drawString(x, top - 34 * mm, _("Password: %(password)s", password=wifi.password))


COLUMNS, ROWS = 3, 8  # 24 cut-outs per A4 page


def codes_sheet(title: str, join_url: str, codes: list[tuple[int, str]]) -> bytes:
    """Sheets of one-time voting codes to cut along the dashed lines, one per person: the
    session, its address, the code in big letters and its number (what the organiser revokes)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(title)
    canvas.setAuthor("Palabre")
    width, height = (A4[0] - 20 * mm) / COLUMNS, (A4[1] - 20 * mm) / ROWS
    per_page = COLUMNS * ROWS
    for start in range(0, max(len(codes), 1), per_page):
        canvas.setDash(3, 3)
        canvas.setStrokeColorRGB(0.5, 0.5, 0.5)
        for index, (number, code) in enumerate(codes[start:start + per_page]):
            x = 10 * mm + (index % COLUMNS) * width
            y = A4[1] - 10 * mm - (index // COLUMNS + 1) * height
            canvas.rect(x, y, width, height, stroke=1, fill=0)
            _code_cell(canvas, title, join_url, number, code, x + width / 2, y, width - 6 * mm)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _code_cell(canvas: Canvas, title: str, join_url: str, number: int, code: str, centre: float,
               bottom: float, room: float) -> None:
    from live.sessions.doorcodes import display

    lines = ((title, 8, False, 27), (_("Your voting code"), 8, False, 21),
             (display(code), 20, True, 11), (join_url, 7, False, 6),
             (_("No. %(number)s · valid once", number=number), 6, False, 2.5))
    for text, size, bold, offset in lines:
        font = _font(bold)
        while size > 5 and pdfmetrics.stringWidth(text, font, size) > room:
            size -= 0.5
        canvas.setFont(font, size)
        canvas.drawCentredString(centre, bottom + offset * mm, text)
