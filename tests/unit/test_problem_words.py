"""Every problem the API can answer has words on the phone, in zh-CN and en (STYLE.md:
"the UI renders words from slugs"; the brief: every error says what to do next).

The phone's `problemText()` (pwa/static/js/i18n.js) looks up `problem.<slug>`; without it
the user reads the server's English detail, so a new slug in backend/errors.py without
words here fails this test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backend.errors import CATALOGUE

I18N = Path(__file__).resolve().parents[2] / "pwa" / "static" / "i18n"
# Problems the phone raises itself, with no server slug: no connection, and the signing
# key destroyed after too many wrong PINs (pwa/static/js/api.js, keys.js).
PHONE_ONLY = {"network", "pin-locked-out"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def phone_words(lang: str) -> dict[str, str]:
    words = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
    return {key.removeprefix("problem."): text for key, text in words.items()
            if key.startswith("problem.")}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_problem_slug_has_words_on_the_phone(lang):
    words = phone_words(lang)
    assert [slug for slug in CATALOGUE if not words.get(slug, "").strip()] == []


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_words_for_problems_that_do_not_exist(lang):
    assert sorted(set(phone_words(lang)) - set(CATALOGUE) - PHONE_ONLY) == []


def test_the_chinese_words_are_chinese_and_the_english_english():
    zh, en = phone_words("zh-CN"), phone_words("en")
    assert [slug for slug, text in zh.items() if not HAN.search(text)] == []
    assert [slug for slug, text in en.items() if HAN.search(text)] == []


# The casework desk shows a refused step as its rule (pwa/static/desk/workflow/case.js
# problemBox: `wf.rule.<slug>`, else the server's English detail). A refused move names both
# states instead (`transition-not-allowed`); `conflict` is generic, its detail says which.
WORKFLOW = Path(__file__).resolve().parents[2] / "backend" / "workflow"
NOT_A_RULE = {"transition-not-allowed", "conflict", "validation-failed",
              "document-content-invalid"}


def workflow_refusals() -> set[str]:
    source = "".join(path.read_text(encoding="utf-8") for path in WORKFLOW.glob("*.py"))
    return {slug for slug, kind in CATALOGUE.items()
            if kind.status in (409, 422) and f'"{slug}"' in source} - NOT_A_RULE


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_refusal_of_the_workflow_has_desk_words(lang):
    refusals = workflow_refusals()
    assert {"periodic-review-open", "review-method-missing", "notice-not-over"} <= refusals
    words = json.loads((I18N / "workflow" / f"{lang}.json").read_text(encoding="utf-8"))
    assert sorted(slug for slug in refusals if not words.get(f"wf.rule.{slug}")) == []
