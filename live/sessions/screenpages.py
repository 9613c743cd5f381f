"""Pages of the projected screen without JavaScript (docs/screen.md).

A projector's browser with scripts off gets the screen from the server, which cannot measure
anything. So the server estimates: in the unit of the screen's CSS (1rem = 1 % of its height,
static/css/screen.css), the height of each row, option and card once its text is wrapped on the
narrowest projector the screen supports (4:3, the most lines), with generous glyph widths; it
puts on a page what fits in the slide's body under the question, and the rest on the next
pages. `?page=N` picks the page; the page's refresh goes to the next one (docs/screen.md).
tests/test_screen_nojs.py checks the estimate against real boxes at 1920x1080, 1280x720 and
1024x768. With JavaScript, static/js/screen.js measures and pages by itself; none of this is used.
"""

from __future__ import annotations

import copy
import unicodedata

WIDTH = 123.0           # rem: the slide's width on a 4:3 screen (133.3rem less 2 x 5rem of padding)
HEIGHT = 95.0           # rem: the screen's height less its padding (3.5rem + 1.5rem)
TOP = 5.0               # rem: the session's name, the state's pill (the timer is taller)
TOP_TIMER = 7.2
FOOT = 14.8             # rem: the footer's rule, padding and QR code (13rem)
LIST_PAD = 2.0          # rem: the list's padding above and below its lines
MAX_PAGES = 60
PROMPTS = ((200, 3.4, 3.5), (100, 4.4, 4.5), (0, 6.2, 6.0))  # longer than: font size, margins
TIGHT = (0, 2.6, 2.5)  # the question above a spotlight that does not fit under it otherwise


def _glyph(ch: str) -> float:
    """A generous advance of one character, in em, for the screen's bold sans-serif."""
    if ch == " ":
        return 0.3
    if unicodedata.east_asian_width(ch) in ("W", "F") or ord(ch) > 0xFFFF:
        return 1.05
    if ch in "mwMW@%&":
        return 0.95
    if ch.isupper() or ch.isdigit():
        return 0.72
    if ch in "il.,:;'|!":
        return 0.32
    return 0.56


def lines(text: str, font: float, width: float) -> int:
    """How many lines `text` takes at `font` rem in a box `width` rem wide (words wrapped, a word
    longer than the line broken anywhere, as `overflow-wrap: anywhere` does)."""
    room = width / font
    count, used = 1, 0.0
    for word in (text or "").split():
        size = sum(_glyph(ch) for ch in word)
        gap = _glyph(" ") if used else 0.0
        if used + gap + size <= room:
            used += gap + size
            continue
        if used:
            count += 1
        while size > room:  # broken anywhere
            count += 1
            size -= room
        used = size
    return count


def _body(view: dict, a: dict, tight: bool = False) -> float:
    """The height (rem) the slide leaves to its body: under the top line and the question, above
    the footer. `tight`: the question at the floor's type (screen.css: .prompt.tight)."""
    prompt = a.get("prompt") or ""
    _longer, font, margins = TIGHT if tight else next(p for p in PROMPTS if len(prompt) > p[0])
    top = TOP_TIMER if a.get("timer") else TOP
    return HEIGHT - top - lines(prompt, font, WIDTH) * font * 1.12 - margins - FOOT


def _pack(heights: list[float], room: float) -> list[list[int]]:
    """Indices of `heights` in pages of at most `room` rem each, in order (at least one a page)."""
    pages: list[list[int]] = [[]]
    used, room = 0.0, room - 1.0  # a margin for the estimate's errors
    for n, height in enumerate(heights):
        if pages[-1] and used + height > room:
            pages.append([])
            used = 0.0
        pages[-1].append(n)
        used += height
    return pages[:MAX_PAGES]


# --- polls --------------------------------------------------------------------------------------

BARS = {"": (4.4, 0.42, 6.0, 2.4), "many": (3.4, 0.42, 3.8, 1.1), "long": (3.0, 0.62, 3.0, 0.8)}


