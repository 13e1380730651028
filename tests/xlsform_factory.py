"""Build small XLSForm workbooks in code (openpyxl) for the importer's tests."""

from __future__ import annotations

import io

import openpyxl

ZH, EN = "label::Chinese (zh)", "label::English (en)"
SURVEY_HEADER = ["type", "name", ZH, EN, "required", "relevant", "constraint", "calculation"]
SETTINGS = {"form_id": "poverty_check", "form_title::Chinese (zh)": "困难家庭核查",
            "form_title::English (en)": "Hardship check"}


def workbook(survey: list[list], choices: list[list] | None = None,
             settings: dict | None = None, survey_header: list[str] | None = None,
             choices_header: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(survey_header or SURVEY_HEADER)
    for row in survey:
        sheet.append(row)
    choice_sheet = book.create_sheet("choices")
    choice_sheet.append(choices_header or ["list_name", "name", ZH, EN])
    for row in choices or []:
        choice_sheet.append(row)
    values = SETTINGS if settings is None else settings
    settings_sheet = book.create_sheet("settings")
    settings_sheet.append(list(values))
    settings_sheet.append(list(values.values()))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def simple_form(**settings_override) -> bytes:
    """A form with a group, a select, a repeat, a calculation and a relevance."""
    return workbook(
        [["begin group", "home", "住房", "Home", None, None, None, None],
         ["select_one housing", "housing", "住房类型", "Housing", "yes", None, None, None],
         ["decimal", "area", "面积", "Area", "yes", "${housing} = 'owned'", ". > 0", None],
         ["end group"],
         ["begin group", "people", "成员", "People", None, None, None, None],
         ["begin repeat", "member", "成员", "Member", None, None, None, None],
         ["text", "name", "姓名", "Name", "yes", None, None, None],
         ["integer", "age", "年龄", "Age", None, None, ". >= 0 and . <= 120", None],
         ["end repeat"],
         ["calculate", "adults", None, None, None, None, None,
          "count(${member}) - 0 * sum(${age})"],
         ["end group"]],
        [["housing", "owned", "自有", "Owned"], ["housing", "rented", "租住", "Rented"]],
        {**SETTINGS, **settings_override})
