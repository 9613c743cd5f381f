"""CSV files that spreadsheet programs open correctly and never run as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(value: object, decimal: str = ".") -> object:
    """A text cell that a spreadsheet would run as a formula, made inert with a leading quote."""
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The original text of a neutralised cell (for reading our own CSVs back)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def delimiter_for(locale: str) -> str:
    """French spreadsheets expect semicolons (the comma is the decimal separator)."""
    return ";" if locale == "fr" else ","


def to_csv(header: Iterable[object], rows: Iterable[Iterable[object]], locale: str) -> bytes:
    """A UTF-8 CSV with a byte-order mark, every text cell neutralised, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter_for(locale), lineterminator="\r\n",
                        quoting=csv.QUOTE_MINIMAL)
    decimal = "," if locale == "fr" else "."
    writer.writerow([neutralise(cell) for cell in header])
    # `neutralise` inlined: archives write ~10^6 cells; the output is the same.
    writer.writerows([
        ("'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell) if isinstance(cell, str)
        else "" if cell is None else repr(cell).replace(".", decimal) if isinstance(cell, float)
        else cell
        for cell in row] for row in rows)
    return (BOM + out.getvalue()).encode("utf-8")


def read_csv(data: bytes, locale: str) -> list[list[str]]:
    """Parse a CSV written by `to_csv` back into rows of original text."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_for(locale))
    return [[restore(cell) for cell in row] for row in reader]
