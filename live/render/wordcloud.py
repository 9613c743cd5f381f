"""Word clouds drawn on the server: a stable layout, SVG for screens, PNG for archives.

`StableWordCloud` is a `wordcloud.WordCloud` whose layout is replaced by one that keeps words in
place while a cloud grows (stock wordcloud draws every position from one random stream, so one
more entry for a word reshuffles every word placed after it), and keeps them apart so that they
read as words:

- font sizes grow with sqrt(weight); their scale factor and the sizes themselves snap to fixed
  ladders, so one more entry rarely changes a size;
- words are placed biggest first, then by a folded key (case and accents ignored): a word whose
  count grows without changing size changes nothing at all;
- each word has a home point hashed from its key (the biggest near the centre) and takes the free
  spot nearest to it, so a newcomer only disturbs its neighbourhood;
- around its box (its em box, advance width by ascent plus descent, grown to its ink) every word
  keeps clear a third of an em (`GAP`) of the bigger of two neighbours, so two words on one line
  never read as one ("MutualisationInclusion");
- the image is cropped to the words (`PAD` around them): a screen showing it fitted in its frame
  uses the whole width or height of that frame, whatever the number of words;
- colours come from the same hash, so a word keeps its colour too.

Same input, same bytes: nothing is random. The layout runs on a grid of `WORK_SCALE`-pixel
cells over word boxes (no glyph is rasterised to lay out), with an integral image of how many
boxes cover each cell (O(1) box queries) and a vectorised nearest-free-spot search; one font
object per size (stock reloads the font file for every size it tries, word_cloud issue #643).
`python -m bench wordcloud` compares it with stock wordcloud on 200 words on the same canvas.

Text is drawn with DejaVu Sans Bold, and what it lacks (CJK, Devanagari, Thai, emoji...) with the
system's Noto fonts (`live.render.fonts`). The SVG embeds a WOFF subset of each font used, holding
only the glyphs drawn (5-8 KB for DejaVu), rather than glyph outlines as paths: one subset plus
`<text>` elements keeps 200 words near 20 KB, stays crisp at any size and needs nothing from the
network. The fonts measured here and the fonts embedded are the same bytes, so a browser showing
the SVG in an `<img>` lays the words out as measured here. What no installed font can draw, and
the words left out for lack of room, are listed in the SVG's `data-missing` attribute (and
`StableWordCloud.missing_`): the server tells the facilitator and the moderators.

No word is drawn smaller than `min_font_size`: on a projector, 2.5 % of the screen's height once
the image is fitted in the slide (`live.render.SCREEN_BODY`). A crowded cloud keeps the heaviest
words that fit at that floor, with their sizes still growing with their counts, and leaves out
the lightest (they are listed as "no room").

Importing this module imports wordcloud, which imports matplotlib (never pyplot: colours come
from our palettes, not a colormap). That cost is paid once per worker process at pre-warm
(`live.render.pool`); the server process never imports this module.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw
from wordcloud import WordCloud

from live.render import HEIGHT, SCREEN_BODY, SCREEN_FLOOR, WIDTH, fonts, missing_words
from live.render.fonts import Face

# Bump when the output changes for the same input: it is part of every cache key.
RENDERER_VERSION = "4"
WORK_SCALE = 4  # the layout runs on a grid this many output pixels per cell
GAP = 1 / 3  # clear space around each word, in ems of the bigger of two neighbours
PAD = 0.015  # space around the words' extent when the image is cropped, share of the canvas
FILL = 0.6  # share of the canvas the words' boxes (with half their gap) aim to cover
SIZE_STEPS = 8  # size factors snap to 2**(k / SIZE_STEPS)
SHRINK = 0.8  # a word that finds no room is retried this much smaller
MAX_WORDS = 200


@dataclass(frozen=True)
class Theme:
    """Colours of a cloud: background and word palette (each ≥ 4.5:1 against the background)."""

    name: str
    background: str
    colors: tuple[str, ...]


THEMES = {
    "light": Theme("light", "#fbfaf7", (
        "#1f4e79", "#9b2d20", "#2c6a2f", "#5e3c8f", "#7a4a00", "#0b5f6b", "#333333",
    )),
    "dark": Theme("dark", "#15181d", (
        "#f2c14e", "#8cc8ff", "#8edb9b", "#ff9e8a", "#d4b0ff", "#7fd8d8", "#f4f4f4",
    )),
}


@dataclass(frozen=True)
class Shape:
    """A text measured at one size: its runs (text, face, pen offset) and its box around the pen
    origin on the baseline (left, top, right, bottom: the em box grown to the ink)."""

    runs: tuple[tuple[str, Face, float], ...]
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class PlacedWord:
    """A word as drawn: text, weight, pen origin x and baseline y, size in px, colour, and the
    box the gap is kept around (left, top, right, bottom, in output pixels)."""

    text: str
    weight: float
    x: int
    y: int
    size: int
    color: str
    box: tuple[int, int, int, int] = (0, 0, 0, 0)


class StableWordCloud(WordCloud):
    """A `WordCloud` with Palabre's stable, fast layout and self-contained SVG and PNG output."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT, theme: str = "light",
                 font_path: str | None = None, max_words: int = MAX_WORDS):
        self.theme = THEMES[theme]
        super().__init__(
            font_path=str(font_path or default_font_path()), width=width, height=height,
            margin=WORK_SCALE, prefer_horizontal=1.0, max_words=max_words,
            min_font_size=min_font_size(width, height), background_color=self.theme.background,
            color_func=self._color, collocations=False, normalize_plurals=False,
        )
        self.placed_: tuple[PlacedWord, ...] = ()
        self.dropped_: tuple[str, ...] = ()
        self.missing_: tuple[str, ...] = ()

    def generate_from_frequencies(self, frequencies: Mapping[str, float],
                                  max_font_size: int | None = None) -> StableWordCloud:
        """Lay out `{text: weight}`; an empty mapping gives an empty cloud."""
        ranked, undrawable = _ranked(frequencies, self.font_path)
        items = ranked[:self.max_words]
        self.words_ = {text: weight for text, weight in items}
        placed, dropped = _place(items, self.width, self.height, self.font_path, self._color)
        # What is left out, the heaviest first (past max_words too: nothing vanishes unsaid).
        self.placed_ = tuple(placed)
        self.dropped_ = tuple(dropped) + tuple(text for text, _ in ranked[self.max_words:])
        self.missing_ = tuple(undrawable) + self.dropped_
        top = max((weight for _, weight in items), default=1) or 1
        # The stock format (top-left anchor), so that wordcloud's own to_array/recolor still work.
        self.layout_ = [((word.text, word.weight / top), word.size, (word.box[1], word.box[0]), None,
                         word.color) for word in placed]
        return self

    def frame(self) -> tuple[int, int, int, int]:
        """The part of the canvas shown: the words' extent and `PAD` around it (x, y, w, h)."""
        return _frame(self.placed_, self.width, self.height)

    def to_svg(self, embed_font: bool = True, optimize_embedded_font: bool = True,
               embed_image: bool = False) -> str:
        """Return the cloud as a standalone SVG document (font subsets embedded)."""
        self._check_generated()
        return _svg(self.placed_, self.frame(), self.theme, self.font_path, embed_font, self.missing_)

    def to_image(self, pixel_scale: int = 1) -> Image.Image:
        """Return the cloud as an RGB image of its frame, `pixel_scale` times the layout size."""
        self._check_generated()
        return _image(self.placed_, self.frame(), self.theme, self.font_path, pixel_scale)

    def _color(self, word: str, **_: object) -> str:
        return self.theme.colors[_hash(_fold(word)) % len(self.theme.colors)]


