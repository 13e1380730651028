"""The masker with its form definitions looked up: what read sides call for survey content."""

from __future__ import annotations

from typing import Any

from backend.auth.rules import Caller
from backend.errors import ProblemError
from backend.forms import service as forms
from backend.privacy import rules


def _definition(form_id: Any, form_version: Any) -> dict | None:
    if not isinstance(form_id, str) or not isinstance(form_version, int) \
            or isinstance(form_version, bool):
        return None
    try:
        return forms.get_definition(form_id, form_version)
    except (ProblemError, ValueError, OSError):
        return None  # an unknown form: its answers are masked by shape alone


def survey_answers(caller: Caller, form_id: Any, form_version: Any, data: Any) -> Any:
    """Answers to one form as the caller may see them."""
    return rules.mask_answers(data, _definition(form_id, form_version), caller)


def visit_content(caller: Caller, content: Any) -> Any:
    """A visit's attested content (``data`` plus stamps, photos...) as the caller may see it;
    the form is the one the content names."""
    if not isinstance(content, dict):
        return rules.mask_values(content, caller)
    masked = rules.mask_values({k: v for k, v in content.items() if k != "data"}, caller)
    if "data" in content:
        masked["data"] = survey_answers(caller, content.get("form_id"),
                                        content.get("form_version"), content["data"])
    return masked
