"""The shared form-validation table, run through backend/forms/validation.py.

tests/unit/js/form.test.mjs runs the same table through pwa/static/js/domain/form.js, so the
device and the server provably report the same error paths and compute the same values.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.forms.definition import check_definition
from backend.forms.validation import validate_submission

CASES = json.loads(
    (Path(__file__).parents[1] / "data" / "form_validation_cases.json").read_text(encoding="utf-8")
)["cases"]


def definition_of(case: dict) -> dict:
    sections = case.get("sections") or [
        {"name": "main", "label": {"zh-CN": "主", "en": "Main"}, "fields": case["fields"]}]
    return {"form_id": "case", "version": 1, "title": {"zh-CN": "测试", "en": "Test"},
            "context_fields": case.get("context_fields", []), "sections": sections}


def test_the_table_is_big_enough():
    assert len(CASES) >= 10
    assert len({case["name"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_case(case):
    defn = definition_of(case)
    assert check_definition(defn) == []  # the table's definitions are themselves valid
    errors, computed = validate_submission(defn, case["data"], case.get("context"))
    assert errors == case["expect_errors"]
    assert computed == case["expect_computed"]
