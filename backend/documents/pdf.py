"""A ``Document`` drawn as an A4 PDF with ReportLab.

Chinese text uses ReportLab's built-in CID font STSong-Light (Adobe-GB1) with the predefined
UniGB-UCS2-H CMap, whose codes are the Unicode code points themselves, so the text extracts
(pypdf, pdftotext) and is searchable. The font is named, not embedded: the glyphs come from
the reader's own CJK fonts, which keeps a letter at a few kilobytes. Why this over WeasyPrint or
an embedded TTF: docs/decisions/0007-pdf-library.md.
"""

from __future__ import annotations

import io
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
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

from backend.documents import rules

FONT = "STSong-Light"
MARGIN = 25 * mm


@cache
def _register_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = _register_font()
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


def _p(text: str, style: str) -> Paragraph:
    return Paragraph(escape(text), _styles()[style])


def _block(block: rules.Block, width: float) -> list[Flowable]:
    if isinstance(block, rules.Paragraph):
        return [_p(block.text, "indented")]
    if isinstance(block, rules.Fields):
        rows = [[_p(label, "label"), _p(value, "cell")] for label, value in block.rows]
        table = Table(rows, colWidths=[width * 0.3, width * 0.7])
        table.setStyle(_grid())
        return [table, Spacer(1, 8)]
    if isinstance(block, rules.Items):
        return [ListFlowable([ListItem(_p(item, "body"), value=index)
                              for index, item in enumerate(block.items, start=1)],
                             bulletType="1", bulletFontName=_register_font(),
                             bulletFormat="%s.", leftIndent=24)]
    if isinstance(block, rules.Table):
        rows = [[_p(header, "label") for header in block.headers]]
        rows += [[_p(cell, "cell") for cell in row] for row in block.rows]
        table = Table(rows, colWidths=[width / len(block.headers)] * len(block.headers),
                      repeatRows=1)
        table.setStyle(_grid(header=True))
        caption = [_p(block.caption, "caption")] if block.caption else []
        return [*caption, table, Spacer(1, 8)]
    rows = [[_p(label, "label"), ""] for label in block.labels]
    table = Table(rows, colWidths=[width * 0.4, width * 0.6], rowHeights=[36] * len(rows))
    table.setStyle(TableStyle([("LINEBELOW", (1, 0), (1, -1), 0.7, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    return [Spacer(1, 12), table]


def _grid(header: bool = False) -> TableStyle:
    commands: list[tuple] = [("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 6)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    return TableStyle(commands)


def render(document: rules.Document) -> bytes:
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN, title=document.title, lang=document.lang,
        author=document.office, creator="Doorstep", subject=document.kind)
    width = A4[0] - 2 * MARGIN
    story: list[Flowable] = [_p(document.title, "title")]
    if document.addressee:
        story.append(_p(document.addressee, "body"))
    for block in document.blocks:
        story.extend(_block(block, width))
    seal = rules.words(document.lang)["seal"]
    signed = [Spacer(1, 18), _p(f"{document.office}{seal}", "office")]
    if document.dated:
        signed.append(_p(document.dated, "office"))
    story.append(KeepTogether(signed))
    for block in document.blocks_after_office:
        story.extend(_block(block, width))
    template.build(story)
    return buffer.getvalue()
