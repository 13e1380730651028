"""Write a Doorstep form definition as an XLSForm workbook (the inverse of ``xlsform.py``).

Each section becomes a ``begin group``, each repeat a ``begin repeat`` inside it; labels go to
``label::Chinese (zh)`` and ``label::English (en)``; expressions are written in XLSForm's
syntax (``/`` -> ``div``, ``true`` -> ``true()``, ``null`` -> ``''``, ``${group.x}`` -> ``${x}``).
Importing the result gives the same definition back (tests/unit/test_xlsform.py).
"""

from __future__ import annotations

import io
import re

from backend.forms.definition import LANGUAGES
from backend.spreadsheets import Workbook

LANGUAGE_COLUMNS = {"zh-CN": "Chinese (zh)", "en": "English (en)"}
TYPE_NAMES = {"text": "text", "integer": "integer", "decimal": "decimal", "date": "date",
              "geopoint": "geopoint", "photo": "image", "signature": "image", "note": "note",
              "calculate": "calculate", "money": "money", "yes_no": "yes_no"}


def _texts(kind: str) -> list[str]:
    return [f"{kind}::{LANGUAGE_COLUMNS[language]}" for language in LANGUAGES]


SURVEY_HEADER = ["type", "name", *_texts("label"), *_texts("hint"), "required", "relevant",
                 "constraint", *_texts("constraint_message"), "calculation", "appearance",
                 "doorstep::format", "doorstep::min", "doorstep::max"]
CHOICES_HEADER = ["list_name", "name", *_texts("label")]
SETTINGS_HEADER = ["form_id", "version", *_texts("form_title"), "doorstep::context_fields",
                   "doorstep::description"]


class ExportRefused(ValueError):
    pass


def _member_owners(definition: dict) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for section in definition["sections"]:
        for field in section["fields"]:
            for member in field.get("fields") or []:
                owners.setdefault(member["name"], []).append(field["name"])
    return owners


def to_xlsform(text: str, owners: dict[str, list[str]]) -> str:
    """A Doorstep expression in XLSForm's syntax (spacing kept)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            end = text.find(c, i + 1)
            if end == i + 1:
                raise ExportRefused("an empty string would read back as null")
            out.append(text[i:end + 1])
            i = end + 1
        elif text.startswith("${", i):
            end = text.index("}", i)
            group, _, member = text[i + 2:end].partition(".")
            if member and owners.get(member) != [group]:
                raise ExportRefused(f"${{{group}.{member}}} cannot be written unambiguously")
            out.append("${" + (member or group) + "}")
            i = end + 1
        elif re.match(r"[A-Za-z_]", c):
            word = re.match(r"[A-Za-z_][A-Za-z0-9_-]*", text[i:]).group(0)  # type: ignore[union-attr]
            out.append({"true": "true()", "false": "false()", "null": "''"}.get(word, word))
            i += len(word)
        elif c == "/":
            before = "" if i > 0 and text[i - 1].isspace() else " "
            after = "" if i + 1 < n and text[i + 1].isspace() else " "
            out.append(f"{before}div{after}")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _text_cells(item: dict, key: str) -> list:
    texts = item.get(key) or {}
    return [texts.get(language) for language in LANGUAGES]


def _expression(item: dict, key: str, owners: dict[str, list[str]]) -> str | None:
    return to_xlsform(item[key], owners) if key in item else None


def _question_row(field: dict, list_name: str | None, owners: dict[str, list[str]]) -> list:
    kind = field["type"]
    if kind == "repeat":
        type_cell = "begin repeat"
    elif list_name is not None:
        type_cell = f"{'select_one' if kind == 'select_one' else 'select_multiple'} {list_name}"
    else:
        type_cell = TYPE_NAMES[kind]
    required = field.get("required", False)
    required_cell = "yes" if required is True else (
        to_xlsform(required, owners) if isinstance(required, str) else None)
    return [type_cell, field["name"], *_text_cells(field, "label"), *_text_cells(field, "hint"),
            required_cell, _expression(field, "relevant", owners),
            _expression(field, "constraint", owners), *_text_cells(field, "constraint_message"),
            _expression(field, "calculation", owners),
            "signature" if kind == "signature" else None, field.get("format"),
            field.get("min"), field.get("max")]


def export_xlsx(definition: dict) -> bytes:
    """The definition as an .xlsx XLSForm (survey, choices, settings)."""
    owners = _member_owners(definition)
    survey: list[list] = []
    choices: list[list] = []

    def add(field: dict, prefix: str) -> None:
        list_name = None
        if field.get("choices"):
            list_name = prefix + field["name"]
            choices.extend([list_name, choice["value"], *_text_cells(choice, "label")]
                           for choice in field["choices"])
        survey.append(_question_row(field, list_name, owners))
        if field["type"] == "repeat":
            for member in field["fields"]:
                add(member, f"{field['name']}_")
            survey.append(["end repeat"])

    for section in definition["sections"]:
        survey.append(["begin group", section["name"], *_text_cells(section, "label"),
                       None, None, None, section.get("relevant")
                       and to_xlsform(section["relevant"], owners)])
        for field in section["fields"]:
            add(field, "")
        survey.append(["end group"])
    settings = [definition["form_id"], definition["version"],
                *_text_cells(definition, "title"),
                " ".join(definition.get("context_fields") or []) or None,
                definition.get("description")]
    out = io.BytesIO()
    book = Workbook(out, in_memory=True)
    for name, header, rows in (("survey", SURVEY_HEADER, survey),
                               ("choices", CHOICES_HEADER, choices),
                               ("settings", SETTINGS_HEADER, [settings])):
        sheet = book.add_worksheet(name)
        book.write_row(sheet, 0, header)
        for index, row in enumerate(rows, start=1):
            book.write_row(sheet, index, row)
    book.close()
    return out.getvalue()
