"""Writers of the review exports: CSV text in chunks, and an XLSX file written row by row
(XlsxWriter's constant_memory mode) into a temporary file that is then streamed out.

Neither holds more than a batch of visits: the rows come from reviews.service.export_visits,
which reads the database in keyset batches, already masked for the caller.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo

import xlsxwriter

from backend.reviews import export_rules
from backend.reviews.export_rules import MEMBER_COLUMNS, VISIT_COLUMNS, Cell, ExportVisit

CHUNK_CHARS = 64 * 1024


def csv_chunks(visits: Iterable[ExportVisit], sheet: str, language: str, now: datetime,
               zone: tzinfo) -> Iterator[str]:
    """UTF-8 CSV for Excel: a byte-order mark first, CRLF lines, formula-looking text
    defused (export_rules.csv_cell)."""
    columns = VISIT_COLUMNS if sheet == "visits" else MEMBER_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([export_rules.csv_cell(h) for h in export_rules.headers(columns, language)])
    for visit in visits:
        rows = ([export_rules.visit_cells(visit, now, zone)] if sheet == "visits"
                else export_rules.member_cells(visit))
        for row in rows:
            writer.writerow([export_rules.csv_cell(cell) for cell in row])
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _write_row(sheet, row: int, cells: list[Cell]) -> None:
    for column, value in enumerate(cells):
        if value is None:
            continue
        if isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value)
        else:  # text stays text: never a formula, a link or a number
            sheet.write_string(row, column, value)


def write_xlsx(visits: Iterable[ExportVisit], language: str, now: datetime,
               zone: tzinfo) -> str:
    """Write the workbook (a visits sheet and a members sheet) to a temporary file, row by
    row; return its path (the caller streams it and removes it: file_chunks)."""
    handle, path = tempfile.mkstemp(prefix="doorstep-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(path, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "tmpdir": os.path.dirname(path)})
        names = export_rules.SHEET_NAMES[language]
        visit_sheet = workbook.add_worksheet(names[0])
        member_sheet = workbook.add_worksheet(names[1])
        bold = workbook.add_format({"bold": True})
        for sheet, columns in ((visit_sheet, VISIT_COLUMNS), (member_sheet, MEMBER_COLUMNS)):
            sheet.write_row(0, 0, export_rules.headers(columns, language), bold)
            sheet.freeze_panes(1, 0)
        visit_row = member_row = 1
        for visit in visits:
            _write_row(visit_sheet, visit_row, export_rules.visit_cells(visit, now, zone))
            visit_row += 1
            for cells in export_rules.member_cells(visit):
                _write_row(member_sheet, member_row, cells)
                member_row += 1
        workbook.close()
    except BaseException:
        os.remove(path)
        raise
    return path


def file_chunks(path: str, size: int = 64 * 1024) -> Iterator[bytes]:
    """The file's bytes in chunks; the file is removed when done (or abandoned)."""
    try:
        with open(path, "rb") as source:
            while chunk := source.read(size):
                yield chunk
    finally:
        os.remove(path)
