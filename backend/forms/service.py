"""Published form definitions: shipped as files or imported from XLSForm, immutable once published.

`published.lock.json` records the SHA-256 of every shipped version; a test fails if a
published file changes, so a submission's form version always means the same form. Versions
imported by a county administrator (``import_form``) are rows of ``form_version``, never changed
or deleted: a new version reaches phones on their next pull, and a draft started on an older
version still validates against the version it names.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.errors import ProblemError
from backend.extensions import db
from backend.forms import queries
from backend.forms.definition import DEFINITIONS_DIR, check_definition
from backend.forms.models import FormVersion
from backend.forms.validation import validate_submission
from backend.forms.xlsform import MAX_VERSION, import_xlsx
from backend.forms.xlsform_reader import XlsformRefused
from backend.jurisdictions import rules as places
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
    if f"{form_id}.v{int(version)}" in _published_keys():
        return _load(form_id, int(version))
    imported = None
    if 1 <= int(version) <= MAX_VERSION:  # a huge number never reaches the database
        imported = queries.imported_definition(form_id, int(version))
    if imported is None:
        raise ProblemError("form-not-found", f"Form {form_id} version {version} is not published.")
    return imported


@lru_cache(maxsize=1)
def _published_keys() -> tuple[str, ...]:
    return tuple(sorted(json.loads(LOCK_FILE.read_text(encoding="utf-8"))))


def shipped() -> list[dict]:
    """The versions shipped as files (no database needed)."""
    result = []
    for key in sorted(_published_keys()):
        form_id, version = key.rsplit(".v", 1)
        result.append(_load(form_id, int(version)))
    return result


def published() -> list[dict]:
    return shipped() + queries.imported_definitions()


def versions(caller: Caller) -> list[dict]:
    """Every published version in brief, with who imported it and when (administrators: the
    form desk); the newest of each form first."""
    if not caller.has(roles.ADMIN):
        raise ProblemError("forbidden", "Only administrators see who imported forms.")
    imported = {(form_id, version): (filename, at, by)
                for form_id, version, filename, at, by in queries.imported_rows()}
    names = auth.display_names({by for _, _, by in imported.values()})
    summaries = []
    for definition in published():
        key = (definition["form_id"], definition["version"])
        filename, at, by = imported.get(key, (None, None, None))
        summaries.append({
            "form_id": key[0], "version": key[1], "title": definition["title"],
            "question_count": sum(len(s["fields"]) for s in definition["sections"]),
            "source": "imported" if key in imported else "shipped",
            "source_filename": filename, "imported_at": at,
            "imported_by": names.get(by) if by else None})
    return sorted(summaries, key=lambda s: (s["form_id"], -s["version"]))


@lru_cache(maxsize=1)
def _shipped_fingerprint() -> str:
    return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()


def published_fingerprint() -> str:
    """Changes when a shipped version is added or a version is imported."""
    marker = f"{_shipped_fingerprint()}|{queries.imported_marker()}"
    return hashlib.sha256(marker.encode()).hexdigest()[:12]


def validate_answers(definition: dict, data: dict, context: dict) -> tuple[dict, dict]:
    return validate_submission(definition, data, context)


def pull_forms(_caller: Caller, state: dict[str, str], _page_size: int) -> PullSlice:
    """The pull's slice of published forms: all of them when any changed."""
    fingerprint = published_fingerprint()
    answer = {"forms": published()} if fingerprint != state["forms"] else {}
    return PullSlice(answer, {"forms": fingerprint})


# ---------------------------------------------------------------- XLSForm import

def _latest_version(form_id: str) -> int:
    shipped = [int(key.rsplit(".v", 1)[1]) for key in _published_keys()
               if key.rsplit(".v", 1)[0] == form_id]
    return max([queries.latest_imported_version(form_id), *shipped])


def _refusal(error: XlsformRefused) -> ProblemError:
    slug = {"too-large": "xlsform-too-large", "unreadable": "xlsform-unreadable"}.get(
        error.kind, "xlsform-invalid")
    errors: dict[str, list[str]] = {}
    for problem in error.problems:
        key = f"{problem.sheet}:{problem.row or '-'}:{problem.column or '-'}"
        errors.setdefault(key, []).append(problem.reason)
    first = error.problems[0]
    where = f"{first.sheet} row {first.row}, column {first.column}" if first.row else first.sheet
    return ProblemError(slug, f"{len(error.problems)} problem(s); the first: {where}: "
                              f"{first.reason}", errors,
                        extra={"rows": [problem.as_dict() for problem in error.problems]})


def import_form(caller: Caller, data: bytes, filename: str | None) -> dict:
    """Store an uploaded XLSForm as the form's next version (county administrators only)."""
    if not caller.has(roles.ADMIN):
        raise ProblemError("forbidden", "Only administrators import forms.")
    if places.level_of(caller.jurisdiction_code) != "county":
        raise ProblemError("county-level-only", "A form is used in every township, so only "
                                                "county-level administrators import one.")
    try:
        definition = import_xlsx(data, filename, latest_version_of=_latest_version)
    except XlsformRefused as error:
        raise _refusal(error) from error
    raw = json.dumps(definition, ensure_ascii=False, sort_keys=True).encode()
    row = FormVersion(form_id=definition["form_id"], version=definition["version"],
                      definition=definition, definition_sha256=hashlib.sha256(raw).hexdigest(),
                      source_filename=(filename or "")[:200] or None, imported_at=clock.now(),
                      imported_by_id=caller.user_id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as error:
        raise ProblemError("conflict", "Another import of this form took that version number; "
                                       "import again.") from error
    audit.record("form.imported", "form_version", f"{row.form_id}.v{row.version}",
                 after={"form_id": row.form_id, "version": row.version,
                        "definition_sha256": row.definition_sha256,
                        "source_filename": row.source_filename},
                 jurisdiction_code=caller.jurisdiction_code)
    return definition
