"""Fonts of word clouds: DejaVu Sans Bold first, then the system's Noto fonts for the rest.

DejaVu Sans Bold (shipped with matplotlib) draws Latin, Greek, Cyrillic, Arabic and Hebrew. A
character it lacks (CJK, Devanagari, Thai, emoji...) is drawn with the first font of the
fallback chain that has it: Debian's Noto fonts (`fonts-noto-core`, `fonts-noto-cjk`,
`fonts-noto-color-emoji`), found under the usual font folders, looked at only when needed.
Text is split into grapheme clusters (`regex` \\X), so an emoji made of several code points
("👩‍💻", "🇫🇷") is drawn whole by one font; an emoji cluster prefers the emoji font.

Each font is measured and embedded from the same bytes: DejaVu without hinting, GPOS and kern
(browser and Pillow then place glyphs by the same advances); the fallbacks keep their layout
tables (marks of Devanagari and Thai need them; Pillow shapes with HarfBuzz through raqm, like
the browser). Noto Color Emoji is a bitmap font (CBDT): Pillow draws it at its strike size and
scales it. What no font has is reported by `runs` (`missing`), never silently dropped.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import regex
from PIL import ImageFont

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
# The fallbacks, in order: (file name, index in a collection). Scripts first, then the rest of
# Noto Sans (any NotoSans*-Bold.ttf found), the symbols, the emoji last.
FALLBACKS = (
    ("NotoSansDevanagari-Bold.ttf", 0), ("NotoSansThai-Bold.ttf", 0), ("NotoSansCJK-Bold.ttc", 0),
    ("NotoSansBengali-Bold.ttf", 0), ("NotoSansTamil-Bold.ttf", 0), ("NotoSansArmenian-Bold.ttf", 0),
    ("NotoSansGeorgian-Bold.ttf", 0), ("NotoSansEthiopic-Bold.ttf", 0), ("NotoSansKhmer-Bold.ttf", 0),
    ("NotoSansLao-Bold.ttf", 0), ("NotoSansMyanmar-Bold.ttf", 0), ("NotoSansSinhala-Bold.ttf", 0),
    ("NotoSansGujarati-Bold.ttf", 0), ("NotoSansGurmukhi-Bold.ttf", 0), ("NotoSansKannada-Bold.ttf", 0),
    ("NotoSansMalayalam-Bold.ttf", 0), ("NotoSansTelugu-Bold.ttf", 0), ("NotoSansOriya-Bold.ttf", 0),
    ("NotoSans-Bold.ttf", 0), ("NotoSansSymbols-Bold.ttf", 0), ("NotoSansSymbols2-Regular.ttf", 0),
    ("NotoSansMath-Regular.ttf", 0),
)
EMOJI_FONT = "NotoColorEmoji.ttf"
_CLUSTER = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Emoji_Presentation}|\p{Regional_Indicator}|\ufe0f|\u200d")
# Code points that bind a cluster and need no glyph of their own (joiners, selectors, tags).
_BINDING = regex.compile(r"[\u200c\u200d\ufe0e\ufe0f\U000e0020-\U000e007f]")


@dataclass(frozen=True)
class Face:
    """One font of the chain: file, index in a collection, CSS family name, bitmap strike."""

    path: str
    index: int = 0
    family: str = "w0"
    strike: int | None = None  # a bitmap-only font (Noto Color Emoji) is drawn at this size

    @property
    def primary(self) -> bool:
        """The first font, measured without kerning (see `font_bytes`)."""
        return self.family == "w0"


@dataclass(frozen=True)
class Run:
    """Consecutive clusters of a text drawn with one face."""

    text: str
    face: Face


def default_font_path() -> Path:
    """DejaVu Sans Bold as shipped by matplotlib (found without importing matplotlib)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0], "mpl-data", "fonts", "ttf", "DejaVuSans-Bold.ttf")
        if path.exists():
            return path
    import wordcloud

    return Path(wordcloud.__file__).with_name("DroidSansMono.ttf")


@cache
def _installed() -> dict[str, str]:
    """Font files under the usual folders, by file name (the first found wins)."""
    found: dict[str, str] = {}
    for folder in FONT_DIRS:
        root = Path(os.path.expanduser(folder))
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in (".ttf", ".otf", ".ttc"):
                found.setdefault(path.name, str(path))
    return found


@cache
def chain(primary: str) -> tuple[Face, ...]:
    """The primary font then the fallbacks installed on this machine."""
    faces = [Face(primary)]
    installed = _installed()
    names = [name for name, _ in FALLBACKS]
    extra = sorted(name for name in installed if name.startswith("NotoSans") and name.endswith("-Bold.ttf")
                   and name not in names and "Mono" not in name and "Display" not in name
                   and "UI" not in name)
    for name, index in [*FALLBACKS, *((name, 0) for name in extra)]:
        if name in installed:
            faces.append(Face(installed[name], index, f"w{len(faces)}"))
    if EMOJI_FONT in installed:
        faces.append(Face(installed[EMOJI_FONT], 0, f"w{len(faces)}", strike=109))
    return tuple(faces)


