"""Word clouds drawn on the server: a stable layout, SVG for screens, PNG for archives.

`StableWordCloud` is a `wordcloud.WordCloud` whose layout is replaced by one that keeps words in
place while a cloud grows (stock wordcloud draws every position from one random stream, so one
more entry for a word reshuffles every word placed after it):

- font sizes grow with sqrt(weight); their scale factor and the sizes themselves snap to fixed
  ladders, so one more entry rarely changes a size;
- words are placed biggest first, then by a folded key (case and accents ignored): a word whose
  count grows without changing size changes nothing at all;
- each word has a home point hashed from its key (the biggest near the centre) and takes the free
  spot nearest to it, so a newcomer only disturbs its neighbourhood;
- colours come from the same hash, so a word keeps its colour too.

Same input, same bytes: nothing is random. The layout runs on a canvas half the output size
(`WORK_SCALE`) against a pixel occupancy map (small words nest in big words' gaps, as in stock
wordcloud), with one font object per size (stock reloads the font file for every size it tries,
word_cloud issue #643) and a vectorised nearest-free-spot search over an integral image. Result:
4-6x faster than stock on 200 words at 1280x720 (`python -m bench wordcloud`).

The SVG embeds a WOFF subset of DejaVu Sans Bold (shipped with matplotlib) holding only the
glyphs drawn, 5-8 KB, rather than glyph outlines as paths: outlines of ~2,000 glyph instances
would weigh several hundred KB, while one subset plus `<text>` elements keeps 200 words near
17 KB, stays crisp at any size and needs nothing from the network. The font measured here and
the font embedded are the same bytes (hinting, GPOS and kern tables removed once per process), so
a browser showing the SVG in an `<img>` lays the words out exactly as measured here. Characters
the font lacks (emoji, most CJK) are left out of the drawing rather than shown as boxes; a word
with nothing left to draw is skipped.

Importing this module imports wordcloud, which imports matplotlib (never pyplot: colours come
from our palettes, not a colormap). That cost is paid once per worker process at pre-warm
(`live.render.pool`); the server process never imports this module.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from wordcloud import WordCloud

# Bump when the output changes for the same input: it is part of every cache key.
RENDERER_VERSION = "1"
WORK_SCALE = 2  # the layout runs on a canvas this many times smaller than the output
MARGIN = 2  # free working pixels around each word (4 output pixels)
FILL = 0.85  # share of the canvas the words' boxes aim to cover
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
class PlacedWord:
    """A word as drawn: text, weight, pen origin x and baseline y, size in px, colour."""

    text: str
    weight: float
    x: int
    y: int
    size: int
    color: str


class StableWordCloud(WordCloud):
    """A `WordCloud` with Palabre's stable, fast layout and self-contained SVG and PNG output."""

    def __init__(self, width: int = 1280, height: int = 720, theme: str = "light",
                 font_path: str | None = None, max_words: int = MAX_WORDS):
        self.theme = THEMES[theme]
        super().__init__(
            font_path=str(font_path or default_font_path()), width=width, height=height,
            margin=MARGIN * WORK_SCALE, prefer_horizontal=1.0, max_words=max_words,
            min_font_size=min_font_size(height), background_color=self.theme.background,
            color_func=self._color, collocations=False, normalize_plurals=False,
        )
        self.placed_: tuple[PlacedWord, ...] = ()
        self.dropped_: tuple[str, ...] = ()

    def generate_from_frequencies(self, frequencies: Mapping[str, float],
                                  max_font_size: int | None = None) -> StableWordCloud:
        """Lay out `{text: weight}`; an empty mapping gives an empty cloud."""
        items = _ranked(frequencies, self.font_path, self.max_words)
        self.words_ = {text: weight for text, weight in items}
        placed, dropped = _place(items, self.width, self.height, self.font_path, self._color)
        self.placed_, self.dropped_ = tuple(placed), tuple(dropped)
        ascent = {word.size: _font(self.font_path, word.size).getmetrics()[0] for word in placed}
        top = max((weight for _, weight in items), default=1) or 1
        # The stock format (top-left anchor), so that wordcloud's own to_array/recolor still work.
        self.layout_ = [((word.text, word.weight / top), word.size,
                         (word.y - ascent[word.size], word.x), None, word.color) for word in placed]
        return self

    def to_svg(self, embed_font: bool = True, optimize_embedded_font: bool = True,
               embed_image: bool = False) -> str:
        """Return the cloud as a standalone SVG document (font subset embedded)."""
        self._check_generated()
        return _svg(self.placed_, self.width, self.height, self.theme, self.font_path, embed_font)

    def to_image(self, pixel_scale: int = 1) -> Image.Image:
        """Return the cloud as an RGB image, `pixel_scale` times the layout size."""
        self._check_generated()
        return _image(self.placed_, self.width, self.height, self.theme, self.font_path, pixel_scale)

    def _color(self, word: str, **_: object) -> str:
        return self.theme.colors[_hash(_fold(word)) % len(self.theme.colors)]


