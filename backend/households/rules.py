"""Pure rules about households and members: identity checks (what a role may see of them is
backend.privacy.rules, the one masker)."""

from __future__ import annotations

from datetime import date
from typing import Any

from backend.forms.identity import is_valid_mobile, is_valid_resident_id

RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "sibling", "other")


def birth_date_and_sex(id_number: str) -> tuple[date, str]:
    """GB 11643-1999: digits 7-14 are the birth date; the 17th is odd for men."""
    born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    return born, ("male" if int(id_number[16]) % 2 else "female")


def member_problems(member: dict[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    id_number = member.get("id_number")
    if id_number and not is_valid_resident_id(id_number):
        problems["id_number"] = ["不是有效的身份证号 (not a valid resident ID: length, "
                                 "birth date or check digit)"]
    phone = member.get("phone")
    if phone and not is_valid_mobile(phone):
        problems["phone"] = ["不是有效的手机号 (11 digits starting 13-19)"]
    return problems


def head_of(members: list[dict[str, Any]]) -> dict[str, Any] | None:
    for member in members:
        if member.get("relation") == "head":
            return member
    return members[0] if members else None