@lru_cache(maxsize=16384)
def runs(text: str, primary: str) -> tuple[tuple[Run, ...], str]:
    """`text` cut into runs of one face each, and what no face can draw ("" when all can)."""
    faces = chain(primary)
    out: list[list] = []
    missing = []
    for cluster in _CLUSTER.findall(text):
        # Control and format characters draw nothing (joiners and tags inside an emoji stay).
        cluster = "".join(ch for ch in cluster if _BINDING.match(ch) or unicodedata.category(ch)[0] != "C")
        if not cluster:
            continue
        face = _face_for(cluster, faces)
        if face is None:
            if not cluster.isspace():
                missing.append(cluster)
            continue
        if cluster.isspace() and out:
            face = out[-1][1]  # a space belongs to the run it follows
        if out and out[-1][1] == face:
            out[-1][0] += cluster
        else:
            out.append([cluster, face])
    # Spaces at either end, or doubled where a character was left out, are not drawn.
    joined = [[text, face] for text, face in out]
    if joined:
        joined[0][0] = joined[0][0].lstrip()
        joined[-1][0] = joined[-1][0].rstrip()
    result = tuple(Run(regex.sub(r"\s+", " ", text), face) for text, face in joined if text)
    return result, "".join(missing)


def _face_for(cluster: str, faces: tuple[Face, ...]) -> Face | None:
    needed = [ord(ch) for ch in cluster if not _BINDING.match(ch)]
    if cluster.isspace():
        return faces[0]
    if not needed:
        return None
    order = faces
    if _EMOJI.search(cluster) and faces[-1].strike:
        order = (faces[-1], *faces[:-1])
    for face in order:
        cmap = coverage(face)
        if all(code in cmap for code in needed):
            return face
    return None


def coverage(face: Face) -> frozenset[int]:
    """The code points `face` can draw."""
    return _cmap(face.path, face.index, face.primary)


@lru_cache(maxsize=64)
def _cmap(path: str, index: int, primary: bool) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    if primary:
        return frozenset(TTFont(io.BytesIO(font_bytes(path))).getBestCmap())
    try:
        font = TTFont(path, fontNumber=index, lazy=True)
        return frozenset(font.getBestCmap() or ())
    except Exception:  # noqa: BLE001 - an unreadable font file is a font we do without
        return frozenset()


@lru_cache(maxsize=4)
def font_bytes(path: str) -> bytes:
    """The primary font as measured and embedded: every glyph, no hinting, no GPOS or kern.

    The browser and Pillow then place its glyphs by the same advance widths (GSUB stays, for
    ligatures and Arabic joining). Fallback fonts are read from their files as they are.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, recalcTimestamp=False)
    subsetter = subset.Subsetter(_subset_options(glyph_names=True))
    subsetter.populate(unicodes=font.getBestCmap().keys())
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


@lru_cache(maxsize=512)
def pil_font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    """The face at `size` px (at its strike size for a bitmap font: scale by `scale(face, size)`).

    One object per size: stock wordcloud reloads the font file for every size it tries
    (word_cloud issue #643).
    """
    if face.strike:
        size = face.strike
    if face.primary:
        return ImageFont.truetype(io.BytesIO(font_bytes(face.path)), size)
    return ImageFont.truetype(face.path, size, index=face.index, layout_engine=ImageFont.Layout.RAQM)


def scale(face: Face, size: int) -> float:
    """How much bigger than `pil_font(face, size)` the face is drawn at `size`."""
    return size / face.strike if face.strike else 1.0


@lru_cache(maxsize=16)
def _hb_face(face: Face):
    import uharfbuzz as hb

    if face.primary:
        return hb.Face(font_bytes(face.path))
    return hb.Face(hb.Blob.from_file_path(face.path), face.index)


@lru_cache(maxsize=256)
def woff(face: Face, characters: str) -> str:
    """Base64 WOFF subset of `face` holding only `characters` (cached: a growing cloud reuses it).

    Subset by HarfBuzz (`uharfbuzz`, about a millisecond: fontTools' subsetter took 100-500 ms,
    paid on every render that brings a new character), wrapped as WOFF by fontTools.
    """
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    request = hb.SubsetInput()
    for ch in characters:
        request.unicode_set.add(ord(ch))
    request.flags |= hb.SubsetFlags.NO_HINTING
    subset = hb.subset(_hb_face(face), request)
    font = TTFont(io.BytesIO(subset.blob.data), lazy=True, recalcTimestamp=False)
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
