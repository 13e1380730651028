"""A ``Document`` drawn as an A4 PDF with ReportLab.

Every character is drawn in Noto Serif CJK SC, embedded as a subset holding only the
characters the document prints (``fonts.truetype_for``), so the letter looks the same in every
reader, also one without a Chinese font, and its text extracts (pypdf, pdftotext) through the
subset's ToUnicode map. Why ReportLab: docs/decisions/0007-pdf-library.md; why this font and
how it is embedded: docs/decisions/0015-embedded-cjk-font.md.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from backend.documents import fonts, rules

MARGIN = 25 * mm
# Drawn by ReportLab itself around the document's text: list numbers.
_ALWAYS_DRAWN = "0123456789."

# ReportLab keeps fonts in a process-wide registry by name. Each render registers the subset
# its document needs under a name of its own and takes it out again afterwards, one render
# at a time (a letter draws in a few milliseconds once its glyphs are converted).
_render_lock = threading.Lock()


@contextmanager
def _document_font(document: rules.Document) -> Iterator[str]:
    seal = rules.words(document.lang)["seal"]
    text = "".join([*document.text_lines(), seal, _ALWAYS_DRAWN])
    font = TTFont("DocumentSerif", io.BytesIO(fonts.truetype_for(text)))
    font.fontName = font.face.name
    with _render_lock:
        pdfmetrics.registerFont(font)
        try:
            yield font.fontName
        finally:
            pdfmetrics._fonts.pop(font.fontName, None)
            pdfmetrics._dynFaceNames.pop(font.face.name, None)


@lru_cache(maxsize=4)
def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, wordWrap="CJK",
                          spaceAfter=6, firstLineIndent=0)
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26,
                                alignment=TA_CENTER, spaceAfter=18),
        "body": body,
        "indented": ParagraphStyle("indented", parent=body, firstLineIndent=24),
        "cell": ParagraphStyle("cell", parent=body, spaceAfter=0),
        "label": ParagraphStyle("label", parent=body, spaceAfter=0, textColor=colors.black),
        "caption": ParagraphStyle("caption", parent=body, spaceBefore=6, spaceAfter=4),
        "office": ParagraphStyle("office", parent=body, alignment=TA_RIGHT, spaceAfter=0),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _block(block: rules.Block, width: float, font: str) -> list[Flowable]:
    styles = _styles(font)
    if isinstance(block, rules.Paragraph):
        return [_p(block.text, styles["indented"])]
    if isinstance(block, rules.Fields):
        rows = [[_p(label, styles["label"]), _p(value, styles["cell"])]
                for label, value in block.rows]
        table = Table(rows, colWidths=[width * 0.3, width * 0.7])
        table.setStyle(_grid(font))
        return [table, Spacer(1, 8)]
    if isinstance(block, rules.Items):
        return [ListFlowable([ListItem(_p(item, styles["body"]), value=index)
                              for index, item in enumerate(block.items, start=1)],
                             bulletType="1", bulletFontName=font,
                             bulletFormat="%s.", leftIndent=24)]
    if isinstance(block, rules.Table):
        rows = [[_p(header, styles["label"]) for header in block.headers]]
        rows += [[_p(cell, styles["cell"]) for cell in row] for row in block.rows]
        table = Table(rows, colWidths=[width / len(block.headers)] * len(block.headers),
                      repeatRows=1)
        table.setStyle(_grid(font, header=True))
        caption = [_p(block.caption, styles["caption"])] if block.caption else []
        return [*caption, table, Spacer(1, 8)]
    rows = [[_p(label, styles["label"]), ""] for label in block.labels]
    table = Table(rows, colWidths=[width * 0.4, width * 0.6], rowHeights=[36] * len(rows))
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font),
                               ("LINEBELOW", (1, 0), (1, -1), 0.7, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    return [Spacer(1, 12), table]


def _grid(font: str, header: bool = False) -> TableStyle:
    # FONTNAME: a table sets its cells' font even when they hold paragraphs; without it
    # ReportLab names Helvetica, a font no PDF of ours embeds.
    commands: list[tuple] = [("FONTNAME", (0, 0), (-1, -1), font),
                             ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 6)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    return TableStyle(commands)


def render(document: rules.Document) -> bytes:
    with _document_font(document) as font:
        return _draw(document, font)


def _draw(document: rules.Document, font: str) -> bytes:
    styles = _styles(font)
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN, title=document.title, lang=document.lang,
        author=document.office, creator="Doorstep", subject=document.kind,
        initialFontName=font)
    width = A4[0] - 2 * MARGIN
    story: list[Flowable] = [_p(document.title, styles["title"])]
    if document.addressee:
        story.append(_p(document.addressee, styles["body"]))
    for block in document.blocks:
        story.extend(_block(block, width, font))
    seal = rules.words(document.lang)["seal"]
    signed = [Spacer(1, 18), _p(f"{document.office}{seal}", styles["office"])]
    if document.dated:
        signed.append(_p(document.dated, styles["office"]))
    story.append(KeepTogether(signed))
    for block in document.blocks_after_office:
        story.extend(_block(block, width, font))
    template.build(story)
    return buffer.getvalue()