def render_svg(frequencies: Mapping[str, float], width: int = WIDTH, height: int = HEIGHT,
               theme: str = "light") -> bytes:
    """Return the word cloud of `{text: weight}` as SVG bytes (UTF-8)."""
    cloud = StableWordCloud(width, height, theme).generate_from_frequencies(frequencies)
    return cloud.to_svg().encode("utf-8")


def render_png(frequencies: Mapping[str, float], width: int = WIDTH, height: int = HEIGHT,
               theme: str = "light", pixel_scale: int = 1) -> bytes:
    """Return the word cloud of `{text: weight}` as PNG bytes, `pixel_scale` times larger."""
    cloud = StableWordCloud(width, height, theme).generate_from_frequencies(frequencies)
    buffer = io.BytesIO()
    cloud.to_image(pixel_scale).save(buffer, format="PNG")
    return buffer.getvalue()


def render(frequencies: Mapping[str, float], fmt: str = "svg", width: int = WIDTH, height: int = HEIGHT,
           theme: str = "light") -> bytes:
    """Return the word cloud as 'svg' or 'png' bytes."""
    if fmt == "svg":
        return render_svg(frequencies, width, height, theme)
    if fmt == "png":
        return render_png(frequencies, width, height, theme)
    raise ValueError(f"unknown format {fmt!r}")


