"""Validate a submitted survey against its definition, and compute its calculations (pure).

The device runs the same logic (``pwa/static/js/domain/form.js``) while the surveyor types; the
server runs this one on receipt and keeps its own ``computed`` values, never the client's.
``tests/data/form_validation_cases.json`` runs through both to keep them in step.

How a submission is read, in two passes:

1. Compute, in document order: each section's and field's relevance is decided with the values as
   they stand; a non-relevant field is cleared to null (so a stale answer in a hidden field never
   counts in a sum) and reports nothing; a relevant ``calculate`` is evaluated and stored. Client
   values for calculate fields are ignored. Repeat entries are walked where the group stands.
2. Check every relevant answer against the final values: required, type, format, min/max, then
   the constraint with ``.`` bound to the answer (skipped when the type is already wrong).

Error paths are ``name`` or ``group[i].name`` with a 0-based index; messages are Chinese (the
definition's ``constraint_message`` in zh-CN, else the defaults below). ``computed`` uses the same
paths, with null for a calculation that is not relevant.

Context values (``case_kind``...) are passed apart from the answers and only for the names the
definition lists in ``context_fields``; answers with those names are ignored.
"""

from __future__ import annotations

import math
import re
from typing import Any

from backend.forms.expressions import compiled, is_truthy, round_half_away
from backend.forms.identity import (
    is_calendar_date,
    is_masked_resident_id,
    is_valid_mobile,
    is_valid_resident_id,
)

MESSAGES = {
    "required": "此项为必填项",
    "text": "应填写文字",
    "integer": "应填写整数",
    "decimal": "应填写数字",
    "money": "金额应为不小于 0、最多两位小数的数字",
    "date": "日期应为有效的 YYYY-MM-DD",
    "select_one": "不是可选的选项",
    "select_many": "应为不重复的可选选项列表",
    "yes_no": "应选择是或否",
    "geopoint": "定位应包含有效的纬度、经度和精度",
    "photo": "照片应为 64 位小写十六进制 SHA-256 摘要",
    "signature": "签名应为 64 位小写十六进制 SHA-256 摘要",
    "repeat": "应为记录列表",
    "entry": "每条记录应为对象",
    "resident_id": "公民身份号码无效",
    "mobile": "手机号码无效",
    "min": "不能小于 {}",
    "max": "不能大于 {}",
    "constraint": "填写内容不符合要求",
}
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_relevant(item: dict, values: dict, entry: dict | None = None) -> bool:
    """A section or field is shown (and checked) unless its ``relevant`` expression is falsy."""
    expression = item.get("relevant")
    return expression is None or is_truthy(compiled(expression)(values, entry, None))


def is_required(field: dict, values: dict, entry: dict | None = None) -> bool:
    required = field.get("required", False)
    if isinstance(required, str):
        return is_truthy(compiled(required)(values, entry, None))
    return required is True


def check_constraint(field: dict, value: Any, values: dict, entry: dict | None = None,
                     language: str = "zh-CN") -> str | None:
    """None when the answer meets the field's constraint, else the message to show."""
    expression = field.get("constraint")
    if expression is None or is_truthy(compiled(expression)(values, entry, value)):
        return None
    message = (field.get("constraint_message") or {}).get(language)
    return message or MESSAGES["constraint"]


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _format_number(number: float) -> str:
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number) if isinstance(number, float) else str(number)


def _type_error(field: dict, value: Any) -> str | None:
    kind = field["type"]
    if kind == "text":
        ok = isinstance(value, str)
    elif kind == "integer":
        ok = _is_number(value) and float(value).is_integer()
    elif kind == "decimal":
        ok = _is_number(value)
    elif kind == "money":
        ok = _is_number(value) and value >= 0 and round_half_away(float(value), 2) == value
    elif kind == "date":
        match = _DATE.fullmatch(value) if isinstance(value, str) else None
        ok = match is not None and is_calendar_date(*(int(part) for part in match.groups()))
    elif kind == "select_one":
        ok = isinstance(value, str) and value in _choice_values(field)
    elif kind == "select_many":
        ok = (isinstance(value, list) and all(isinstance(v, str) for v in value)
              and len(set(value)) == len(value) and set(value) <= _choice_values(field))
    elif kind == "yes_no":
        ok = isinstance(value, bool)
    elif kind == "geopoint":
        ok = (isinstance(value, dict) and all(_is_number(value.get(k)) for k in
                                              ("lat", "lon", "accuracy"))
              and -90 <= value["lat"] <= 90 and -180 <= value["lon"] <= 180
              and value["accuracy"] >= 0)
    elif kind in ("photo", "signature"):
        ok = isinstance(value, str) and _SHA256.fullmatch(value) is not None
    else:
        ok = True
    return None if ok else MESSAGES[kind]


