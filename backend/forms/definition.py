"""Versioned form definitions (JSON) and the checker that refuses a broken one before it ships.

One definition drives both the server's validation (``validation.py``) and the PWA's rendering and
checks (``pwa/static/js/domain/form.js``). Shape::

    {"form_id": "household_survey", "version": 1, "title": {"zh-CN": ..., "en": ...},
     "context_fields": ["case_kind"],
     "sections": [{"name", "label", "relevant"?, "fields": [field, ...]}]}

    field = {"name", "type", "label", "hint"?, "required"? (bool or expression), "relevant"?,
             "constraint"?, "constraint_message"?, "choices"? [{"value", "label"}],
             "calculation"? (type calculate), "min"?, "max"? (numeric types),
             "format"? ("resident_id" | "mobile", type text), "fields"? (type repeat)}

Context fields are read-only facts the server or app supplies (``case_kind`` comes from the case,
not from the surveyor). They are passed separately from the answers, merged into the top-level
values that expressions see, and never validated as answers. The checker keeps their names apart
from field names so an answer cannot pose as one.

Names live in two scopes: the top level (every section's fields plus context fields) and each
repeat group's own fields. Section names are labels for the screens, not values. Expressions see
fields in document order; a reference to a ``calculate`` field must come after it, because that
is the order in which the server and the device compute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backend.forms.expressions import ExpressionSyntaxError, parse, references

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
LANGUAGES = ("zh-CN", "en")
FIELD_TYPES = frozenset({
    "text", "integer", "decimal", "money", "date", "select_one", "select_many", "yes_no",
    "geopoint", "photo", "signature", "note", "calculate", "repeat",
})
NUMERIC_TYPES = frozenset({"integer", "decimal", "money"})
SELECT_TYPES = frozenset({"select_one", "select_many"})
FORMATS = frozenset({"resident_id", "mobile"})
FORM_KEYS = frozenset({"form_id", "version", "title", "description", "context_fields", "sections"})
SECTION_KEYS = frozenset({"name", "label", "relevant", "fields"})
FIELD_KEYS = frozenset({
    "name", "type", "label", "hint", "required", "relevant", "constraint", "constraint_message",
    "choices", "calculation", "min", "max", "format", "fields",
})
# The same shape a field reference takes in the expression grammar.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def load_definition(form_id: str, version: int) -> dict:
    """A shipped definition, e.g. ``load_definition("household_survey", 1)``."""
    if not _NAME.fullmatch(form_id) or not isinstance(version, int):
        raise ValueError("bad form id or version")
    path = DEFINITIONS_DIR / f"{form_id}.v{version}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def iter_fields(defn: dict) -> Iterator[tuple[dict, dict, dict | None]]:
    """(section, field, repeat or None) in document order, repeat members after their group."""
    for section in defn.get("sections") or []:
        for field in section.get("fields") or []:
            yield section, field, None
            if field.get("type") == "repeat":
                for member in field.get("fields") or []:
                    yield section, member, field


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Checker:
    def __init__(self, defn: dict) -> None:
        self.defn = defn
        self.problems: list[str] = []
        self.top: set[str] = set()                   # top-level field and context names
        self.repeats: dict[str, set[str]] = {}       # repeat name -> its field names
        self.calculate_at: dict[str, int] = {}      # "name" or "group.name" -> document position

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def run(self) -> list[str]:
        defn = self.defn
        if not isinstance(defn, dict):
            return ["a definition must be a JSON object"]
        for key in sorted(set(defn) - FORM_KEYS):
            self.problem("", f"unknown key '{key}'")
        if not isinstance(defn.get("form_id"), str) or not _NAME.fullmatch(defn["form_id"]):
            self.problem("", "form_id must be a name (letters, digits, _)")
        version = defn.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.problem("", "version must be a positive integer")
        self.check_text("", "title", defn.get("title"), required=True)
        context_fields = defn.get("context_fields", [])
        if not isinstance(context_fields, list):
            self.problem("", "context_fields must be a list of names")
            context_fields = []
        for name in context_fields:
            self.declare("context_fields", name, self.top)
        sections = defn.get("sections")
        if not isinstance(sections, list) or not sections:
            self.problem("", "sections must be a non-empty list")
            return self.problems
        self.collect_names(sections)
        self.check_sections(sections)
        return self.problems

    def declare(self, where: str, name: Any, scope: set[str]) -> bool:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            self.problem(where, f"bad name {name!r} (letters, digits, _; no leading digit)")
            return False
        if name.startswith("__"):
            # Reserved: in the browser "__proto__" as an object key would reach the prototype.
            self.problem(where, f"names starting with '__' are reserved: '{name}'")
            return False
        if name in scope:
            self.problem(where, f"duplicate name '{name}'")
            return False
        scope.add(name)
        return True

    def collect_names(self, sections: list) -> None:
        """First pass: every name and every calculate's position, so references can look ahead."""
        section_names: set[str] = set()
        position = 0
        for s_index, section in enumerate(sections):
            if not isinstance(section, dict):
                continue
            self.declare(f"sections[{s_index}]", section.get("name"), section_names)
            for field in _list(section.get("fields")):
                if not isinstance(field, dict):
                    continue
                position += 1
                name = field.get("name")
                where = f"{section.get('name')}.{name}"
                is_declared = self.declare(where, name, self.top)
                if is_declared and field.get("type") == "calculate":
                    self.calculate_at[name] = position  # type: ignore[index]  # declared: a str
                if field.get("type") == "repeat":
                    members: set[str] = set()
                    if is_declared:
                        self.repeats[name] = members  # type: ignore[index]
                    for member in _list(field.get("fields")):
                        if not isinstance(member, dict):
                            continue
                        position += 1
                        m_name = member.get("name")
                        if self.declare(f"{where}.{m_name}", m_name, members) \
                                and member.get("type") == "calculate":
                            self.calculate_at[f"{name}.{m_name}"] = position

    def check_sections(self, sections: list) -> None:
        position = 0
        for s_index, section in enumerate(sections):
            if not isinstance(section, dict):
                self.problem(f"sections[{s_index}]", "a section must be an object")
                continue
            where = str(section.get("name"))
            for key in sorted(set(section) - SECTION_KEYS):
                self.problem(where, f"unknown key '{key}'")
            self.check_text(where, "label", section.get("label"), required=True)
            if "relevant" in section:
                self.check_expression(where, "relevant", section["relevant"], position + 1, None)
            fields = section.get("fields")
            if not isinstance(fields, list) or not fields:
                self.problem(where, "fields must be a non-empty list")
                continue
            for field in fields:
                position = self.check_field(where, field, position, None)

    def check_field(self, parent: str, field: Any, position: int, repeat: str | None) -> int:
        if not isinstance(field, dict):
            self.problem(parent, "a field must be an object")
            return position
        position += 1
        kind = field.get("type")
        where = f"{parent}.{field.get('name')}"
        for key in sorted(set(field) - FIELD_KEYS):
            self.problem(where, f"unknown key '{key}'")
        if kind not in FIELD_TYPES:
            self.problem(where, f"unknown type {kind!r}")
        self.check_text(where, "label", field.get("label"), required=True)
        self.check_text(where, "hint", field.get("hint"), required=False)
        for key in ("relevant", "constraint", "calculation"):
            if key in field:
                self.check_expression(where, key, field[key], position, repeat)
        required = field.get("required", False)
        if isinstance(required, str):
            self.check_expression(where, "required", required, position, repeat)
        elif not isinstance(required, bool):
            self.problem(where, "required must be true, false or an expression")
        if required is not False and kind in ("calculate", "note"):
            self.problem(where, f"a {kind} field cannot be required")
        if "constraint_message" in field:
            if "constraint" not in field:
                self.problem(where, "constraint_message without a constraint")
            self.check_text(where, "constraint_message", field["constraint_message"], required=True)
        if (kind == "calculate") != ("calculation" in field):
            self.problem(where, "a calculate field needs a calculation, and only it may have one")
        if "constraint" in field and kind in ("calculate", "note", "repeat"):
            self.problem(where, f"a {kind} field cannot have a constraint")
        self.check_choices(where, kind, field)
        self.check_bounds(where, kind, field)
        if "format" in field and (kind != "text" or field["format"] not in FORMATS):
            self.problem(where, f"format must be one of {sorted(FORMATS)} on a text field")
        if kind == "repeat":
            if repeat is not None:
                self.problem(where, "repeat groups cannot be nested")
            members = field.get("fields")
            if not isinstance(members, list) or not members:
                self.problem(where, "a repeat needs a non-empty fields list")
            elif repeat is None:
                for member in members:
                    position = self.check_field(where, member, position, field.get("name"))
        elif "fields" in field:
            self.problem(where, "only a repeat has fields")
        return position

    def check_choices(self, where: str, kind: Any, field: dict) -> None:
        if kind not in SELECT_TYPES:
            if "choices" in field:
                self.problem(where, "only select_one and select_many have choices")
            return
        choices = field.get("choices")
        if not isinstance(choices, list) or not choices:
            self.problem(where, "a select needs a non-empty choices list")
            return
        seen: set[str] = set()
        for choice in choices:
            value = choice.get("value") if isinstance(choice, dict) else None
            # No spaces: selected() also reads ODK's space-separated answers.
            if not isinstance(value, str) or not value or " " in value:
                self.problem(where, f"choice value {value!r} must be a string without spaces")
                continue
            if value in seen:
                self.problem(where, f"duplicate choice '{value}'")
            seen.add(value)
            self.check_text(f"{where}[{value}]", "label", choice.get("label"), required=True)

    def check_bounds(self, where: str, kind: Any, field: dict) -> None:
        for key in ("min", "max"):
            if key in field and (kind not in NUMERIC_TYPES or not _is_number(field[key])):
                self.problem(where, f"{key} must be a number on an integer, decimal or money field")
        if _is_number(field.get("min")) and _is_number(field.get("max")) \
                and field["min"] > field["max"]:
            self.problem(where, "min is greater than max")

    def check_text(self, where: str, key: str, value: Any, required: bool) -> None:
        if value is None and not required:
            return
        if not isinstance(value, dict) or any(
                not isinstance(value.get(lang), str) or not value[lang] for lang in LANGUAGES):
            self.problem(where, f"{key} needs non-empty text for {', '.join(LANGUAGES)}")

    def check_expression(self, where: str, key: str, text: Any, position: int,
                         repeat: str | None) -> None:
        try:
            names = references(parse(text))
        except ExpressionSyntaxError as error:
            self.problem(where, f"{key}: {error}")
            return
        for name in sorted(names):
            if name == ".":
                if key != "constraint":
                    self.problem(where, f"{key}: '.' (the current value) only means something "
                                        "in a constraint")
                continue
            group, _, member = name.partition(".")
            if member:
                if member not in self.repeats.get(group, set()):
                    self.problem(where, f"{key}: ${{{name}}} is not a field of a repeat group")
                    continue
                target = name
            elif repeat is not None and name in self.repeats.get(repeat, set()):
                target = f"{repeat}.{name}"
            elif name in self.top:
                target = name
            else:
                self.problem(where, f"{key}: ${{{name}}} refers to no field")
                continue
            if self.calculate_at.get(target, 0) >= position:
                self.problem(where, f"{key}: ${{{name}}} is a calculation that comes later; "
                                    "move it before this field")


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def check_definition(defn: Any) -> list[str]:
    """Every problem found, as ``"section.field: message"``; an empty list means it may ship."""
    return _Checker(defn).run()
