"""Every CSV and XLSX file the app writes goes through here, so that text a spreadsheet would
run as a formula never runs (CSV injection; OWASP "CSV Injection").

- CSV: a text cell that starts with one of FORMULA_STARTS gets a leading apostrophe, which
  Excel and LibreOffice show as text; numbers stay numbers.
- XLSX: text is always written as a string cell, never as a formula, a link or a number (the
  workbook's options say so), and a formula-looking one also carries Excel's quote prefix,
  so editing the cell and pressing Enter keeps it text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

# OWASP's list: =, +, -, @, tab and carriage return start a formula in some spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | bool | None

# Never let XlsxWriter guess: a string is a string.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False}


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_cell(value: Cell) -> str:
    """A CSV field: formula-looking text gets a leading apostrophe; numbers stay numbers,
    booleans are true/false, None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    return "'" + text if looks_like_formula(text) else text


def csv_writer(out: io.StringIO) -> Any:
    """A csv writer for Excel (CRLF lines); write rows with `csv_row`."""
    return csv.writer(out, lineterminator="\r\n")


def csv_row(cells: Iterable[Cell]) -> list[str]:
    return [csv_cell(cell) for cell in cells]


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A whole CSV file as text, UTF-8 byte-order mark first (so Excel reads it as UTF-8)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow(csv_row(header))
    for row in rows:
        writer.writerow(csv_row(row))
    return out.getvalue()


class Workbook:
    """An XlsxWriter workbook whose rows are written only as typed cells (`write_row`)."""

    def __init__(self, target: Any, **options: Any) -> None:
        import xlsxwriter  # loaded by the first export, not by every web worker (issue 23)

        self.book = xlsxwriter.Workbook(target, {**options, **WORKBOOK_OPTIONS})
        self._quoted = self.book.add_format({"quote_prefix": True})

    def add_worksheet(self, name: str) -> Any:
        return self.book.add_worksheet(name)

    def add_format(self, properties: dict) -> Any:
        return self.book.add_format(properties)

    def write_row(self, sheet: Any, row: int, cells: Iterable[Cell],
                  cell_format: Any = None) -> None:
        for column, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row, column, value, cell_format)
            elif isinstance(value, int | float):
                sheet.write_number(row, column, value, cell_format)
            else:
                text = str(value)
                sheet.write_string(row, column, text,
                                   self._quoted if looks_like_formula(text) else cell_format)

    def set_properties(self, properties: dict) -> None:
        self.book.set_properties(properties)

    def close(self) -> None:
        self.book.close()
