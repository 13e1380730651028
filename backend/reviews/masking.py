"""The one place where review answers are masked per role.

It uses the one role-aware masker (backend.privacy.rules: shown_id and shown_phone, with the
Caller's sees_full_id / sees_full_phone), so review answers (diff, comments' context) are masked
exactly as visit details, pulls and conflicts are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.auth.rules import Caller
from backend.privacy.rules import shown_id, shown_phone
from backend.reviews.rules import field_format


def mask_value(value: Any, fmt: str | None, caller: Caller) -> Any:
    if not isinstance(value, str):
        return value
    if fmt == "resident_id":
        return shown_id(value, caller.sees_full_id)
    if fmt == "mobile":
        return shown_phone(value, caller.sees_full_phone)
    return value


def mask_field(path: str, value: Any, definition: Mapping[str, Any], caller: Caller) -> Any:
    """``value`` of the field at ``path`` as ``caller`` may see it."""
    return mask_value(value, field_format(path, definition), caller)
