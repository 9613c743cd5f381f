"""CSV files that spreadsheet programs open correctly and never run as formulas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

# A cell starting with one of these may be run as a formula by Excel, LibreOffice or Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE_OR_TRIGGER = ("'", *FORMULA_TRIGGERS)
BOM = "\ufeff"
# A sign, a digit, then nothing a formula is made of (no operator, parenthesis, reference, quote
# or line break): "-5 degrees", "+33 6 12 34 56 78", "-3,5 %" are text, kept as typed.
_PLAIN_SIGNED = re.compile(r"[+-][0-9][^=+\-*/^&()|!@\"';:<>{}\[\]$\t\r\n]*")


def is_formula(text: str) -> bool:
    """True if a spreadsheet could run this text cell as a formula."""
    return text.startswith(FORMULA_TRIGGERS) and not _PLAIN_SIGNED.fullmatch(text)


def needs_quote(text: str) -> bool:
    """True if this text cell is written with a leading quote.

    Text that already starts with quotes before a formula gets one more, so that `restore`
    gives back exactly what was typed ("'=1+1" is written "''=1+1").
    """
    return is_formula(text.lstrip("'"))


def neutralise(value: object, decimal: str = ".") -> object:
    """A text cell that a spreadsheet would run as a formula, made inert with a leading quote."""
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    if isinstance(value, str) and needs_quote(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The original text of a neutralised cell (for reading our own CSVs back)."""
    if value.startswith("'") and needs_quote(value[1:]):
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
        ("'" + cell if cell.startswith(_QUOTE_OR_TRIGGER) and needs_quote(cell) else cell)
        if isinstance(cell, str)
        else "" if cell is None else repr(cell).replace(".", decimal) if isinstance(cell, float)
        else cell
        for cell in row] for row in rows)
    return (BOM + out.getvalue()).encode("utf-8")


def read_csv(data: bytes, locale: str) -> list[list[str]]:
    """Parse a CSV written by `to_csv` back into rows of original text."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_for(locale))
    return [[restore(cell) for cell in row] for row in reader]
