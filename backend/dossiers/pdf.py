"""The household's file drawn as an A4 PDF with ReportLab (ADR 0007), every character in
Noto Serif CJK SC embedded as a subset of the characters the file prints (ADR 0015,
``documents.fonts.truetype_for``), so it reads the same everywhere and its text extracts.

A cover with the case number and a table of contents with page numbers (written on the
cover when the one layout pass has placed every section), sections on new pages, and on
every page a footer naming who generated the file and when, with "page n of N".
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.graphics.shapes import Circle, Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from backend.documents import fonts
from backend.dossiers import layout, rules

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
_render_lock = threading.Lock()


@contextmanager
def _dossier_font(dossier: layout.Dossier) -> Iterator[str]:
    text = "".join(dossier.text_pieces()) + "0123456789/.-·：:()（）"
    font = TTFont("DossierSerif", io.BytesIO(fonts.truetype_for(text)))
    font.fontName = font.face.name
    with _render_lock:
        pdfmetrics.registerFont(font)
        # Binary streams: ASCII85 (ReportLab's default, pure Python without rl_accel) would
        # spend seconds encoding the photos and make the file a quarter larger.
        was_a85, rl_config.useA85 = rl_config.useA85, 0
        try:
            yield font.fontName
        finally:
            rl_config.useA85 = was_a85
            pdfmetrics._fonts.pop(font.fontName, None)
            pdfmetrics._dynFaceNames.pop(font.face.name, None)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=10),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=13),
        "title": ParagraphStyle("title", parent=body, fontSize=22, leading=32,
                                alignment=TA_CENTER, spaceAfter=24),
        "cover": ParagraphStyle("cover", parent=body, fontSize=14, leading=24,
                                alignment=TA_CENTER),
        "h0": ParagraphStyle("h0", parent=body, fontSize=16, leading=24, spaceAfter=10),
        "h1": ParagraphStyle("h1", parent=body, fontSize=13, leading=20, spaceBefore=10,
                             spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=body, fontSize=11, leading=17, spaceBefore=6,
                             spaceAfter=4, textColor=colors.HexColor("#333333")),
        "toc": ParagraphStyle("toc", parent=body, fontSize=11, leading=20),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _grid(font: str, header: bool) -> TableStyle:
    commands: list[tuple] = [("FONTNAME", (0, 0), (-1, -1), font),
                             ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                             ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    return TableStyle(commands)


def _plot(block: layout.Plot, font: str, w: dict[str, str]) -> Drawing:
    size = 80 * mm
    drawing = Drawing(size, size)
    centre = size / 2
    radius = rules.plot_radius_m(block.points, block.rings_m)
    scale = (size / 2 - 6) / radius
    drawing.add(Line(0, centre, size, centre, strokeColor=colors.lightgrey))
    drawing.add(Line(centre, 0, centre, size, strokeColor=colors.lightgrey))
    if block.has_home:
        for ring in block.rings_m:
            drawing.add(Circle(centre, centre, ring * scale, fillColor=None,
                               strokeColor=colors.grey, strokeDashArray=[2, 2]))
            drawing.add(String(centre + ring * scale * math.cos(math.pi / 4) + 2,
                               centre + ring * scale * math.sin(math.pi / 4),
                               f"{ring:.0f}{w['metres']}", fontName=font, fontSize=6))
        drawing.add(Circle(centre, centre, 4, fillColor=colors.black, strokeColor=None))
        drawing.add(String(centre + 5, centre - 9, w["home"], fontName=font, fontSize=7))
    for point in block.points:
        x, y = centre + point.east_m * scale, centre + point.north_m * scale
        drawing.add(Circle(x, y, 2.5, fillColor=colors.HexColor("#b00020"), strokeColor=None))
        drawing.add(String(x + 3, y + 3, point.label, fontName=font, fontSize=6))
    return drawing


def _photos(block: layout.Photos, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    per_row = 2
    cell = WIDTH / per_row - 4
    cells: list[Any] = []
    for jpeg, caption in block.items:
        image = Image(io.BytesIO(jpeg))
        ratio = image.imageHeight / image.imageWidth
        image.drawWidth, image.drawHeight = cell, cell * ratio
        cells.append([image, _p(caption, styles["small"])])
    rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
    rows[-1] += [""] * (per_row - len(rows[-1]))
    table = Table(rows, colWidths=[WIDTH / per_row] * per_row)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [table, Spacer(1, 6)]


def _block(block: layout.Block, font: str, styles: dict[str, ParagraphStyle],
           w: dict[str, str]) -> list[Flowable]:
    if isinstance(block, layout.Heading):
        return [_p(block.text, styles["h1" if block.level == 1 else "h2"])]
    if isinstance(block, layout.Para):
        return [_p(block.text, styles["body"])]
    if isinstance(block, layout.Fields):
        rows = [[_p(label, styles["cell"]), _p(value, styles["cell"])]
                for label, value in block.rows]
        table = Table(rows, colWidths=[WIDTH * 0.3, WIDTH * 0.7])
        table.setStyle(_grid(font, header=False))
        return [table, Spacer(1, 6)]
    if isinstance(block, layout.Grid):
        style = styles["small" if block.small else "cell"]
        rows = [[_p(h, style) for h in block.headers]]
        rows += [[_p(cell, style) for cell in row] for row in block.rows]
        table = Table(rows, colWidths=[WIDTH / len(block.headers)] * len(block.headers),
                      repeatRows=1)
        table.setStyle(_grid(font, header=True))
        return [table, Spacer(1, 6)]
    if isinstance(block, layout.Photos):
        return _photos(block, styles)
    return [_plot(block, font, w), Spacer(1, 4)]


class _Template(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, dossier: layout.Dossier, font: str) -> None:
        super().__init__(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                         topMargin=MARGIN, bottomMargin=MARGIN + 6 * mm, title=dossier.title,
                         author=dossier.generated_by, creator="Doorstep",
                         subject=dossier.case_no, lang=dossier.lang, initialFontName=font)
        frame = Frame(MARGIN, MARGIN + 6 * mm, WIDTH, A4[1] - 2 * MARGIN - 6 * mm, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        self.contents: list[tuple[str, int]] = []

    def afterFlowable(self, flowable: Flowable) -> None:
        if getattr(flowable, "is_section_title", False):
            self.contents.append((flowable.getPlainText(), self.page))


def _numbered_canvas(dossier: layout.Dossier, font: str,
                     contents: list[tuple[str, int]], toc_top: list[float]) -> type:
    class NumberedCanvas(pdf_canvas.Canvas):
        """Holds each page until the end, then stamps the footer with "page n of N" and
        writes the table of contents on the cover: one layout pass, not one per TOC
        change (each section starts on a page of its own, so the cover's length is fixed)."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                if self._pageNumber == 1:
                    self._table_of_contents()
                self.setFont(font, 8)
                self.setFillColor(colors.HexColor("#444444"))
                self.drawCentredString(A4[0] / 2, MARGIN - 2 * mm,
                                       dossier.footer(self._pageNumber, total))
                super().showPage()
            super().save()

        def _table_of_contents(self) -> None:
            self.setFont(font, 11)
            self.setFillColor(colors.black)
            y = toc_top[0] if toc_top else A4[1] / 2
            for index, (title, page) in enumerate(contents, start=1):
                y -= TOC_LEADING
                self.drawString(MARGIN + 8 * mm, y, f"{index}. {title}")
                self.drawRightString(A4[0] - MARGIN - 8 * mm, y, str(page))
                self.setDash(1, 2)
                self.setLineWidth(0.3)
                text_end = MARGIN + 8 * mm + self.stringWidth(f"{index}. {title}", font, 11)
                self.line(text_end + 4, y + 2, A4[0] - MARGIN - 16 * mm, y + 2)
                self.setDash()

    return NumberedCanvas


TOC_LEADING = 20


class _Mark(Flowable):
    """Remembers where on the cover the table of contents starts."""

    def __init__(self, where: list[float]) -> None:
        super().__init__()
        self.where = where

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.where[:] = [self.canv.absolutePosition(0, 0)[1]]


def render(dossier: layout.Dossier) -> tuple[bytes, int]:
    """The PDF's bytes and its page count."""
    with _dossier_font(dossier) as font:
        styles = _styles(font)
        w = layout.words(dossier.lang)
        toc_top: list[float] = []
        story: list[Flowable] = [
            Spacer(1, 40 * mm), _p(dossier.title, styles["title"]),
            _p(f"{w['cover_case']}：{dossier.case_no}", styles["cover"]),
            _p(f"{w['cover_household']}：{dossier.household_name}", styles["cover"]),
            _p(f"{w['cover_generated']}：{dossier.generated_by} · "
               f"{rules.beijing(dossier.generated_at)[:16]}", styles["cover"]),
            Spacer(1, 12 * mm), _p(w["contents"], styles["h0"]), _Mark(toc_top)]
        for section in dossier.sections:
            story.append(PageBreak())
            heading = _p(section.title, styles["h0"])
            heading.is_section_title = True  # type: ignore[attr-defined]
            story.append(heading)
            for block in section.blocks:
                story.extend(_block(block, font, styles, w))
        buffer = io.BytesIO()
        template = _Template(buffer, dossier, font)
        template.build(story, canvasmaker=_numbered_canvas(dossier, font, template.contents,
                                                           toc_top))
        return buffer.getvalue(), template.page