def _choice_values(field: dict) -> set[str]:
    return {choice["value"] for choice in field.get("choices") or []}


def _answer_errors(field: dict, value: Any, values: dict, entry: dict | None) -> list[str]:
    if _is_empty(value):
        return [MESSAGES["required"]] if is_required(field, values, entry) else []
    problem = _type_error(field, value)
    if problem:
        return [problem]
    errors = []
    fmt = field.get("format")
    # A masked ID (as prefilled for the field worker) stands for the registered one unchanged.
    if fmt == "resident_id" and not (is_valid_resident_id(value) or is_masked_resident_id(value)):
        errors.append(MESSAGES["resident_id"])
    if fmt == "mobile" and not is_valid_mobile(value):
        errors.append(MESSAGES["mobile"])
    if "min" in field and value < field["min"]:
        errors.append(MESSAGES["min"].format(_format_number(field["min"])))
    if "max" in field and value > field["max"]:
        errors.append(MESSAGES["max"].format(_format_number(field["max"])))
    message = check_constraint(field, value, values, entry)
    if message:
        errors.append(message)
    return errors


class _Submission:
    """One walk over a definition and a submission: pass 1 in ``__init__``, pass 2 in ``errors``."""

    def __init__(self, defn: dict, data: dict, context: dict | None) -> None:
        data = data if isinstance(data, dict) else {}
        context = context or {}
        self.values: dict[str, Any] = {}
        self.computed: dict[str, Any] = {}
        self.answers: list[tuple[str, dict, Any, dict | None]] = []
        for section in defn["sections"]:
            for field in section["fields"]:
                self.values[field["name"]] = self._initial(field, data.get(field["name"]))
        for name in defn.get("context_fields", []):
            self.values[name] = context.get(name)
        for section in defn["sections"]:
            is_shown = is_relevant(section, self.values)
            for field in section["fields"]:
                self._visit(field, field["name"], self.values, None, is_shown)

    @staticmethod
    def _initial(field: dict, raw: Any) -> Any:
        if field["type"] == "calculate":
            return None
        if field["type"] != "repeat" or not isinstance(raw, list):
            return raw
        # Every entry holds every member key, so ${name} inside an entry never falls through to
        # a top-level field of the same name just because this entry left it blank.
        rows = []
        for row in raw:
            source = row if isinstance(row, dict) else {}
            rows.append({member["name"]: None if member["type"] == "calculate"
                         else source.get(member["name"]) for member in field["fields"]})
        return rows

    def _visit(self, field: dict, path: str, holder: dict, entry: dict | None,
               is_shown: bool) -> None:
        name, kind = field["name"], field["type"]
        if not (is_shown and is_relevant(field, self.values, entry)):
            holder[name] = None
            if kind == "calculate":
                self.computed[path] = None
            return
        if kind == "calculate":
            holder[name] = self.computed[path] = compiled(field["calculation"])(
                self.values, entry, None)
            return
        if kind == "note":
            return
        self.answers.append((path, field, holder[name], entry))
        if kind == "repeat" and isinstance(holder[name], list):
            for index, row in enumerate(holder[name]):
                for member in field["fields"]:
                    self._visit(member, f"{path}[{index}].{member['name']}", row, row, True)

    def errors(self, raw_data: dict) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for path, field, value, entry in self.answers:
            if field["type"] == "repeat":
                errors.update(self._repeat_errors(path, field, raw_data.get(field["name"])))
                continue
            found = _answer_errors(field, value, self.values, entry)
            if found:
                errors[path] = found
        return errors

    def _repeat_errors(self, path: str, field: dict, raw: Any) -> dict[str, list[str]]:
        if _is_empty(raw):
            return {path: [MESSAGES["required"]]} if is_required(field, self.values) else {}
        if not isinstance(raw, list):
            return {path: [MESSAGES["repeat"]]}
        return {f"{path}[{index}]": [MESSAGES["entry"]]
                for index, row in enumerate(raw) if not isinstance(row, dict)}


def compute_calculations(defn: dict, data: dict, context: dict | None = None) -> dict[str, Any]:
    """Every calculate field's value by path (null when not relevant)."""
    return _Submission(defn, data, context).computed


def validate_submission(defn: dict, data: dict,
                        context: dict | None = None) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """(errors by path, computed values by path). No errors means the submission is acceptable."""
    submission = _Submission(defn, data, context)
    return submission.errors(data if isinstance(data, dict) else {}), submission.computed
