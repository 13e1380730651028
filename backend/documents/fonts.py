"""The CJK face every PDF embeds: Noto Serif CJK SC, cut down to the characters it prints.

Debian's ``fonts-noto-cjk`` ships Noto Serif CJK as an OpenType collection with CFF (cubic)
outlines, which ReportLab cannot embed. For each document this module builds a small
TrueType font holding only the characters the document prints: each glyph is drawn once from
the collection, its cubic curves turned into quadratic ones (fontTools' cu2qu, within 1 unit
of 1,000 per em), and kept for the life of the process, so a letter after the first costs a
few milliseconds. ReportLab then embeds that font as a subset (``FontFile2``) with a
``ToUnicode`` map, so the text still extracts. Why this font and this route:
docs/decisions/0015-embedded-cjk-font.md.

The font file is a setting (``DOCUMENT_FONT_PATH`` in the environment); the face within the
collection is the one whose family names "SC" (simplified Chinese forms).
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont
from fontTools.ttLib.tables._g_l_y_f import Glyph

DEFAULT_PATH = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
FAMILY = "Noto Serif CJK SC"
# Curves within this many font units (of 1,000 per em) of the original: invisible in print.
MAX_ERROR = 1.0

_lock = threading.Lock()


class FontMissing(RuntimeError):
    """The CJK font file is not installed (Debian: ``apt-get install fonts-noto-cjk``)."""


@dataclass(frozen=True)
class _Source:
    font: TTFont
    cmap: dict[int, str]
    glyphs: Any  # the font's glyph set (fontTools' _TTGlyphSet)
    advances: dict[str, tuple[int, int]]


def font_path() -> str:
    return os.environ.get("DOCUMENT_FONT_PATH") or DEFAULT_PATH


@cache
def _source(path: str) -> _Source:
    if not os.path.exists(path):
        raise FontMissing(f"{path} is missing: install Debian's fonts-noto-cjk "
                          "(or set DOCUMENT_FONT_PATH to a Noto Serif CJK collection)")
    if path.endswith((".ttc", ".otc")):
        collection = TTCollection(path, lazy=True)
        fonts = collection.fonts
        font = next((f for f in fonts if " SC" in (f["name"].getDebugName(1) or "")), fonts[0])
    else:
        font = TTFont(path, lazy=True)
    return _Source(font=font, cmap=font.getBestCmap(), glyphs=font.getGlyphSet(),
                   advances=font["hmtx"].metrics)


@cache
def _quadratic(path: str, name: str) -> Glyph:
    """One glyph of the source with quadratic outlines (cached for the process)."""
    source = _source(path)
    pen = TTGlyphPen(None)
    source.glyphs[name].draw(Cu2QuPen(pen, MAX_ERROR, reverse_direction=True))
    return pen.glyph()


def truetype_for(text: str, path: str | None = None) -> bytes:
    """A TrueType font holding every character of
    ``text`` the source has (others show as the empty box .notdef), named by its content."""
    path = path or font_path()
    with _lock:
        source = _source(path)
        codepoints = sorted({ord(ch) for ch in text if ord(ch) >= 32} & source.cmap.keys())
        names = [".notdef"] + sorted({source.cmap[cp] for cp in codepoints} - {".notdef"})
        glyphs = {name: copy.deepcopy(_quadratic(path, name)) for name in names}
        metrics = {}
        for name, glyph in glyphs.items():
            glyph.recalcBounds(None)
            metrics[name] = (source.advances[name][0], getattr(glyph, "xMin", 0))
        head, hhea, os2 = source.font["head"], source.font["hhea"], source.font["OS/2"]
    digest = hashlib.sha256("".join(map(chr, codepoints)).encode()).hexdigest()[:10]
    ps_name = f"NotoSerifCJKsc-{digest}"
    builder = FontBuilder(head.unitsPerEm, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({cp: source.cmap[cp] for cp in codepoints})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
    builder.setupNameTable({"familyName": FAMILY, "styleName": "Regular",
                            "psName": ps_name})
    builder.setupOS2(sTypoAscender=os2.sTypoAscender, sTypoDescender=os2.sTypoDescender,
                     sTypoLineGap=os2.sTypoLineGap, usWinAscent=os2.usWinAscent,
                     usWinDescent=os2.usWinDescent, fsType=os2.fsType,
                     achVendID=os2.achVendID)
    builder.setupPost()
    buffer = io.BytesIO()
    builder.save(buffer)
    return buffer.getvalue()