def render_svg(frequencies: Mapping[str, float], width: int = 1280, height: int = 720,
               theme: str = "light") -> bytes:
    """Return the word cloud of `{text: weight}` as SVG bytes (UTF-8)."""
    cloud = StableWordCloud(width, height, theme).generate_from_frequencies(frequencies)
    return cloud.to_svg().encode("utf-8")


def render_png(frequencies: Mapping[str, float], width: int = 1280, height: int = 720,
               theme: str = "light", pixel_scale: int = 1) -> bytes:
    """Return the word cloud of `{text: weight}` as PNG bytes, `pixel_scale` times larger."""
    cloud = StableWordCloud(width, height, theme).generate_from_frequencies(frequencies)
    buffer = io.BytesIO()
    cloud.to_image(pixel_scale).save(buffer, format="PNG")
    return buffer.getvalue()


def render(frequencies: Mapping[str, float], fmt: str = "svg", width: int = 1280, height: int = 720,
           theme: str = "light") -> bytes:
    """Return the word cloud as 'svg' or 'png' bytes."""
    if fmt == "svg":
        return render_svg(frequencies, width, height, theme)
    if fmt == "png":
        return render_png(frequencies, width, height, theme)
    raise ValueError(f"unknown format {fmt!r}")


def warm_up() -> None:
    """Load the font and its caches, so that the first real render is fast."""
    render_svg({"Palabre": 2, "sobriété": 1})
    render_png({"Palabre": 1})


