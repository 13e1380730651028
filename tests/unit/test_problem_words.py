"""Every problem the API can answer has words, in zh-CN and en (STYLE.md: "the UI renders
words from slugs"; the brief: every error says what to do next).

`problemText()` (pwa/static/js/i18n.js) looks up `problem.<slug>`; without it the user reads
the server's English detail, so a new slug in backend/errors.py without words fails here.

The words live in two dictionaries. The phone's (pwa/static/i18n) is precached and must stay
within the shell's 100 KB gzipped, so it holds the problems a phone can meet: everything but
the slugs raised only by the desk's packages (case workflow, visit reviews, printed
documents), whose words are in the desk's dictionary (pwa/static/desk/i18n), fetched when a
desk screen opens.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backend.errors import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "pwa" / "static" / "i18n"
DESK_I18N = ROOT / "pwa" / "static" / "desk" / "i18n"
BACKEND = ROOT / "backend"
# Problems the phone raises itself, with no server slug: no connection, and the signing
# key destroyed after too many wrong PINs (pwa/static/js/api.js, keys.js).
PHONE_ONLY = {"network", "pin-locked-out"}
# Packages whose endpoints only the desk screens call (the phone talks to auth, sync, visits,
# photos, devices and check-ins); feeds are read by other departments' systems, their tokens
# managed on the desk.
# Duties are taken only by desk acts (intake, reviews, approvals, spot checks).
# Complaints are handled on the desk; the public form answers only generic problems.
DESK_PACKAGES = {"workflow", "reviews", "documents", "feeds", "webhooks", "duties", "dossiers",
                 "complaints", "retention"}
# Slugs a phone package's module raises only for a desk caller: the county administrators'
# XLSForm import lives in forms, whose other endpoints the phone pulls.
DESK_ONLY_SLUGS = {"xlsform-unreadable", "xlsform-too-large", "xlsform-invalid",
                   # Two-step sign-in: its every screen (the sign-in's second step, the account
                   # screen) is a desk module that loads the desk's words (issue 22).
                   "second-factor-wrong", "second-factor-replayed", "second-factor-enrolled",
                   "second-factor-not-started", "second-factor-reset-self"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def problem_words(folder: Path, lang: str) -> dict[str, str]:
    words = json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))
    return {key.removeprefix("problem."): text for key, text in words.items()
            if key.startswith("problem.")}


def phone_words(lang: str) -> dict[str, str]:
    return problem_words(I18N, lang)


def desk_words(lang: str) -> dict[str, str]:
    return problem_words(DESK_I18N, lang)


def desk_only_slugs() -> set[str]:
    """Slugs written only in the desk's packages. A slug raised nowhere by name (a generic
    HTTP answer) or by any other package can reach a phone."""
    sources = {path: path.read_text(encoding="utf-8") for path in BACKEND.rglob("*.py")
               if path.name != "errors.py"}
    found = set()
    for slug in CATALOGUE:
        packages = {path.relative_to(BACKEND).parts[0] for path, source in sources.items()
                    if f'"{slug}"' in source}
        if packages and packages <= DESK_PACKAGES:
            found.add(slug)
    return found | DESK_ONLY_SLUGS


def test_the_desk_only_slugs_are_found():
    desk_only = desk_only_slugs()
    assert {"review-own-visit", "pledge-missing", "document-discloses-identity"} <= desk_only
    # Raised by phone packages as well, or by none by name: phones can meet them.
    assert desk_only.isdisjoint({"case-not-found", "conflict", "forbidden", "photo-too-large",
                                 "checkin-capture-stale", "body-too-large"})


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_problem_slug_has_words_on_the_phone_or_the_desk(lang):
    words = {**desk_words(lang), **phone_words(lang)}
    assert [slug for slug in CATALOGUE if not words.get(slug, "").strip()] == []


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_problem_a_phone_can_meet_has_words_on_the_phone(lang):
    words = phone_words(lang)
    reachable = set(CATALOGUE) - desk_only_slugs()
    assert sorted(slug for slug in reachable if not words.get(slug, "").strip()) == []


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_desk_only_problems_stay_out_of_the_phone_dictionary(lang):
    # The phone's dictionary is precached: desk words there only weigh on the shell, and
    # words in both dictionaries would be carried twice.
    assert sorted(set(phone_words(lang)) & desk_only_slugs()) == []
    assert sorted(set(desk_words(lang)) - desk_only_slugs()) == []


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_words_for_problems_that_do_not_exist(lang):
    assert sorted(set(phone_words(lang)) - set(CATALOGUE) - PHONE_ONLY) == []
    assert sorted(set(desk_words(lang)) - set(CATALOGUE)) == []


def test_the_chinese_words_are_chinese_and_the_english_english():
    zh = {**phone_words("zh-CN"), **desk_words("zh-CN")}
    en = {**phone_words("en"), **desk_words("en")}
    assert [slug for slug, text in zh.items() if not HAN.search(text)] == []
    assert [slug for slug, text in en.items() if HAN.search(text)] == []


# The casework desk shows a refused step as its rule (pwa/static/desk/workflow/case.js
# problemBox: `wf.rule.<slug>`, else the server's English detail). A refused move names both
# states instead (`transition-not-allowed`); `conflict` is generic, its detail says which.
WORKFLOW = BACKEND / "workflow"
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
