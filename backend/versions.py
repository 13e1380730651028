"""Optimistic concurrency on edits (STYLE.md): an editable record has a `version`, which its
answer carries as the ETag (the number in quotes) and an edit sends back as If-Match. A
missing If-Match is 428 `precondition-required`, a stale one 412 `stale-version`; both carry
the record's current version. errors.IF_MATCH_PARAMETER and errors.ETAG_HEADER describe them
in the API's documentation.
"""

from __future__ import annotations

from backend.errors import ProblemError


def etag(version: int) -> dict[str, str]:
    """The ETag header of a record at ``version``, for a route's answer."""
    return {"ETag": f'"{version}"'}


def check_if_match(if_match: str | None, version: int, what: str) -> None:
    """Refuse an edit whose If-Match is missing or names another version than the record's;
    a weak validator (W/"3") matches as its strong form. ``what`` names the record in the
    problem's detail ("case", "review", "follow-up")."""
    if not if_match:
        raise ProblemError("precondition-required",
                           f"Send If-Match with the {what}'s version (from its ETag).",
                           extra={"current_version": version})
    if if_match.strip().removeprefix("W/").strip('"') != str(version):
        raise ProblemError("stale-version",
                           f"Someone changed this {what} after you opened it. Reload it, "
                           "check their change, then apply yours again.",
                           extra={"current_version": version})