def missing(svg: bytes) -> list[str]:
    """The words an SVG of this module could not draw, whole or in part (its `data-missing`)."""
    return missing_words(svg)


def warm_up() -> None:
    """Load the font and its caches, so that the first real render is fast."""
    render_svg({"Palabre": 2, "sobriété": 1})
    render_png({"Palabre": 1})


def default_font_path() -> Path:
    """DejaVu Sans Bold as shipped by matplotlib (found without importing matplotlib)."""
    return fonts.default_font_path()


def min_font_size(width: int, height: int) -> int:
    """Smallest font size drawn on a canvas of `width` x `height` pixels: SCREEN_FLOOR % of a
    projector's height once the image (cropped, so at most the canvas and its pad) is fitted in
    the smallest area a screen shows it in (SCREEN_BODY, in % of the screen's height)."""
    pad = 2 * round(PAD * min(width, height))
    scale = max((width + pad) / SCREEN_BODY[0], (height + pad) / SCREEN_BODY[1])  # px per %
    return max(10, math.ceil(SCREEN_FLOOR * scale))


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio between two '#rrggbb' colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def drawable(text: str, font_path: str | None = None) -> str:
    """Return what of `text` the fonts can draw (the characters none has left out, spaces collapsed)."""
    runs, _missing = fonts.runs(unicodedata.normalize("NFC", text), str(font_path or default_font_path()))
    return " ".join("".join(run.text for run in runs).split()) if runs else ""


# Layout ---------------------------------------------------------------------------------------


def _ranked(frequencies: Mapping[str, float], font_path: str) -> tuple[list[tuple[str, float]], list[str]]:
    """The words to draw, heaviest first, and those the fonts cannot draw (whole or in part)."""
    merged: dict[str, float] = {}
    undrawable: list[str] = []
    for text, weight in frequencies.items():
        text = " ".join(unicodedata.normalize("NFC", str(text)).split())
        if not text or not (math.isfinite(weight) and weight > 0):
            continue
        runs, lost = fonts.runs(text, font_path)
        if lost:
            undrawable.append(text)
        if runs:
            merged[text] = merged.get(text, 0) + float(weight)
    ranked = sorted(merged.items(), key=lambda item: (-item[1], _fold(item[0]), item[0]))
    return ranked, sorted(undrawable, key=lambda text: (-frequencies.get(text, 0), text))


@lru_cache(maxsize=16384)
def _shape(text: str, size: int, font_path: str) -> Shape:
    runs, _lost = fonts.runs(text, font_path)
    pen, left, top, right, bottom = 0.0, 0.0, 0.0, 0.0, 0.0
    parts = []
    for run in runs:
        font, k = fonts.pil_font(run.face, size), fonts.scale(run.face, size)
        ascent, descent = font.getmetrics()
        ink_left, ink_top, ink_right, ink_bottom = font.getbbox(run.text, anchor="ls")
        advance = font.getlength(run.text)
        parts.append((run.text, run.face, pen))
        left, right = min(left, pen + ink_left * k), max(right, pen + max(advance, ink_right) * k)
        top, bottom = min(top, -ascent * k, ink_top * k), max(bottom, descent * k, ink_bottom * k)
        pen += advance * k
    return Shape(tuple(parts), (left, top, right, bottom))