def _bar_rows(a: dict) -> list[str]:
    r = a["results"]
    if a.get("type") == "ranking":
        return [f"{n + 1}. {o['label']}" for n, o in enumerate(_ranked(r))]
    if a.get("type") == "scale":
        s, last = a.get("settings") or {}, len(r["buckets"]) - 1
        ends = {0: s.get("label_low") or "", last: s.get("label_high") or ""}
        return [f"{b['value']} · {ends.get(n, '')}" for n, b in enumerate(r["buckets"])]
    return [o["label"] for o in r["options"]]


def _ranked(r: dict) -> list[dict]:
    return sorted(r["options"], key=lambda o: o["score"], reverse=True)


def _bars(a: dict, room: float, dense: str) -> list[list[int]]:
    font, share, track, gap = BARS[dense]
    heights = [max(lines(label, font, WIDTH * share) * font * 1.1, track) + gap for label in _bar_rows(a)]
    after = 7.0 if a.get("type") == "scale" else 0.0  # the mean under the bars
    return _pack(heights, room - LIST_PAD - after)


def _options(a: dict, room: float, dense: str) -> list[list[int]]:
    font, margin, indent = {"": (4.6, 1.6, 5.0), "long": (3.0, 1.0, 3.6)}[dense]
    heights = [lines(o["label"], font, WIDTH - indent) * font * 1.2 + margin for o in a["options"]]
    return _pack(heights, room - LIST_PAD - 9.0)  # the count of answers under the options


def _poll(view: dict, a: dict, number: int) -> dict | None:
    room = _body(view, a)
    if a.get("results"):
        rows = a["results"].get("options") or a["results"].get("buckets") or []
        for dense in ("", "many", "long"):
            pages = _bars(a, room, dense)
            if len(pages) == 1:
                break
        cls = "big" + ("".join(f" {c}" for c in ("many", "long")[:("", "many", "long").index(dense)]))
        if a.get("type") == "scale":  # ten short rows at most, its ends labelled: one page, denser
            return {"a": a, "cls": cls, "skip": 0, "n": 1, "total": 1}
        n = min(number, len(pages)) - 1
        shown = copy.deepcopy(a)
        if a.get("type") == "ranking":
            shown["results"]["options"] = [_ranked(a["results"])[i] for i in pages[n]]
        else:
            shown["results"]["options"] = [rows[i] for i in pages[n]]
        return {"a": shown, "cls": cls, "skip": pages[n][0], "n": n + 1, "total": len(pages)}
    if a.get("type") == "scale" or not a.get("options"):
        return None
    pages = _options(a, room, "")
    dense = ""
    if len(pages) > 1:
        dense, pages = "long", _options(a, room, "long")
    n = min(number, len(pages)) - 1
    shown = copy.deepcopy(a)
    shown["options"] = [a["options"][i] for i in pages[n]]
    return {"a": shown, "cls": f" {dense}" if dense else "", "n": n + 1, "total": len(pages)}


# --- idea walls and Q&A -------------------------------------------------------------------------

CARD = {"": (3.4, 1.25), "dense": (3.0, 1.25), "denser": (2.6, 1.2)}


def _card(item: dict, font: float, line: float, width: float, meta: float = 2.6) -> float:
    """A card's height: padding, border, text, the line of author and votes, margin under it."""
    text = lines(item.get("text") or "", font, width - 2.6) * font * line
    return 2.4 + text + (meta * 1.25 + 0.4 if item.get("author") or "votes" in item else 0) + 0.9


def _big(item: dict, room: float) -> str:
    """The class of the big card (an idea in the spotlight, the question being answered): the
    largest type with which it fits in `room` rem (screen.css: is-spotlight, is-current)."""
    for big, font in (("", 6.0), ("smaller", 4.6), ("smallest", 3.6)):
        if _card(item, font, 1.25, WIDTH - 3.0) + 4.0 <= room:
            return big
    return "tiny"


def _wall_layout(columns: list[str], per_column: list[list[dict]], room: float):
    """How many columns side by side on a page and how dense its cards: the most columns (at
    most three: one row of the grid at 4:3) and the largest type with which every card fits
    alone under its column's title."""
    biggest = max((i for c in per_column for i in c), key=lambda i: len(i.get("text") or ""), default={})
    for side in (3, 2, 1):
        width = (WIDTH - 1.5 * (side - 1)) / side
        title = 0.0 if len(columns) == 1 else max(lines(c, 4.0, width) * 4.8 + 1.3 for c in columns)
        for dense in ("", "dense", "denser"):
            font, line = CARD[dense]
            if _card(biggest, font, line, width) <= room - title:
                return side, width, title, dense
    return 1, WIDTH, title, "denser"


