"""Read an uploaded XLSForm workbook into plain rows, with bounds checked before openpyxl runs.

An .xlsx is a zip: its members' declared sizes (``zipfile`` infolist) are summed and refused
above ``MAX_UNCOMPRESSED_BYTES`` before openpyxl opens anything, so a zip bomb costs a directory
read, not memory. ``zipfile`` never inflates a member past its declared size, so the declared
sizes are the real bound. Then each sheet is read in openpyxl's streaming mode, formula cells
are refused (a value the spreadsheet would compute is not a value we can check), and a sheet
longer than ``MAX_ROWS`` stops at the first row beyond the limit.

Pure: no Flask, no database. Problems are ``XlsformProblem``s naming the sheet, row and column.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 24 * 1024 * 1024
MAX_ZIP_MEMBERS = 200
MAX_ROWS = 2000            # data rows per sheet; a 10,000-row form is refused
MAX_COLUMNS = 120
SHEETS = ("survey", "choices", "settings")
# Sheets of XLSForm features Doorstep has no equivalent for.
REFUSED_SHEETS = {"external_choices": "external choice lists (select_one_from_file) are not "
                                      "carried", "entities": "ODK entities are not carried",
                  "osm": "OpenStreetMap questions are not carried"}


@dataclass(frozen=True)
class XlsformProblem:
    sheet: str
    row: int | None
    column: str | None
    reason: str

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column,
                "reason": self.reason}


class XlsformRefused(Exception):
    """The workbook cannot become a form. ``kind``: unreadable, too-large or invalid."""

    def __init__(self, kind: str, problems: list[XlsformProblem]) -> None:
        super().__init__("; ".join(p.reason for p in problems[:3]))
        self.kind = kind
        self.problems = problems


@dataclass(frozen=True)
class Row:
    number: int                 # 1-based, as the spreadsheet shows it
    cells: dict[str, str]       # header -> non-empty text


@dataclass(frozen=True)
class Sheet:
    name: str
    headers: tuple[str, ...]
    rows: tuple[Row, ...]


def _file_problem(reason: str) -> list[XlsformProblem]:
    return [XlsformProblem("(file)", None, None, reason)]


def check_zip(data: bytes) -> None:
    """Refuse a file that is not a zip, or whose members would inflate past the bound."""
    if len(data) > MAX_FILE_BYTES:
        raise XlsformRefused("too-large", _file_problem(
            f"the file is {len(data)} bytes; at most {MAX_FILE_BYTES} are read"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise XlsformRefused("unreadable", _file_problem(
            f"not an .xlsx workbook (not a zip archive: {error})")) from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise XlsformRefused("too-large", _file_problem(
            f"the workbook holds {len(members)} parts; at most {MAX_ZIP_MEMBERS}"))
    inflated = sum(member.file_size for member in members)
    if inflated > MAX_UNCOMPRESSED_BYTES:
        raise XlsformRefused("too-large", _file_problem(
            f"the workbook would inflate to {inflated} bytes; at most {MAX_UNCOMPRESSED_BYTES}"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _header(raw: str) -> str:
    """``Label::English (en)`` (or pyxform's older ``label:English``) -> ``label::English (en)``.

    The column kind is case-insensitive; its language is kept as written.
    """
    kind, sep, language = raw.strip().partition("::")
    if not sep and ":" in raw:
        kind, sep, language = raw.strip().partition(":")
    return kind.strip().lower().replace(" ", "_") + ("::" + language.strip() if sep else "")


def _read_sheet(worksheet: Any, name: str, problems: list[XlsformProblem]) -> Sheet:
    headers: list[str] = []
    rows: list[Row] = []
    for index, cells in enumerate(worksheet.iter_rows(), start=1):
        values = list(cells)
        if index == 1:
            headers = [_header(_text(getattr(c, "value", None))) for c in values[:MAX_COLUMNS]]
            if len(values) > MAX_COLUMNS and any(
                    getattr(c, "value", None) is not None for c in values[MAX_COLUMNS:]):
                problems.append(XlsformProblem(name, 1, None,
                                               f"more than {MAX_COLUMNS} columns"))
            continue
        found: dict[str, str] = {}
        for position, cell in enumerate(values):
            value = getattr(cell, "value", None)
            if value is None:
                continue
            column = headers[position] if position < len(headers) else ""
            if getattr(cell, "data_type", None) == "f":
                problems.append(XlsformProblem(
                    name, index, column or None,
                    "a formula cell; type the value itself (formulas are not read)"))
                continue
            text = _text(value)
            if not text:
                continue
            if not column:
                problems.append(XlsformProblem(name, index, None,
                                               f"a value ({text[:40]!r}) under no header"))
                continue
            if column in found:
                problems.append(XlsformProblem(name, index, column, "the column appears twice"))
                continue
            found[column] = text
        if not found:
            continue
        if len(rows) >= MAX_ROWS:
            problems.append(XlsformProblem(
                name, index, "type" if name == "survey" else None,
                f"the sheet has more than {MAX_ROWS} rows; this is the first one beyond"))
            break
        rows.append(Row(index, found))
    return Sheet(name, tuple(h for h in headers if h), tuple(rows))


def read_workbook(data: bytes) -> dict[str, Sheet]:
    """The survey, choices and settings sheets (names case-insensitive), bounded and checked."""
    check_zip(data)
    import openpyxl  # imported here: only an import reads workbooks

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise XlsformRefused("unreadable", _file_problem(
            f"not an .xlsx workbook openpyxl can read ({type(error).__name__})")) from error
    problems: list[XlsformProblem] = []
    sheets: dict[str, Sheet] = {}
    try:
        for worksheet in book.worksheets:
            name = worksheet.title.strip().lower()
            if name in REFUSED_SHEETS:
                problems.append(XlsformProblem(name, None, None, REFUSED_SHEETS[name]))
            elif name in SHEETS:
                sheets[name] = _read_sheet(worksheet, name, problems)
    except Exception as error:  # a corrupt sheet part inside a valid zip
        raise XlsformRefused("unreadable", _file_problem(
            f"a sheet could not be read ({type(error).__name__})")) from error
    finally:
        book.close()
    if "survey" not in sheets:
        problems.append(XlsformProblem("survey", None, None, "the workbook has no survey sheet"))
    if problems:
        raise XlsformRefused("invalid", problems)
    return sheets