def _place(items: list[tuple[str, float]], width: int, height: int, font_path: str,
           color_of) -> tuple[list[PlacedWord], list[str]]:
    """Place the heaviest words that fit at min_font_size or more; the others (in rank order)
    are left out, the lightest first."""
    smallest = min_font_size(width, height)
    too_wide = {text for text, _ in items if _width(text, smallest, font_path) > width - 2 * WORK_SCALE}
    fitting = [item for item in items if item[0] not in too_wide]
    sizes = _sizes(fitting, width, height, font_path)
    placed: list[PlacedWord] = []
    unplaced: list[str] = []
    for _attempt in range(5):
        placed, unplaced = _layout(fitting[:len(sizes)], sizes, width, height, font_path, color_of)
        if not unplaced or len(unplaced) >= len(sizes):
            break
        # A word found no room (the sizes are an estimate): as many of the lightest are left
        # out instead, so that what is left out is always the lightest.
        sizes = sizes[:len(sizes) - len(unplaced)]
    if unplaced:  # still no room for some: none lighter than them is drawn either
        missed = set(unplaced)
        heaviest = max(weight for text, weight in fitting if text in missed)
        placed = [word for word in placed if word.weight >= heaviest]
    shown = {word.text for word in placed}
    return placed, [text for text, _ in items if text not in shown]