def _wall(view: dict, a: dict, number: int) -> dict | None:
    items, columns = a.get("items"), (a.get("settings") or {}).get("columns") or [""]
    room = _body(view, a) - LIST_PAD
    if a.get("spotlight"):  # one big card: type as large as fits, under a smaller question if need be
        tight = _card(a["spotlight"], 3.0, 1.25, WIDTH - 3.0) + 4.0 > room
        room = _body(view, a, tight) - LIST_PAD
        return {"a": a, "big": _big(a["spotlight"], room), "columns": {}, "dense": "", "n": 1, "total": 1,
                "tight": tight}
    if items is None:
        return None
    per_column = [[i for i in items if i.get("column") == c or len(columns) == 1]
                  for c in range(len(columns))]
    if len(columns) == 1:  # its cards flow in two columns (screen.css): as two columns of a page
        width = (WIDTH - 1.5) / 2
        cards = [_card(i, CARD["denser"][0], CARD["denser"][1], width) for i in per_column[0]]
        pages = [{0: [per_column[0][i] for i in page]}
                 for page in _pack(cards, 2 * room - max(cards, default=0))] or [{}]
        n = min(number, len(pages)) - 1
        return {"a": a, "columns": pages[n], "dense": "denser", "n": n + 1, "total": len(pages)}
    side, width, title, dense = _wall_layout(columns, per_column, room)
    font, line = CARD[dense]
    pages: list[dict] = []
    for first in range(0, len(columns), side):
        chunk = range(first, min(first + side, len(columns)))
        packed = {c: _pack([_card(i, font, line, width) for i in per_column[c]], room - title) for c in chunk}
        for n in range(max(len(p) for p in packed.values())):
            pages.append({c: [per_column[c][i] for i in packed[c][n]] if n < len(packed[c]) else []
                          for c in chunk})
    pages = pages[:MAX_PAGES] or [{}]
    n = min(number, len(pages)) - 1
    return {"a": a, "columns": pages[n], "dense": dense, "n": n + 1, "total": len(pages)}


def _questions(view: dict, a: dict, number: int) -> dict | None:
    items = a.get("items") or []
    current = a.get("current") or {}
    top = [i for i in items if not i.get("answered") and i.get("id") != current.get("id")][:8]
    done = list(reversed([i for i in items if i.get("answered")][-6:]))
    room = _body(view, a) - LIST_PAD
    blocks = []  # one column (the lists one under the other): what to show, its height
    if current:  # its label, the card as large as fits in 60 % of the body, the room under it
        big = _big(current, room * 0.6 - 5.1)
        font = {"": 6.0, "smaller": 4.6, "smallest": 3.6, "tiny": 3.0}[big]
        blocks.append((("current", big), 5.1 + _card(current, font, 1.25, WIDTH - 3.0) + 4.0))
    for name, rows, font in (("top", top, 3.2), ("done", done, 2.6)):
        for n, item in enumerate(rows):
            blocks.append(((name, item["id"]), _card(item, font, 1.25, WIDTH) + (6.5 if n == 0 else 0)))
    pages = _pack([height for _what, height in blocks], room)
    n = min(number, len(pages)) - 1
    shown = [blocks[i][0] for i in pages[n]]
    return {"a": a, "big": next((what[1] for what in shown if what[0] == "current"), None),
            "top": [what[1] for what in shown if what[0] == "top"],
            "done": [what[1] for what in shown if what[0] == "done"], "n": n + 1, "total": len(pages)}


def paginate(view: dict, number: int) -> dict | None:
    """The page `number` (1-based) of the activity on screen, or None when it is shown whole:
    `a` the activity as this page shows it, `n`/`total`, and what each kind needs."""
    a = view.get("current")
    if not a:
        return None
    number = max(1, number)
    if a["kind"] == "poll":
        return _poll(view, a, number)
    if a["kind"] == "ideas":
        return _wall(view, a, number)
    if a["kind"] == "questions":
        return _questions(view, a, number)
    return None
