"""The payment list as files for the bank: CSV (UTF-8 with BOM, opens in Excel) and XLSX,
both through the app's one formula guard (backend.spreadsheets). Headers and categories are
words in the reader's language from the workflow desk's dictionary, never a column key or a
category slug (issue 21); the case is named by its number, not its UUID."""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

from backend import spreadsheets
from backend.workflow.payments import PAYMENT_COLUMNS

WORKFLOW_WORDS = Path(__file__).resolve().parents[2] / "pwa" / "static" / "i18n" / "workflow"
# What the bank's file carries: the JSON list's columns without the internal case id.
FILE_COLUMNS = tuple(column for column in PAYMENT_COLUMNS if column != "case_id")


@cache
def _words(language: str) -> dict[str, str]:
    return json.loads((WORKFLOW_WORDS / f"{language}.json").read_text("utf-8"))


def headers(language: str) -> list[str]:
    words = _words(language)
    return [words[f"wf.pay.col.{column}"] for column in FILE_COLUMNS]


def category_words(category: str | None, language: str) -> str:
    if not category:
        return ""
    words = _words(language)
    return words.get(f"wf.kind.{category}") or words.get(f"wf.pay.category.{category}", category)


def _rows(lines: list[dict], language: str) -> list[list]:
    return [[category_words(line[column], language) if column == "category" else line[column]
             for column in FILE_COLUMNS] for line in lines]


def csv_text(lines: list[dict], language: str = "zh-CN") -> str:
    return spreadsheets.csv_text(headers(language), _rows(lines, language))


def xlsx_bytes(lines: list[dict], language: str = "zh-CN") -> bytes:
    out = io.BytesIO()
    book = spreadsheets.Workbook(out, in_memory=True)
    sheet = book.add_worksheet(_words(language)["wf.pay.sheet"])
    book.write_row(sheet, 0, headers(language))
    for row, cells in enumerate(_rows(lines, language), start=1):
        book.write_row(sheet, row, cells)
    book.close()
    return out.getvalue()
