"""Pure rules for cases: kinds, statuses, deadlines and who may be on a visit team."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

KINDS = ("dibao", "low_income_margin", "extreme_poverty", "temporary", "special_case")
# A periodic review (动态管理, 004) of a current recipient is a case too, so it has a version,
# a timeline and a visit team; it is opened by the case workflow, never applied for.
PERIODIC_REVIEW = "periodic_review"
ALL_KINDS = (*KINDS, PERIODIC_REVIEW)
TEMPORARY_SUBTYPES = ("emergency", "expenditure")
CHANNELS = ("window", "online", "village_committee")
STATUSES = ("accepted", "investigating", "panel_review", "reviewing", "public_notice",
            "approved", "refused", "stopped", "withdrawn", "continued", "adjusted")
OPEN_STATUSES = ("accepted", "investigating", "panel_review", "reviewing", "public_notice")


def kind_problems(kind: str, temporary_subtype: str | None) -> dict[str, list[str]]:
    if kind == "temporary" and temporary_subtype not in TEMPORARY_SUBTYPES:
        return {"temporary_subtype": ["临时救助需选择急难型或支出型 (emergency or expenditure)"]}
    if kind != "temporary" and temporary_subtype is not None:
        return {"temporary_subtype": ["only temporary aid has a subtype"]}
    return {}


EMERGENCY_HELP_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class Deadline:
    """When a decision is due: a date (working days, Asia/Shanghai) or, for emergency
    aid, an instant (``due_at``, UTC). Exactly one of the two is set."""

    working_days: int | None
    due_on: date | None
    due_at: datetime | None = None


def deadline_for(kind: str, temporary_subtype: str | None, applied_at: datetime,
                 settings: dict[str, Any], add_working_days: Callable[[date, int], date],
                 tz: tzinfo) -> Deadline:
    """When the decision is due (DOMAIN.md deadlines, 001/002).

    Emergency aid (急难型) must help within 24 hours of intake (002): its deadline is the
    instant ``applied_at + 24 h``, not a calendar date. Other temporary aid has
    ``temporary_deadline_working_days`` (001: ≤ 15; 002: 12); dibao, extreme poverty and
    the rest the dibao deadline (001: 20; 002: 12), counted from the intake date in `tz`.
    """
    if kind == "temporary" and temporary_subtype == "emergency":
        return Deadline(None, None, applied_at.astimezone(UTC) + EMERGENCY_HELP_WITHIN)
    if kind == "temporary":
        days = settings["temporary_deadline_working_days"]
    else:
        days = settings["dibao_deadline_working_days"]
    return Deadline(days, add_working_days(applied_at.astimezone(tz).date(), days))


@dataclass(frozen=True)
class TeamCandidate:
    user_id: str
    roles: frozenset[str]
    township_code: str


def team_problems(candidates: list[TeamCandidate], case_township: str,
                  relative_user_ids: set[str], min_size: int) -> list[tuple[str, str]]:
    """Why a proposed visit team is not acceptable (empty when it is).

    004: at least two staff visit every applicant household; a declared relative
    of the household may not investigate it (conflict of interest).
    """
    problems: list[tuple[str, str]] = []
    distinct = {c.user_id for c in candidates}
    if len(distinct) < min_size:
        problems.append(("visit-team-too-small",
                         f"入户调查至少需要 {min_size} 名调查员 "
                         f"(at least {min_size} investigators)"))
    for candidate in candidates:
        if "field_worker" not in candidate.roles or candidate.township_code != case_township:
            problems.append(("visit-team-not-field-worker",
                             f"{candidate.user_id} is not a field worker of this township"))
        if candidate.user_id in relative_user_ids:
            problems.append(("visit-team-conflict-of-interest",
                             f"{candidate.user_id} is a declared relative of the household"))
    return problems


def is_overdue(deadline_on: date | None, deadline_at: datetime | None, status: str,
               now: datetime, tz: tzinfo) -> bool:
    """An open case past its due instant, or past the end of its due date in `tz`."""
    if status not in OPEN_STATUSES:
        return False
    if deadline_at is not None:
        return now > deadline_at
    return deadline_on is not None and now.astimezone(tz).date() > deadline_on