def _layout(items: list[tuple[str, float]], sizes: list[int], width: int, height: int, font_path: str,
            color_of) -> tuple[list[PlacedWord], list[str]]:
    """Place `items` at `sizes` (or smaller, down to min_font_size); those that find no room."""
    if not items:
        return [], []
    smallest = min_font_size(width, height)
    sized = [(size, text, weight) for (text, weight), size in zip(items, sizes, strict=True)]
    # Biggest first, then by key: a word whose count grows without changing size changes nothing.
    # Sizes never grow along the way, so the gap kept around a word placed earlier is always
    # that of the bigger of the two.
    sized.sort(key=lambda item: (-item[0], _fold(item[1]), item[1]))
    top = sized[0][0]
    space = _Occupancy(height // WORK_SCALE, width // WORK_SCALE)
    placed, dropped = [], []
    for size, text, weight in sized:
        home = _home(text, (size - smallest) / max(1, top - smallest), space)
        spot = None
        while spot is None and size >= smallest:
            left, upper, right, lower = _shape(text, size, font_path).box
            cells = (math.ceil((lower - upper) / WORK_SCALE), math.ceil((right - left) / WORK_SCALE))
            spot = space.nearest_free(cells, home)
            if spot is None:
                size = max(smallest, math.floor(size * SHRINK)) if size > smallest else 0
        if spot is None:
            dropped.append(text)
            continue
        row, col = spot
        halo = math.ceil(GAP * size / WORK_SCALE)
        space.add(row - halo, col - halo, row + cells[0] + halo, col + cells[1] + halo)
        x, y = col * WORK_SCALE - math.floor(left), row * WORK_SCALE - math.floor(upper)
        box = (x + math.floor(left), y + math.floor(upper), x + math.ceil(right), y + math.ceil(lower))
        placed.append(PlacedWord(text, weight, x, y, size, color_of(text), box))
    return placed, dropped


def _width(text: str, size: int, font_path: str) -> float:
    left, _top, right, _bottom = _shape(text, size, font_path).box
    return right - left


def _sizes(items: list[tuple[str, float]], width: int, height: int, font_path: str) -> list[int]:
    """Font sizes of the heaviest words (a prefix of `items`, heaviest first) whose boxes (with
    half their gap) cover about FILL of the canvas, growing with sqrt(weight).

    Sparse clouds scale every word (`base * sqrt(w / w_min)`); crowded ones keep the lightest
    words at the minimum size and grow the others (`smallest + step * (sqrt(w / w_min) - 1)`,
    `step` at least a third of the minimum size, so that counts still show); past that, the
    lightest words are left out. `base`, `step` and the sizes snap to fixed ladders, so one more
    entry rarely changes a size.
    """
    if not items:
        return []
    smallest, largest = min_font_size(width, height), round(height / 4.5)
    boxes = np.array([_shape(text, 100, font_path).box for text, _ in items], dtype=float) / 100
    advances, lines = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    weights = np.array([weight for _, weight in items], dtype=float)
    cost = (advances + GAP) * (lines + GAP)

    def fits(sizes: np.ndarray) -> bool:
        n = len(sizes)
        return (float(np.dot(sizes * sizes, cost[:n])) <= FILL * width * height
                and float(np.max(sizes * advances[:n])) <= 0.9 * width)

    def roots(n: int) -> np.ndarray:
        return np.sqrt(weights[:n] / weights[n - 1])  # heaviest first: the lightest is the last

    rungs = [2 ** (k / SIZE_STEPS) for k in range(SIZE_STEPS * 10, 0, -1)]  # 1024 down to 1
    every = roots(len(items))
    for base in rungs:
        sizes = base * every
        if smallest <= base and sizes.max() <= largest and fits(sizes):
            return [_snap(size, smallest, largest) for size in sizes]
    steps = [step for step in rungs if step >= smallest / 3]
    # As many words as fit with the smallest step (fewer words never need more room).
    low, high = 1, len(items)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(smallest + steps[-1] * (roots(middle) - 1)):
            low = middle
        else:
            high = middle - 1
    kept = roots(low)
    for step in steps:
        sizes = smallest + step * (kept - 1)
        if sizes.max() <= largest and fits(sizes):
            return [_snap(size, smallest, largest) for size in sizes]
    return [_snap(size, smallest, largest) for size in smallest + steps[-1] * (kept - 1)]


def _snap(size: float, smallest: int, largest: int) -> int:
    """Round a size to the ladder 2**(k / SIZE_STEPS), so that close weights share one size."""
    return min(largest, max(smallest, round(2 ** (round(SIZE_STEPS * math.log2(size)) / SIZE_STEPS))))


def _home(text: str, weight: float, space: _Occupancy) -> tuple[float, float]:
    """The point a word would like to sit on: hashed from its key, the heaviest near the centre."""
    digest = _hash(_fold(text))
    u, v = (digest & 0xFFFF) / 0xFFFF - 0.5, ((digest >> 16) & 0xFFFF) / 0xFFFF - 0.5
    spread = 0.1 + 0.9 * (1 - weight)
    return space.height / 2 + v * space.height * spread, space.width / 2 + u * space.width * spread


class _Occupancy:
    """Which cells word boxes (grown by their gap) cover. A search sums the cells under every
    candidate box of a window at once (an integral image of that window only), so that marking a
    word is a mere slice assignment."""

    def __init__(self, height: int, width: int):
        self.height, self.width = height, width
        self.cover = np.zeros((height, width), dtype=np.int32)
        # A cell along each edge stays clear: words never touch the image's border.
        self.cover[[0, -1], :] = 1
        self.cover[:, [0, -1]] = 1

    def nearest_free(self, shape: tuple[int, int], home: tuple[float, float]) -> tuple[int, int] | None:
        """Top-left cell of the free box of `shape` whose centre is nearest to `home`."""
        rows, cols = shape
        if rows > self.height or cols > self.width:
            return None
        # Look around home first (cheap); the whole canvas only if that window is full.
        for reach in (3, None):
            found = self._search(rows, cols, home, reach)
            if found is not None:
                return found
        return None

    def _search(self, rows: int, cols: int, home: tuple[float, float], reach: int | None):
        top, left, bottom, right = 0, 0, self.height - rows, self.width - cols
        if reach is not None:
            row0, col0 = round(home[0] - rows / 2), round(home[1] - cols / 2)
            dr, dc = reach * rows + 4, reach * 8 + cols // 2
            top, bottom = max(top, row0 - dr), min(bottom, row0 + dr)
            left, right = max(left, col0 - dc), min(right, col0 + dc)
            if top > bottom or left > right:
                return None
        window = self.cover[top:bottom + rows, left:right + cols]
        s = np.zeros((window.shape[0] + 1, window.shape[1] + 1), dtype=np.int32)
        np.cumsum(np.cumsum(window, axis=0), axis=1, out=s[1:, 1:])
        inside = s[rows:, cols:] - s[:-rows, cols:] - s[rows:, :-cols] + s[:-rows, :-cols]
        free = inside == 0
        if not free.any():
            return None
        # Distances in canvas-relative units, so that the search spreads along the wide side.
        dy = ((np.arange(top, bottom + 1) + rows / 2 - home[0]) / self.height) ** 2
        dx = ((np.arange(left, right + 1) + cols / 2 - home[1]) / self.width) ** 2
        distance = np.where(free, dy[:, None] + dx[None, :], np.inf)
        row, col = np.unravel_index(int(np.argmin(distance)), distance.shape)
        return top + int(row), left + int(col)

    def add(self, top: int, left: int, bottom: int, right: int) -> None:
        """Mark cells [top, bottom) x [left, right) as covered (clipped to the grid)."""
        self.cover[max(0, top):max(0, bottom), max(0, left):max(0, right)] = 1


def _frame(words: tuple[PlacedWord, ...], width: int, height: int) -> tuple[int, int, int, int]:
    if not words:
        return 0, 0, width, height
    # The pad may reach past the canvas: a word at its edge still gets its margin.
    pad = round(PAD * min(width, height))
    left, top = min(w.box[0] for w in words) - pad, min(w.box[1] for w in words) - pad
    right, bottom = max(w.box[2] for w in words) + pad, max(w.box[3] for w in words) + pad
    return left, top, right - left, bottom - top


# Output ---------------------------------------------------------------------------------------


def _svg(words: tuple[PlacedWord, ...], frame: tuple[int, int, int, int], theme: Theme, font_path: str,
         embed_font: bool, missing: tuple[str, ...] = ()) -> str:
    x0, y0, width, height = frame
    shapes = {w: _shape(w.text, w.size, font_path) for w in words}
    faces: dict[Face, set[str]] = {}
    for shape in shapes.values():
        for text, face, _pen in shape.runs:
            faces.setdefault(face, set()).update(text)
    listed = escape(json.dumps(list(missing), ensure_ascii=False), {'"': "&quot;"})
    lost = f' data-missing="{listed}"' if missing else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="{x0} {y0} {width} {height}"{lost}>',
        "<style>",
    ]
    for face in sorted(faces, key=lambda face: int(face.family[1:])):
        if embed_font:
            woff = fonts.woff(face, "".join(sorted(faces[face])))
            parts.append(f"@font-face{{font-family:{face.family};font-weight:bold;"
                         f"src:url(data:font/woff;base64,{woff})}}")
        if not face.primary:
            parts.append(f".{face.family}{{font-family:{face.family}}}")
    parts.append('text{font-family:w0,"DejaVu Sans",sans-serif;font-weight:bold;white-space:pre}</style>')
    parts.append(f'<rect x="{x0}" y="{y0}" width="{width}" height="{height}" fill="{theme.background}"/>')
    for color in theme.colors:
        texts = [_svg_text(w, shapes[w]) for w in words if w.color == color]
        if texts:
            parts.append(f'<g fill="{color}">' + "".join(texts) + "</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_text(word: PlacedWord, shape: Shape) -> str:
    if len(shape.runs) == 1:
        text, face, _pen = shape.runs[0]
        css = "" if face.primary else f' class="{face.family}"'
        return f'<text x="{word.x}" y="{word.y}" font-size="{word.size}"{css}>{escape(text)}</text>'
    spans = "".join(
        f'<tspan x="{round(word.x + pen, 1):g}"' + ("" if face.primary else f' class="{face.family}"')
        + f">{escape(text)}</tspan>" for text, face, pen in shape.runs)
    return f'<text y="{word.y}" font-size="{word.size}">{spans}</text>'


def _image(words: tuple[PlacedWord, ...], frame: tuple[int, int, int, int], theme: Theme, font_path: str,
           pixel_scale: int) -> Image.Image:
    x0, y0, width, height = frame
    image = Image.new("RGB", (width * pixel_scale, height * pixel_scale), theme.background)
    draw = ImageDraw.Draw(image)
    for word in words:
        for text, face, pen in _shape(word.text, word.size, font_path).runs:
            x, y = (word.x + pen - x0) * pixel_scale, (word.y - y0) * pixel_scale
            if face.strike:
                _paste_bitmap(image, text, face, word.size * pixel_scale, (x, y))
            else:
                draw.text((x, y), text, font=fonts.pil_font(face, word.size * pixel_scale),
                          fill=word.color, anchor="ls")
    return image


def _paste_bitmap(image: Image.Image, text: str, face: Face, size: int, origin: tuple[float, float]) -> None:
    """Draw colour bitmap glyphs (emoji) at their strike size, scaled to `size`."""
    font, k = fonts.pil_font(face, size), fonts.scale(face, size)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    if right <= left or bottom <= top:
        return
    layer = Image.new("RGBA", (right - left, bottom - top))
    ImageDraw.Draw(layer).text((-left, -top), text, font=font, anchor="ls", embedded_color=True)
    target = (max(1, round(layer.width * k)), max(1, round(layer.height * k)))
    layer = layer.resize(target, Image.Resampling.LANCZOS)
    image.paste(layer, (round(origin[0] + left * k), round(origin[1] + top * k)), layer)


# Helpers --------------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _luminance(color: str) -> float:
    channels = [int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
