"""The payment list's files read in one language (issue 21): every header and every category
cell of the CSV and the XLSX is words from the workflow dictionary, never a column key, a
category slug or a UUID; in Chinese without a Latin letter."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest

from backend.workflow import payment_files
from backend.workflow.payments import PAYMENT_COLUMNS
from backend.workflow.rules import CATEGORIES

CASE_ID = "3f0c2a9e-6d1b-4c55-9a07-1b2c3d4e5f60"


def _lines():
    return [{"seq": n, "payee_name": "罗德明", "id_number_masked": "5306**********2421",
             "bank_account_masked": "****3445", "amount_yuan": "700.00", "category": category,
             "village_code": "530621100201", "village_name": "砚池社区",
             "case_no": f"文屏〔2026〕低保第 {n:04d} 号", "case_id": CASE_ID,
             "due_on": "2026-12-10"}
            for n, category in enumerate([*CATEGORIES, "temporary"], start=1)]


def _csv(language):
    text = payment_files.csv_text(_lines(), language).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def _xlsx(language):
    book = openpyxl.load_workbook(io.BytesIO(payment_files.xlsx_bytes(_lines(), language)))
    sheet = book.worksheets[0]
    return sheet.title, [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_every_chinese_header_and_category_is_chinese(kind):
    if kind == "csv":
        rows = _csv("zh-CN")
    else:
        title, rows = _xlsx("zh-CN")
        assert not re.search(r"[A-Za-z]", title), title
    header, body = rows[0], rows[1:]
    assert [h for h in header if re.search(r"[A-Za-z]", h)] == [], header
    assert not set(PAYMENT_COLUMNS) & set(header)
    category = header.index("救助类别")
    assert [r[category] for r in body if re.search(r"[A-Za-z_]", str(r[category]))] == []
    assert CASE_ID not in str(rows)  # the case by its number, not its UUID
    assert "受理编号" in header


def test_english_headers_and_categories_are_words():
    header, *body = _csv("en")
    assert header[:2] == ["No.", "Payee"]
    assert not set(PAYMENT_COLUMNS) & set(header)
    category = header.index("Assistance")
    assert not [r[category] for r in body if re.fullmatch(r"[a-z_]+", r[category])]
