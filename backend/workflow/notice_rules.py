"""Pure rules of the notices (公示, 004): when a notice is up, who it lists, and which
notices a jurisdiction posts.

004 posts three: the review-stage notice (审核公示, before the decision), the approval-stage
notice (审批公示, of the decision) and the standing notice (长期公示) of current recipients;
002 drops the review-stage one (取消…审核阶段公示), a setting per jurisdiction
(``is_review_stage_notice_held``). Each lists only the applicant's name, the household's
adult members (43号: minors never) and the amount (004).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


def notice_ends_on(starts_on: date, days: int) -> date:
    """The last day the notice is up: posted on ``starts_on`` and shown for ``days`` days."""
    return starts_on + timedelta(days=days - 1)


def notice_is_over(ends_on: date | None, today: date | None) -> bool:
    return ends_on is not None and today is not None and today > ends_on


def age_on(birth_on: date, on: date) -> int:
    return on.year - birth_on.year - ((on.month, on.day) < (birth_on.month, birth_on.day))


def notice_members(members: Iterable[tuple[str, str, date | None]], on: date
                   ) -> list[dict[str, str]]:
    """Members shown on a public notice: adults only (43号: minors are never listed); a
    member with no known birth date is left out too (privacy first, 004)."""
    return [{"name": name, "relation": relation} for name, relation, born in members
            if born is not None and age_on(born, on) >= 18]


def month_of(day: date) -> date:
    """The first day of ``day``'s month: a standing notice is printed once a month."""
    return day.replace(day=1)


def objection_contact(office: str, phone: str, address: str) -> str | None:
    """Where objections go, as a notice prints it: the township's office, its line and its
    address (004: every notice says where to object). None when the township has not set
    both (the notice is not fit to post yet)."""
    if not phone or not address:
        return None
    return f"{office}，电话 {phone}，地址 {address}"


def targets_without_the_other_notice_path(targets: list[str], status: str, kind: str,
                                          is_review_stage_notice_held: bool) -> list[str]:
    """From ``reviewing`` a monthly case goes to its review-stage notice where one is held
    (004; a special case always, 001) and straight to the decision where 002 drops it: the
    desk offers only the move the jurisdiction's setting allows."""
    if status != "reviewing" or kind not in MONTHLY:
        return targets
    held = is_review_stage_notice_held or kind == "special_case"
    dropped = "approved" if held else "public_notice"
    return [target for target in targets if target != dropped]


MONTHLY = ("dibao", "extreme_poverty", "low_income_margin", "special_case")
