"""A compiled loader for a marshmallow record schema: the common, valid record loaded in one
pass of plain Python, equal to what ``schema.load`` gives; anything else left to marshmallow.

marshmallow builds each nested record through its generic machinery (a schema, a field
lookup, error bookkeeping per value): about a fifth of a 1,000-visit push. The schema stays
the contract (the OpenAPI document is generated from it, and marshmallow still answers
every record the compiled loader does not take, with its per-field errors): the loader is
generated from the schema's own fields and runs their own validator objects, and it takes a
value only where it provably does what the field does:

- String takes a str; Float an int or float (never a bool), finite, as float; Integer an
  int (never a bool); Boolean True or False; AwareDateTime a str, parsed by the field itself;
  Dict (no key/value fields) a dict, copied; List a list of values the inner field takes;
  Nested a dict its schema's loader takes.
- a missing key: its ``load_default`` (called when callable), absent when it has none, and
  no answer when the field is required; None only where the field allows it.
- any key the schema does not declare, any failed validator, any field kind or option it
  does not know (data_key, hooks, pre/post-load functions, ``unknown`` other than RAISE):
  no answer, so marshmallow decides.

tests/unit/test_fastload.py checks, on a Hypothesis corpus of records and their mutations,
that the loader either answers nothing or answers exactly ``schema.load``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, missing
from marshmallow.validate import Validator

Loader = Callable[[Any], dict[str, Any] | None]
_FAIL = object()  # a value the compiled loader does not take


def compile_loader(schema: Schema) -> Loader | None:
    """The loader of ``schema``'s valid records, or None when the schema uses anything the
    compiler does not know (then marshmallow loads every record)."""
    if schema.unknown != RAISE or any(schema._hooks.values()) or schema.partial:
        return None
    steps = []
    for name, field in schema.load_fields.items():
        convert = _converter(field)
        if convert is None or field.data_key not in (None, name) \
                or field.attribute not in (None, name):
            return None
        steps.append((name, convert, tuple(field.validators), field.required,
                      field.load_default, field.allow_none))
    declared = frozenset(name for name, *_ in steps)

    def load(raw: Any) -> dict[str, Any] | None:
        if type(raw) is not dict or not declared.issuperset(raw):
            return None
        loaded: dict[str, Any] = {}
        for name, convert, validators, required, default, allow_none in steps:
            if name not in raw:
                if required:
                    return None
                if default is not missing:
                    loaded[name] = default() if callable(default) else default
                continue
            value = raw[name]
            if value is None:
                if not allow_none:
                    return None
                loaded[name] = None
                continue
            value = convert(value)
            if value is _FAIL or not _valid(validators, value):
                return None
            loaded[name] = value
        return loaded

    return load


def _valid(validators: tuple, value: Any) -> bool:
    for validator in validators:  # as Field._validate runs them
        try:
            if validator(value) is False and not isinstance(validator, Validator):
                return False
        except ValidationError:
            return False
    return True


def _converter(field: fields.Field) -> Callable[[Any], Any] | None:
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        return None
    kind = type(field)
    if kind is fields.String:
        return lambda value: value if type(value) is str else _FAIL
    if kind is fields.Float and field.allow_nan is False:  # type: ignore[attr-defined]
        return _float
    if kind is fields.Integer:
        return lambda value: value if type(value) is int else _FAIL
    if kind is fields.Boolean:
        return lambda value: value if value is True or value is False else _FAIL
    if kind is fields.AwareDateTime:
        return lambda value: _parsed(field, value) if type(value) is str else _FAIL
    if kind is fields.Dict and field.key_field is None and field.value_field is None:  # type: ignore[attr-defined]
        return lambda value: dict(value) if type(value) is dict else _FAIL
    if isinstance(field, fields.Nested) and kind is fields.Nested and not field.only \
            and not field.exclude and not field.many and field.unknown is None:
        nested = compile_loader(field.schema)
        if nested is None:
            return None

        def load_nested(value: Any) -> Any:
            loaded = nested(value)
            return _FAIL if loaded is None else loaded
        return load_nested
    if kind is fields.List:
        inner = field.inner  # type: ignore[attr-defined]
        convert = _converter(inner)
        if convert is None:
            return None
        validators = tuple(inner.validators)

        def load_list(value: Any) -> Any:
            if type(value) is not list:
                return _FAIL
            items: list[Any] = []
            for item in value:
                if item is None:
                    if not inner.allow_none:
                        return _FAIL
                    items.append(None)
                    continue
                loaded = convert(item)
                if loaded is _FAIL or not _valid(validators, loaded):
                    return _FAIL
                items.append(loaded)
            return items
        return load_list
    return None


def _float(value: Any) -> Any:
    if type(value) is not int and type(value) is not float:
        return _FAIL
    number = float(value)
    return number if math.isfinite(number) else _FAIL


def _parsed(field: fields.Field, value: str) -> Any:
    try:
        return field._deserialize(value, None, None)
    except ValidationError:
        return _FAIL
