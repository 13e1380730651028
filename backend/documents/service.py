"""Render a printable document: validate its content, refuse identity numbers, draw it.

Callers (the case workflow) build ``content`` from their own data; this package keeps
nothing. A bad content is the caller's problem to answer: ``document-content-invalid``
(with per-field errors) or ``document-discloses-identity`` (the paths of the fields that
hold something shaped like a resident ID or a mobile number), both 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from backend.documents import page, rules
from backend.documents.schemas import SCHEMAS
from backend.errors import ProblemError, field_paths

KINDS = rules.KINDS
FORMATS = rules.FORMATS
MIMETYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}
# The HTML page's own policy: set it on the response instead of the app-wide one.
HTML_CONTENT_SECURITY_POLICY = page.CONTENT_SECURITY_POLICY


def compose(kind: str, content: Mapping[str, Any], lang: str = "zh-CN") -> rules.Document:
    """The validated, checked document, not yet drawn (its ``text_lines()`` are what shows)."""
    if kind not in rules.KINDS:
        raise ValueError(f"unknown document kind {kind!r}; one of {', '.join(rules.KINDS)}")
    if lang not in rules.LANGS:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(rules.LANGS)}")
    try:
        loaded = SCHEMAS[kind]().load(dict(content))
    except ValidationError as error:
        raise ProblemError("document-content-invalid",
                           f"The {kind} cannot be printed with this content.",
                           errors=field_paths(error.messages)) from error
    refuse_identity_numbers(loaded)
    return rules.compose(kind, loaded, lang)


def refuse_identity_numbers(content: Mapping[str, Any]) -> None:
    """422 ``document-discloses-identity`` when ``content`` holds something shaped like a
    resident ID or a mobile number. Callers run it on text that a document will print when
    that text is first given (a refusal's reasons), so the document can always print."""
    leaks = rules.identity_numbers_in(content)
    if leaks:
        raise ProblemError(
            "document-discloses-identity",
            "A printed document may not hold a resident ID or a mobile number.",
            errors={path: [f"looks like a {shape.replace('_', ' ')}"]
                    for path, shape in sorted(leaks.items())})


def render(kind: str, content: Mapping[str, Any], fmt: str,
           lang: str = "zh-CN") -> tuple[bytes, str]:
    """``(body, mimetype)`` of document ``kind`` as ``fmt`` ("pdf" or "html")."""
    if fmt not in rules.FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(rules.FORMATS)}")
    document = compose(kind, content, lang)
    if fmt == "pdf":
        # ReportLab and fontTools (about 15 MB) load with the first PDF, not in every web
        # worker at start (issue 23, memory).
        from backend.documents import pdf

        body = pdf.render(document)
    else:
        body = page.render(document)
    return body, MIMETYPES[fmt]


def filename(kind: str, case_no: str, fmt: str) -> str:
    """An ASCII file name for Content-Disposition: ``refusal_letter-<case_no>.pdf``."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_"
                   for ch in case_no)[:64]
    return f"{kind}-{safe}.{fmt}"