def default_font_path() -> Path:
    """DejaVu Sans Bold as shipped by matplotlib (found without importing matplotlib)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0], "mpl-data", "fonts", "ttf", "DejaVuSans-Bold.ttf")
        if path.exists():
            return path
    import wordcloud

    return Path(wordcloud.__file__).with_name("DroidSansMono.ttf")


def min_font_size(height: int) -> int:
    """Smallest font size drawn on a canvas `height` pixels high (legible on a projector)."""
    return max(10, round(height / 48))


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio between two '#rrggbb' colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def drawable(text: str, font_path: str | None = None) -> str:
    """Return `text` without the characters the font cannot draw, spaces collapsed."""
    cmap = _cmap(str(font_path or default_font_path()))
    kept = "".join(
        " " if ch.isspace() else ch for ch in text
        if ch.isspace() or (ord(ch) in cmap and unicodedata.category(ch)[0] != "C")
    )
    return " ".join(kept.split())


# Layout ---------------------------------------------------------------------------------------


def _ranked(frequencies: Mapping[str, float], font_path: str, limit: int) -> list[tuple[str, float]]:
    merged: dict[str, float] = {}
    for text, weight in frequencies.items():
        shown = drawable(unicodedata.normalize("NFC", str(text)), font_path)
        if shown and math.isfinite(weight) and weight > 0:
            merged[shown] = merged.get(shown, 0) + float(weight)
    return sorted(merged.items(), key=lambda item: (-item[1], _fold(item[0]), item[0]))[:limit]


def _place(items: list[tuple[str, float]], width: int, height: int, font_path: str,
           color_of) -> tuple[list[PlacedWord], list[str]]:
    smallest = min_font_size(height)
    reference = _font(font_path, 100)
    too_wide = [text for text, _ in items if reference.getlength(text) * smallest / 100 > width - 8]
    items = [item for item in items if item[0] not in too_wide]
    if not items:
        return [], too_wide
    sized = [(size, text, weight) for (text, weight), size
             in zip(items, _sizes(items, width, height, font_path), strict=True)]
    # Biggest first, then by key: a word whose count grows without changing size changes nothing.
    sized.sort(key=lambda item: (-item[0], _fold(item[1]), item[1]))
    top = sized[0][0]
    space = _Occupancy(height // WORK_SCALE, width // WORK_SCALE)
    placed, dropped = [], too_wide
    for size, text, weight in sized:
        home = _home(text, (size - smallest) / max(1, top - smallest), space)
        spot = None
        while spot is None and size >= smallest:
            mask, (left, baseline) = _mask(text, font_path, size)
            spot = space.nearest_free(mask.shape, home)
            if spot is None:
                size = max(smallest, math.floor(size * SHRINK)) if size > smallest else 0
        if spot is None:
            dropped.append(text)
            continue
        row, col = spot
        space.fill(mask, row + MARGIN, col + MARGIN)
        x = (col + MARGIN) * WORK_SCALE - left
        y = (row + MARGIN) * WORK_SCALE - baseline
        placed.append(PlacedWord(text, weight, x, y, size, color_of(text)))
    return placed, dropped


def _sizes(items: list[tuple[str, float]], width: int, height: int, font_path: str) -> list[int]:
    """Font sizes whose boxes cover about FILL of the canvas, growing with sqrt(weight).

    Sparse clouds scale every word (`base * sqrt(w / w_min)`); crowded ones keep the lightest
    words at the minimum size and grow the others (`smallest + step * (sqrt(w / w_min) - 1)`).
    `base`, `step` and the sizes snap to fixed ladders, so one more entry rarely changes a size.
    """
    smallest, largest = min_font_size(height), round(height / 4.5)
    reference = _font(font_path, 100)
    line = sum(reference.getmetrics()) / 100
    advances = [reference.getlength(text) / 100 for text, _ in items]
    lightest = min(weight for _, weight in items)
    roots = [math.sqrt(weight / lightest) for _, weight in items]

    def fits(sizes: list[float]) -> bool:
        wide = max(size * advance for size, advance in zip(sizes, advances, strict=True))
        area = sum(size * size * advance * line for size, advance in zip(sizes, advances, strict=True))
        return area <= FILL * width * height and wide <= 0.9 * width

    rungs = [2 ** (k / SIZE_STEPS) for k in range(SIZE_STEPS * 10, 0, -1)]  # 1024 down to 1
    for base in rungs:
        sizes = [base * root for root in roots]
        if smallest <= base and max(sizes) <= largest and fits(sizes):
            return [_snap(size, smallest, largest) for size in sizes]
    for step in rungs:
        sizes = [smallest + step * (root - 1) for root in roots]
        if max(sizes) <= largest and fits(sizes):
            return [_snap(size, smallest, largest) for size in sizes]
    return [smallest for _ in items]


def _snap(size: float, smallest: int, largest: int) -> int:
    """Round a size to the ladder 2**(k / SIZE_STEPS), so that close weights share one size."""
    return min(largest, max(smallest, round(2 ** (round(SIZE_STEPS * math.log2(size)) / SIZE_STEPS))))


def _home(text: str, weight: float, space: _Occupancy) -> tuple[float, float]:
    """The point a word would like to sit on: hashed from its key, the heaviest near the centre."""
    digest = _hash(_fold(text))
    u, v = (digest & 0xFFFF) / 0xFFFF - 0.5, ((digest >> 16) & 0xFFFF) / 0xFFFF - 0.5
    spread = 0.1 + 0.85 * (1 - weight)
    return space.height / 2 + v * space.height * spread, space.width / 2 + u * space.width * spread


def _mask(text: str, font_path: str, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The word's ink at output size, pooled to the working grid (any ink marks a cell)."""
    font = _font(font_path, size)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    cols, rows = -(-(right - left) // WORK_SCALE), -(-(bottom - top) // WORK_SCALE)
    image = Image.new("L", (cols * WORK_SCALE, rows * WORK_SCALE))
    ImageDraw.Draw(image).text((-left, -top), text, font=font, fill=255, anchor="ls")
    ink = np.asarray(image).reshape(rows, WORK_SCALE, cols, WORK_SCALE).max(axis=(1, 3)) > 0
    return ink, (left, top)


class _Occupancy:
    """Which working pixels hold ink, with an integral image for O(1) box queries."""

    def __init__(self, height: int, width: int):
        self.height, self.width = height, width
        self.ink = np.zeros((height, width), dtype=np.uint8)
        self.integral = np.zeros((height + 1, width + 1), dtype=np.int32)

    def nearest_free(self, shape: tuple[int, int], home: tuple[float, float]) -> tuple[int, int] | None:
        """Top-left of the empty box (word plus margins) whose centre is nearest to `home`."""
        rows, cols = shape[0] + 2 * MARGIN, shape[1] + 2 * MARGIN
        if rows > self.height or cols > self.width:
            return None
        # Look around home first (cheap); the whole canvas only if that window is full.
        for reach in (4, None):
            found = self._search(rows, cols, home, reach)
            if found is not None:
                return found
        return None

    def _search(self, rows: int, cols: int, home: tuple[float, float], reach: int | None):
        top, left, bottom, right = 0, 0, self.height - rows, self.width - cols
        if reach is not None:
            row0, col0 = round(home[0] - rows / 2), round(home[1] - cols / 2)
            dr, dc = reach * rows + 8, reach * cols + 16
            top, bottom = max(top, row0 - dr), min(bottom, row0 + dr)
            left, right = max(left, col0 - dc), min(right, col0 + dc)
            if top > bottom or left > right:
                return None
        s = self.integral
        inside = (s[top + rows:bottom + rows + 1, left + cols:right + cols + 1]
                  - s[top:bottom + 1, left + cols:right + cols + 1]
                  - s[top + rows:bottom + rows + 1, left:right + 1]
                  + s[top:bottom + 1, left:right + 1])
        free = inside == 0
        if not free.any():
            return None
        # Distances in canvas-relative units, so that the search spreads along the wide side.
        dy = ((np.arange(top, bottom + 1) + rows / 2 - home[0]) / self.height) ** 2
        dx = ((np.arange(left, right + 1) + cols / 2 - home[1]) / self.width) ** 2
        distance = np.where(free, dy[:, None] + dx[None, :], np.inf)
        row, col = np.unravel_index(int(np.argmin(distance)), distance.shape)
        return top + int(row), left + int(col)

    def fill(self, mask: np.ndarray, row: int, col: int) -> None:
        """Mark the word's ink as taken and update the integral image below and right of it."""
        self.ink[row:row + mask.shape[0], col:col + mask.shape[1]] |= mask
        s = self.integral
        block = np.cumsum(np.cumsum(self.ink[row:, col:], axis=0, dtype=np.int32), axis=1, dtype=np.int32)
        s[row + 1:, col + 1:] = block + s[row, col + 1:] + (s[row + 1:, col] - s[row, col])[:, None]


# Output ---------------------------------------------------------------------------------------


def _svg(words: tuple[PlacedWord, ...], width: int, height: int, theme: Theme, font_path: str,
         embed_font: bool) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        "<style>",
    ]
    if embed_font and words:
        woff = _woff(font_path, "".join(sorted({ch for word in words for ch in word.text})))
        parts.append(f"@font-face{{font-family:w;font-weight:bold;src:url(data:font/woff;base64,{woff})}}")
    parts.append('text{font-family:w,"DejaVu Sans",sans-serif;font-weight:bold}</style>')
    parts.append(f'<rect width="100%" height="100%" fill="{theme.background}"/>')
    for color in theme.colors:
        texts = [f'<text x="{w.x}" y="{w.y}" font-size="{w.size}">{escape(w.text)}</text>'
                 for w in words if w.color == color]
        if texts:
            parts.append(f'<g fill="{color}">' + "".join(texts) + "</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _image(words: tuple[PlacedWord, ...], width: int, height: int, theme: Theme, font_path: str,
           pixel_scale: int) -> Image.Image:
    image = Image.new("RGB", (width * pixel_scale, height * pixel_scale), theme.background)
    draw = ImageDraw.Draw(image)
    for word in words:
        font = _font(font_path, word.size * pixel_scale)
        draw.text((word.x * pixel_scale, word.y * pixel_scale), word.text, font=font,
                  fill=word.color, anchor="ls")
    return image


