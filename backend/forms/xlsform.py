"""Translate an XLSForm (survey, choices and settings sheets) into a Doorstep form definition.

Pure: no Flask, no database; ``xlsform_reader`` turns the bytes into rows first. ADR 0016 says
why this is our own reader of XLSForm's documented sheets rather than pyxform.

What is carried (everything else is refused with its sheet, row, column and reason, never
dropped):

- ``begin group``/``end group`` -> a section (``relevant`` kept; appearance ``field-list`` is
  what a section already is). Questions outside any group form a section of their own.
- ``begin repeat``/``end repeat`` -> a ``repeat`` field (not nested), inside the open group or
  in a section of its own.
- Types: text, integer, decimal, date, select_one L, select_multiple L (-> select_many),
  geopoint, image (-> photo; appearance ``signature`` -> signature), note, calculate, and
  Doorstep's own ``money`` and ``yes_no`` (XLSForm has no equivalents).
- ``label``/``hint``/``constraint_message`` in zh and en: ``label::Chinese (zh)``,
  ``label::English (en)``, ``label::zh-CN``, ``label::en``...; a column without a language
  fills the languages that have none. A calculate without a label is labelled by its name.
- ``relevant``, ``constraint``, ``calculation``, ``required`` (yes/no or an expression),
  translated into the expression language of ``expressions.py`` (see ``to_doorstep``).
- Doorstep's extras in their own columns: ``doorstep::format``, ``doorstep::min``,
  ``doorstep::max``; in settings ``doorstep::context_fields`` and ``doorstep::description``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from backend.forms.definition import FORMATS, LANGUAGES, check_definition
from backend.forms.expressions import FUNCTIONS, ExpressionSyntaxError, parse
from backend.forms.xlsform_reader import (
    Row,
    Sheet,
    XlsformProblem,
    XlsformRefused,
    read_workbook,
)

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TYPES = {"text": "text", "string": "text", "integer": "integer", "int": "integer",
         "decimal": "decimal", "date": "date", "geopoint": "geopoint", "image": "photo",
         "note": "note", "calculate": "calculate", "money": "money", "yes_no": "yes_no"}
SELECTS = {"select_one": "select_one", "select_multiple": "select_many"}
TEXT_COLUMNS = ("label", "hint", "constraint_message")
SURVEY_COLUMNS = {"type", "name", "required", "relevant", "constraint", "calculation",
                  "appearance", "doorstep::format", "doorstep::min", "doorstep::max"}
# Columns XLSForm documents that Doorstep's definition cannot hold, and why.
NOT_CARRIED = {
    "choice_filter": "Doorstep's form definition has fixed choice lists and no cascading "
                     "selects, so choice_filter has no equivalent",
    "repeat_count": "a repeat's entries are added by the surveyor; a fixed count is not carried",
    "default": "default answers are not carried",
    "read_only": "read-only questions are not carried",
    "required_message": "Doorstep shows its own required message; required_message is not "
                        "carried",
    "trigger": "triggers are not carried",
    "parameters": "question parameters are not carried",
}
_LANGUAGE_WORDS = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh_cn": "zh-CN", "chinese": "zh-CN",
                   "中文": "zh-CN", "en": "en", "english": "en"}
MAX_PROBLEMS = 200
MAX_VERSION = 10000  # what a submission may name (visits.schemas)


def language_of(suffix: str) -> str | None:
    """``Chinese (zh)`` / ``zh-CN`` / ``English`` -> ``zh-CN`` / ``en``; None if another."""
    text = suffix.strip().lower()
    found = re.search(r"\(([^)]*)\)\s*$", text)
    for candidate in ([found.group(1).strip()] if found else []) + [text]:
        if candidate in _LANGUAGE_WORDS:
            return _LANGUAGE_WORDS[candidate]
        if candidate.startswith(("zh-", "zh_")):
            return "zh-CN"
        if candidate.startswith(("en-", "en_")):
            return "en"
    return None


# ---------------------------------------------------------------- expressions

class ExpressionRefused(ValueError):
    pass


class Scope:
    """Who a ``${name}`` is: a top-level field, a member of the current repeat, or of one other."""

    def __init__(self) -> None:
        self.top: set[str] = set()
        self.repeats: dict[str, set[str]] = {}

    def resolve(self, name: str, repeat: str | None) -> str:
        if repeat is not None and name in self.repeats.get(repeat, set()):
            return name
        if name in self.top:
            return name
        owners = sorted(group for group, members in self.repeats.items() if name in members)
        if len(owners) == 1:
            return f"{owners[0]}.{name}"
        if owners:
            raise ExpressionRefused(f"${{{name}}} is a question of several repeats "
                                    f"({', '.join(owners)}); it is ambiguous here")
        raise ExpressionRefused(f"${{{name}}} refers to no question")


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*")


def to_doorstep(text: str, scope: Scope, repeat: str | None) -> str:
    """An XLSForm (XPath) expression in Doorstep's language, or ExpressionRefused saying why.

    Spacing is kept. ``div`` -> ``/``; ``true()``/``false()`` -> ``true``/``false``; ``''``
    (XLSForm's empty answer) -> ``null``; ``.5`` -> ``0.5``; ``${x}`` of a repeat's question
    from outside it -> ``${group.x}``. Paths, ``..``, ``mod``, predicates and any function not
    in both evaluators are refused; the result must then parse in ``expressions.py``.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            out.append(c)
            i += 1
        elif c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                raise ExpressionRefused("unterminated string")
            out.append("null" if end == i + 1 else text[i:end + 1])
            i = end + 1
        elif text.startswith("${", i):
            end = text.find("}", i)
            name = text[i + 2:end] if end > 0 else ""
            if not NAME.fullmatch(name):
                raise ExpressionRefused(f"bad reference {text[i:end + 1 if end > 0 else n]!r}")
            out.append("${" + scope.resolve(name, repeat) + "}")
            i = end + 1
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            found = re.match(r"[0-9]*(\.[0-9]+)?", text[i:])
            number = found.group(0) if found else c
            out.append("0" + number if number.startswith(".") else number)
            i += len(number)
        elif c == ".":
            if text.startswith("..", i):
                raise ExpressionRefused("'..' (the parent) is not supported")
            out.append(".")
            i += 1
        elif _WORD.match(text, i):
            word = _WORD.match(text, i).group(0)  # type: ignore[union-attr]
            after = text[i + len(word):].lstrip()
            if after.startswith("("):
                if word in ("true", "false"):
                    close = re.match(r"\s*\(\s*\)", text[i + len(word):])
                    if not close:
                        raise ExpressionRefused(f"{word}() takes no arguments")
                    out.append(word)
                    i += len(word) + len(close.group(0))
                    continue
                if word not in FUNCTIONS:
                    raise ExpressionRefused(f"the function {word}() is not one both evaluators "
                                            f"support ({', '.join(sorted(FUNCTIONS))})")
                out.append(word)
            elif word in ("and", "or"):
                out.append(word)
            elif word == "div":
                out.append("/")
            elif word == "mod":
                raise ExpressionRefused("'mod' is not supported")
            else:
                raise ExpressionRefused(f"'{word}' is not supported (write ${{name}} to read a "
                                        "question; XPath paths are not supported)")
            i += len(word)
        elif c in "/|[]@":
            raise ExpressionRefused(f"'{c}' (XPath paths, unions and predicates) is not "
                                    "supported")
        else:
            out.append(c)
            i += 1
    result = "".join(out)
    try:
        parse(result)
    except ExpressionSyntaxError as error:
        raise ExpressionRefused(error.message) from error
    return result


# ---------------------------------------------------------------- sheets

class _Translator:
    def __init__(self, sheets: dict[str, Sheet], default_form_id: str,
                 latest_version_of: Callable[[str], int]) -> None:
        self.sheets = sheets
        self.default_form_id = default_form_id
        self.latest_version_of = latest_version_of
        self.problems: list[XlsformProblem] = []
        self.scope = Scope()
        self.rows_of: dict[str, int] = {}            # "name" or "group.name" -> survey row
        self.pending: list[tuple[dict, str, str, Row, str, str | None]] = []

    def problem(self, sheet: str, row: int | None, column: str | None, reason: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(XlsformProblem(sheet, row, column, reason))

    def texts(self, sheet: str, row: Row, kind: str, required: bool,
              fallback: str | None = None) -> dict | None:
        """``{"zh-CN", "en"}`` from ``kind`` and ``kind::<language>`` columns of a row."""
        found: dict[str, str] = {}
        plain = row.cells.get(kind)
        for column, value in row.cells.items():
            base, sep, suffix = column.partition("::")
            if base != kind or not sep:
                continue
            language = language_of(suffix)
            if language is None:
                self.problem(sheet, row.number, column,
                             f"only {' and '.join(LANGUAGES)} are carried; this language is not")
            else:
                found[language] = value
        for language in LANGUAGES:
            if language not in found and (plain or fallback):
                found[language] = plain or fallback  # type: ignore[assignment]
        if not found and not required:
            return None
        missing = [language for language in LANGUAGES if language not in found]
        if missing:
            self.problem(sheet, row.number, kind, f"needs a {kind} in {', '.join(missing)}")
            return None
        return found

    def check_columns(self, sheet: str, row: Row, allowed: set[str], texts: tuple) -> None:
        for column in row.cells:
            base = column.partition("::")[0]
            if column in allowed or ("::" in column and base in texts):
                continue
            if base in texts:
                continue
            reason = NOT_CARRIED.get(base) or (
                "media are not carried" if base.startswith("media") else
                f"the column {column!r} is not carried by Doorstep's form definition")
            self.problem(sheet, row.number, column, reason)

    # -- choices
    def choice_lists(self) -> dict[str, list[dict]]:
        lists: dict[str, list[dict]] = {}
        sheet = self.sheets.get("choices")
        for row in sheet.rows if sheet else ():
            self.check_columns("choices", row, {"list_name", "name"}, ("label",))
            list_name, value = row.cells.get("list_name"), row.cells.get("name")
            if not list_name or not value:
                self.problem("choices", row.number, "name" if list_name else "list_name",
                             "a choice needs a list_name and a name")
                continue
            if any(c.isspace() for c in value):
                self.problem("choices", row.number, "name", "a choice name has no spaces")
                continue
            choices = lists.setdefault(list_name, [])
            if any(choice["value"] == value for choice in choices):
                self.problem("choices", row.number, "name",
                             f"'{value}' is already a choice of the list '{list_name}'")
                continue
            label = self.texts("choices", row, "label", required=True)
            if label is not None:
                choices.append({"value": value, "label": label})
        return lists

    # -- settings
    def settings(self) -> dict:
        sheet = self.sheets.get("settings")
        row = sheet.rows[0] if sheet and sheet.rows else Row(2, {})
        if sheet and len(sheet.rows) > 1:
            self.problem("settings", sheet.rows[1].number, None,
                         "settings has one row of values")
        self.check_columns("settings", row, {"form_id", "version", "default_language",
                                             "doorstep::context_fields",
                                             "doorstep::description"}, ("form_title",))
        form_id = row.cells.get("form_id", self.default_form_id)
        if not NAME.fullmatch(form_id):
            self.problem("settings", row.number, "form_id",
                         "form_id is required: letters, digits and _, not starting with a digit")
        latest = self.latest_version_of(form_id) if NAME.fullmatch(form_id) else 0
        version = row.cells.get("version", str(latest + 1))
        if not version.isdigit() or not 1 <= int(version) <= MAX_VERSION:
            self.problem("settings", row.number, "version",
                         f"version must be a whole number from 1 to {MAX_VERSION}")
            version = "1"
        elif int(version) <= latest:
            self.problem("settings", row.number, "version",
                         f"version {version} of '{form_id}' is already published; a new one "
                         f"is above {latest} (or leave version empty)")
        language = row.cells.get("default_language")
        if language and language_of(language) is None:
            self.problem("settings", row.number, "default_language",
                         f"only {' and '.join(LANGUAGES)} are carried")
        title = self.texts("settings", row, "form_title", required=True, fallback=form_id)
        result: dict[str, Any] = {"form_id": form_id, "version": int(version), "title": title}
        if "doorstep::description" in row.cells:
            result["description"] = row.cells["doorstep::description"]
        context = row.cells.get("doorstep::context_fields", "").split()
        for name in context:
            if not NAME.fullmatch(name):
                self.problem("settings", row.number, "doorstep::context_fields",
                             f"bad name {name!r}")
            self.scope.top.add(name)
        if context:
            result["context_fields"] = context
        return result

    # -- survey
    def survey(self, lists: dict[str, list[dict]]) -> list[dict]:
        sections: list[dict] = []
        section: dict | None = None      # the open section
        is_group = False                 # the open section came from begin group
        repeat: dict | None = None       # the open repeat field
        repeat_owns_section = False
        loose = 0
        for row in self.sheets["survey"].rows:
            kind = re.sub(r"\s+", " ", row.cells.get("type", "")).strip()
            words = kind.replace("begin_", "begin ").replace("end_", "end ").split(" ")
            if kind == "":
                self.problem("survey", row.number, "type", "a row with no type")
                continue
            if words[0] == "end" and len(words) == 2 and words[1] in ("group", "repeat"):
                if words[1] == "repeat":
                    if repeat is None:
                        self.problem("survey", row.number, "type", "end repeat with no begin")
                        continue
                    if not repeat["fields"]:
                        self.problem("survey", row.number, "type", "an empty repeat")
                    repeat = None
                    if repeat_owns_section:
                        section, repeat_owns_section = None, False
                else:
                    if repeat is not None or not is_group:
                        self.problem("survey", row.number, "type",
                                     "end group with no open group here")
                        continue
                    section, is_group = None, False
                continue
            self.check_columns("survey", row, SURVEY_COLUMNS, TEXT_COLUMNS)
            name = row.cells.get("name", "")
            if not NAME.fullmatch(name) or name.startswith("__"):
                self.problem("survey", row.number, "name",
                             f"bad name {name!r}: letters, digits and _, not starting with a "
                             "digit or __")
                continue
            if words[0] == "begin" and len(words) == 2 and words[1] == "group":
                if repeat is not None or is_group:
                    self.problem("survey", row.number, "type",
                                 "groups inside groups or repeats are not carried")
                    continue
                self.refuse_appearance(row, {"field-list"})
                if any(s["name"] == name for s in sections):
                    self.problem("survey", row.number, "name", f"a second group named '{name}'")
                section = {"name": name, "label": self.texts("survey", row, "label", True),
                           "fields": []}
                self.expression(section, "relevant", row, None)
                sections.append(section)
                is_group = True
                continue
            if words[0] == "begin" and len(words) == 2 and words[1] == "repeat":
                if repeat is not None:
                    self.problem("survey", row.number, "type", "repeats inside repeats are not "
                                                               "carried")
                    continue
                self.refuse_appearance(row, set())
                group: dict[str, Any] = {"name": name, "type": "repeat", "fields": [],
                                         "label": self.texts("survey", row, "label", True)}
                self.declare(name, None, row)
                self.scope.repeats.setdefault(name, set())
                self.expression(group, "relevant", row, None)
                self.required(group, row, None)
                if section is None:
                    section = {"name": name, "label": group["label"], "fields": []}
                    sections.append(section)
                    repeat_owns_section = True
                section["fields"].append(group)
                repeat = group
                continue
            field = self.question(row, kind, name, lists, repeat)
            if field is None:
                continue
            if section is None:
                loose += 1
                # Labelled with the form's title once the settings are known.
                section = {"name": f"part_{loose}", "label": None, "fields": []}
                sections.append(section)
            (repeat["fields"] if repeat is not None else section["fields"]).append(field)
        if repeat is not None:
            self.problem("survey", None, "type", f"begin repeat '{repeat['name']}' is never ended")
        if is_group and section is not None:
            self.problem("survey", None, "type", f"begin group '{section['name']}' is never ended")
        return sections

    def refuse_appearance(self, row: Row, allowed: set[str]) -> None:
        appearance = row.cells.get("appearance")
        if appearance and appearance not in allowed:
            self.problem("survey", row.number, "appearance",
                         f"the appearance '{appearance}' is not carried")

    def declare(self, name: str, repeat: dict | None, row: Row) -> None:
        scope = self.scope.top if repeat is None else self.scope.repeats[repeat["name"]]
        key = name if repeat is None else f"{repeat['name']}.{name}"
        if name in scope:
            self.problem("survey", row.number, "name",
                         f"the name '{name}' is already used (row {self.rows_of.get(key)})")
            return
        scope.add(name)
        self.rows_of[key] = row.number

    def question(self, row: Row, kind: str, name: str, lists: dict[str, list[dict]],
                 repeat: dict | None) -> dict | None:
        words = kind.replace("select one ", "select_one ").replace(
            "select multiple ", "select_multiple ").split(" ")
        field: dict[str, Any] = {"name": name}
        if words[0] in SELECTS and len(words) == 2:
            field["type"] = SELECTS[words[0]]
            if words[1] not in lists:
                self.problem("survey", row.number, "type", f"no choice list '{words[1]}'")
                return None
            field["choices"] = lists[words[1]]
        elif words[0] in SELECTS and words[-1] == "or_other":
            self.problem("survey", row.number, "type", "or_other is not carried")
            return None
        elif len(words) == 1 and words[0] in TYPES:
            field["type"] = TYPES[words[0]]
        else:
            self.problem("survey", row.number, "type",
                         f"the type '{kind}' is not one Doorstep renders")
            return None
        appearance = row.cells.get("appearance")
        if field["type"] == "photo" and appearance == "signature":
            field["type"] = "signature"
        elif appearance:
            self.problem("survey", row.number, "appearance",
                         f"the appearance '{appearance}' is not carried")
        self.declare(name, repeat, row)
        label = self.texts("survey", row, "label", True,
                           fallback=name if field["type"] == "calculate" else None)
        if label is not None:
            field["label"] = label
        scope = repeat["name"] if repeat is not None else None
        self.required(field, row, scope)
        self.expression(field, "relevant", row, scope)
        self.expression(field, "constraint", row, scope)
        self.expression(field, "calculation", row, scope)
        for key in ("hint", "constraint_message"):
            text = self.texts("survey", row, key, required=False)
            if text is not None:
                field[key] = text
        if "doorstep::format" in row.cells:
            value = row.cells["doorstep::format"]
            if value not in FORMATS:
                self.problem("survey", row.number, "doorstep::format",
                             f"format is one of {', '.join(sorted(FORMATS))}")
            field["format"] = value
        for key in ("min", "max"):
            raw = row.cells.get(f"doorstep::{key}")
            if raw is None:
                continue
            try:
                number = float(raw)
            except ValueError:
                self.problem("survey", row.number, f"doorstep::{key}", f"{key} must be a number")
                continue
            field[key] = int(number) if number.is_integer() else number
        return field

    def required(self, field: dict, row: Row, repeat: str | None) -> None:
        raw = row.cells.get("required", "")
        if raw.lower() in ("", "no", "false", "false()", "0"):
            return
        if raw.lower() in ("yes", "true", "true()", "1"):
            field["required"] = True
            return
        self.expression(field, "required", row, repeat)

    def expression(self, target: dict, key: str, row: Row, repeat: str | None) -> None:
        raw = row.cells.get(key)
        if raw:
            # Translated once every name is known: a relevant may read a later question.
            self.pending.append((target, key, raw, row, key, repeat))

    def translate_pending(self) -> None:
        for target, key, raw, row, column, repeat in self.pending:
            try:
                target[key] = to_doorstep(raw, self.scope, repeat)
            except ExpressionRefused as error:
                self.problem("survey", row.number, column,
                             f"{error} — not in the expression language both evaluators share")

    def run(self) -> dict:
        settings = self.settings()
        lists = self.choice_lists()
        sections = self.survey(lists)
        self.translate_pending()
        for section in sections:
            if section.get("label") is None:
                section["label"] = settings.get("title")
        definition = {**settings, "sections": sections}
        if not self.problems:
            for text in check_definition(definition):
                self.problem("survey", self.row_of(text), None, text)
        if self.problems:
            raise XlsformRefused("invalid", self.problems)
        return definition

    def row_of(self, problem: str) -> int | None:
        """The survey row of a checker problem ``section.field[.member]: message``."""
        path = problem.partition(":")[0].split(".")
        for size in (2, 1):
            key = ".".join(path[-size:])
            if key in self.rows_of:
                return self.rows_of[key]
        return None


def form_id_from_filename(filename: str | None) -> str:
    """pyxform's default form_id: the file's name without extension, made a name."""
    stem = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem)[:64]
    return name if NAME.fullmatch(name) else ""


def _none_yet(_form_id: str) -> int:
    return 0


def translate(sheets: dict[str, Sheet], default_form_id: str = "",
              latest_version_of: Callable[[str], int] = _none_yet) -> dict:
    """A Doorstep definition from the read sheets, or XlsformRefused listing every problem.

    ``latest_version_of(form_id)`` is the newest version already published: settings'
    ``version`` must be above it, and without one the form becomes the next version.
    """
    return _Translator(sheets, default_form_id, latest_version_of).run()


def import_xlsx(data: bytes, filename: str | None = None,
                latest_version_of: Callable[[str], int] = _none_yet) -> dict:
    """An uploaded workbook's bytes -> a checked definition (``check_definition`` passes)."""
    return translate(read_workbook(data), form_id_from_filename(filename), latest_version_of)
