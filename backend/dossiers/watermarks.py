"""Watermarked copies of visit photos for print and export (全程留痕, 003).

The original is never touched. A copy is drawn with Pillow: the photo (at most
``MAX_EDGE`` pixels on its long side) with a dark band at the foot holding
``rules.watermark_lines``, in Noto Serif CJK SC (the face every PDF embeds, ADR 0015). The copy
is kept in the photo store under ``rules.watermark_cache_key``: the original's hash, the
watermark's version and a digest of its words, so a second request reads it back.

Who may see a copy: whoever may see the photo through a visit of a case in their scope; the
copy needs that visit for its case number and team, so the photo's uploader alone (who may
see the plain photo) gets the same 404 as anyone else.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import cache, lru_cache

from PIL import Image, ImageDraw, ImageFont

from backend import clock
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.documents import fonts
from backend.dossiers import rules
from backend.errors import ProblemError
from backend.evidence import service as photos
from backend.households import service as households
from backend.reviews import rules as review_rules
from backend.visits import queries as visits

MAX_EDGE = 2048
JPEG_QUALITY = 85
# The dossier prints two photos a row (about 85 mm each): 800 px is about 240 dpi.
PRINT_EDGE = 800
PRINT_QUALITY = 72
NOT_FOUND = rules.PHOTO_NOT_FOUND
_font_lock = threading.Lock()


@cache
def _sc_face_index(path: str) -> int:
    """Which face of the collection is the simplified-Chinese one (family names "SC")."""
    if not path.endswith((".ttc", ".otc")):
        return 0
    for index in range(16):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ""
        except OSError:
            break
        if " SC" in family:
            return index
    return 0


@lru_cache(maxsize=16)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size, index=_sc_face_index(path))
    except OSError:
        raise fonts.FontMissing(f"{path} is missing: install Debian's fonts-noto-cjk") from None


def draw(original: bytes, lines: list[str], max_edge: int = MAX_EDGE,
         quality: int = JPEG_QUALITY) -> bytes:
    """The photo, at most ``max_edge`` pixels on its long side, with the watermark band drawn
    at its foot, as a JPEG."""
    with Image.open(io.BytesIO(original)) as opened:
        scale = min(1.0, max_edge / max(opened.size))
        target = (max(1, round(opened.width * scale)), max(1, round(opened.height * scale)))
        opened.draft("RGB", target)  # JPEG: decode at 1/2, 1/4 or 1/8 scale when that fits
        # The stored original has its orientation applied and its metadata removed (ingest).
        picture = opened.convert("RGB")
    picture.thumbnail((max_edge, max_edge))
    width, height = picture.size
    path = fonts.font_path()
    size = rules.font_size_for(width)
    with _font_lock:  # FreeType faces are not safe to share across threads
        font = _font(path, size)
        while size > 10 and max(font.getlength(line) for line in lines) > width * 0.95:
            size -= 1
            font = _font(path, size)
        pad = max(4, size // 2)
        line_height = int(size * 1.35)
        band = pad * 2 + line_height * len(lines)
        overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
        pen = ImageDraw.Draw(overlay)
        pen.rectangle((0, max(0, height - band), width, height), fill=(0, 0, 0, 160))
        for index, line in enumerate(lines):
            pen.text((pad, height - band + pad + index * line_height), line, font=font,
                     fill=(255, 255, 255, 255))
    marked = Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    marked.save(out, "JPEG", quality=quality)
    return out.getvalue()


@dataclass(frozen=True)
class VisitContext:
    """What the server knows about the visit a photo belongs to."""

    case_no: str | None
    investigators: tuple[str, ...]
    home: tuple[float, float] | None


def visit_context(case_id: str, household_id: str) -> VisitContext:
    summary = next(iter(cases.summaries(case_ids={case_id})), None)
    team = cases.teams({case_id}).get(case_id, frozenset())
    names = auth.display_names(team)
    home_view = households.homes([household_id]).get(household_id)
    return VisitContext(summary.case_no if summary is not None else None,
                        tuple(sorted(names.get(u, u) for u in team)),
                        home_view.home if home_view is not None else None)


def facts_of(sha256: str, context: VisitContext) -> rules.WatermarkFacts | None:
    """The verified facts of a stored photo in the visit's context (None: not stored)."""
    photo = photos.get(sha256)
    if photo is None:
        return None
    taken = review_rules.exif_instant(photo.exif_taken_at_local, photo.exif_taken_at_offset,
                                      clock.SHANGHAI)
    fix = (photo.exif_lat, photo.exif_lon) if photo.exif_lat is not None \
        and photo.exif_lon is not None else None
    return rules.WatermarkFacts(
        sha256=photo.sha256, received_at=photo.received_at, camera_taken_at=taken,
        camera_taken_at_local=photo.exif_taken_at_local if taken is None else None,
        lat=fix[0] if fix else None, lon=fix[1] if fix else None,
        accuracy_m=photo.exif_accuracy_m if fix else None,
        distance_from_home_m=review_rules.distance_m(fix, context.home),
        case_no=context.case_no, investigators=context.investigators)


def visible_facts(caller: Caller, sha256: str) -> rules.WatermarkFacts:
    """The facts of a photo in a visit the caller may see; 404 otherwise."""
    found = visits.visible_visit_of_photo(caller, sha256)
    facts = facts_of(sha256, visit_context(found[1], found[2])) if found else None
    if facts is None:
        raise ProblemError("photo-not-found", NOT_FOUND)
    return facts


def watermarked(facts: rules.WatermarkFacts, lang: str) -> bytes:
    """The watermarked copy, drawn once per original, version and words."""
    lines = rules.watermark_lines(facts, lang)
    key = rules.watermark_cache_key(facts.sha256, lines)
    cached = photos.read_derived(key)
    if cached is not None:
        return cached
    copy = draw(photos.read_blob(facts.sha256, "orig"), lines)
    photos.store_derived(key, copy, "image/jpeg")
    return copy


def print_thumbnail(facts: rules.WatermarkFacts, lang: str) -> bytes:
    """The watermarked copy at the dossier's print size, drawn from the original at that
    size (so the words stay legible on paper) and cached like the full copy."""
    lines = rules.watermark_lines(facts, lang)
    key = rules.watermark_cache_key(facts.sha256, lines) + f"-p{PRINT_EDGE}"
    cached = photos.read_derived(key)
    if cached is not None:
        return cached
    copy = draw(photos.read_blob(facts.sha256, "orig"), lines, PRINT_EDGE, PRINT_QUALITY)
    photos.store_derived(key, copy, "image/jpeg")
    return copy
