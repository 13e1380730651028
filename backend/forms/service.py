"""Published form definitions: shipped as files, immutable once published.

`published.lock.json` records the SHA-256 of every published version; a test fails if a
published file changes, so a submission's form version always means the same form.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from backend.auth.rules import Caller
from backend.errors import ProblemError
from backend.forms.definition import DEFINITIONS_DIR, check_definition
from backend.forms.validation import validate_submission
from backend.sync.registry import PullSlice

LOCK_FILE = DEFINITIONS_DIR / "published.lock.json"


def _file_of(form_id: str, version: int) -> Path:
    return DEFINITIONS_DIR / f"{form_id}.v{version}.json"


@lru_cache(maxsize=64)
def _load(form_id: str, version: int) -> dict:
    published = json.loads(LOCK_FILE.read_text(encoding="utf-8"))
    key = f"{form_id}.v{version}"
    if key not in published:
        raise ProblemError("form-not-found", f"Form {form_id} version {version} is not published.")
    raw = _file_of(form_id, version).read_bytes()
    if hashlib.sha256(raw).hexdigest() != published[key]:
        raise RuntimeError(f"published form {key} was changed after publication")
    definition = json.loads(raw)
    problems = check_definition(definition)
    if problems:
        raise RuntimeError(f"published form {key} is invalid: {problems[:3]}")
    return definition


def get_definition(form_id: str, version: int) -> dict:
    if not isinstance(form_id, str) or not form_id.replace("_", "").isalnum():
        raise ProblemError("form-not-found", "No such form.")
    return _load(form_id, int(version))


@lru_cache(maxsize=1)
def _published_keys() -> tuple[str, ...]:
    return tuple(sorted(json.loads(LOCK_FILE.read_text(encoding="utf-8"))))


def published() -> list[dict]:
    keys = _published_keys()
    result = []
    for key in sorted(keys):
        form_id, version = key.rsplit(".v", 1)
        result.append(get_definition(form_id, int(version)))
    return result


@lru_cache(maxsize=1)
def published_fingerprint() -> str:
    return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()[:12]


def validate_answers(definition: dict, data: dict, context: dict) -> tuple[dict, dict]:
    return validate_submission(definition, data, context)


def pull_forms(_caller: Caller, state: dict[str, str], _page_size: int) -> PullSlice:
    """The pull's slice of published forms: all of them when any changed."""
    fingerprint = published_fingerprint()
    answer = {"forms": published()} if fingerprint != state["forms"] else {}
    return PullSlice(answer, {"forms": fingerprint})