# Fonts ----------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _font_bytes(font_path: str) -> bytes:
    """The font as measured and embedded: every glyph, no hinting, no kerning (GPOS/kern).

    The browser and Pillow then place glyphs by the same advance widths; GSUB stays, for
    ligatures and for Arabic joining.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(font_path, recalcTimestamp=False)
    subsetter = subset.Subsetter(_subset_options(glyph_names=True))
    subsetter.populate(unicodes=font.getBestCmap().keys())
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


@lru_cache(maxsize=4)
def _cmap(font_path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(io.BytesIO(_font_bytes(font_path))).getBestCmap())


@lru_cache(maxsize=256)
def _font(font_path: str, size: int) -> ImageFont.FreeTypeFont:
    # Stock wordcloud calls ImageFont.truetype for every size it tries (word_cloud issue #643).
    return ImageFont.truetype(io.BytesIO(_font_bytes(font_path)), size)


@lru_cache(maxsize=64)
def _woff(font_path: str, characters: str) -> str:
    """Base64 WOFF subset holding only `characters` (cached: a growing cloud reuses it)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(_font_bytes(font_path)), recalcTimestamp=False)
    subsetter = subset.Subsetter(_subset_options(glyph_names=False))
    subsetter.populate(text=characters)
    subsetter.subset(font)
    font.flavor = "woff"
    buffer = io.BytesIO()
    font.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _subset_options(glyph_names: bool):
    from fontTools import subset

    options = subset.Options()
    options.hinting = False
    options.glyph_names = glyph_names
    options.name_IDs = [1, 2]
    options.notdef_outline = False
    options.ignore_missing_glyphs = True
    options.ignore_missing_unicodes = True
    options.drop_tables = [*options.drop_tables, "FFTM", "GPOS", "kern"]
    return options


# Helpers --------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _luminance(color: str) -> float:
    channels = [int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
