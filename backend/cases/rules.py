"""Pure rules for cases: kinds, statuses, deadlines and who may be on a visit team."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

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
# An application is dated by the intake desk: not before the scheme's modern rules (the
# 2007 national dibao roll-out; 2000 leaves room for migrated records), and not in the
# future beyond a device's clock drift. Dates outside also overflow the deadline arithmetic.
EARLIEST_APPLIED_AT = datetime(2000, 1, 1, tzinfo=UTC)
APPLIED_AT_CLOCK_DRIFT = timedelta(days=1)


def applied_at_problems(applied_at: datetime, now: datetime) -> dict[str, list[str]]:
    """Why an application date is not plausible (empty when it is)."""
    if applied_at < EARLIEST_APPLIED_AT:
        return {"applied_at": ["申请日期不能早于 2000 年 (before 2000-01-01)"]}
    if applied_at > now + APPLIED_AT_CLOCK_DRIFT:
        return {"applied_at": ["申请日期不能晚于今天 (in the future)"]}
    return {}


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


class OpenCaseCounts(NamedTuple):
    """Open cases as a dashboard counts them (service.open_case_counts)."""

    open: int
    overdue: int  # past their deadline (is_overdue)
    untouched: tuple[int, ...]  # last touched at or before each cutoff, in the caller's order


# --- the case number people read (issue 21) ---------------------------------------------------

# A township's pattern is a setting (``case_number_pattern``); placeholders: {township} (its
# name without 镇/乡/街道), {year} (of intake, Beijing), {kind} (the short word below),
# {seq} (the count within township, year and kind; format it, e.g. {seq:04d}).
DEFAULT_CASE_NUMBER_PATTERN = "{township}〔{year}〕{kind}第 {seq:04d} 号"
KIND_SHORT = {"dibao": "低保", "low_income_margin": "低边", "extreme_poverty": "特困",
              "temporary": "临救", "special_case": "特事", PERIODIC_REVIEW: "复核",
              # complaints (举报) share the township's number pattern and counter
              "complaint": "举报"}
_TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")


def township_short_name(name: str) -> str:
    """文屏镇 → 文屏; 龙头山镇 → 龙头山; 砚池街道 → 砚池 (a name that is only a suffix stays)."""
    for suffix in _TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def case_number(pattern: str, township_name: str, year: int, kind: str, seq: int) -> str:
    """The case number, e.g. ``文屏〔2026〕低保第 0012 号``; a pattern that cannot be filled
    (an unknown placeholder) falls back to the default, so a case always gets a number."""
    values = {"township": township_short_name(township_name), "year": year,
              "kind": KIND_SHORT.get(kind, kind), "seq": seq}
    try:
        return pattern.format(**values)[:40]
    except (KeyError, IndexError, ValueError):
        return DEFAULT_CASE_NUMBER_PATTERN.format(**values)


# --- choosing a visit team (issue 21; 004's 人情保 concern) ------------------------------------

@dataclass(frozen=True)
class Investigator:
    """A field worker of the township as the team assignment shows them."""

    user_id: str
    open_cases: int  # open cases whose team they are on: the fewer, the freer
    is_relative: bool  # a declared relative of this household: refused (004)


def suggest_team(investigators: list[Investigator], joint_visits: dict[frozenset[str], int],
                 size: int) -> tuple[str, ...]:
    """The team to suggest: among those who are not the household's relatives, the group of
    ``size`` that has visited this village together least often (so the same two do not
    always visit the same village), then the least loaded, then by id (stable). Empty when
    too few can go."""
    from itertools import combinations

    eligible = sorted((i for i in investigators if not i.is_relative), key=lambda i: i.user_id)
    if len(eligible) < size:
        return ()
    best = min(combinations(eligible, size), key=lambda team: (
        max((joint_visits.get(frozenset(pair), 0) for pair in combinations(
            [i.user_id for i in team], 2)), default=0),
        sum(i.open_cases for i in team),
        tuple(i.user_id for i in team)))
    return tuple(i.user_id for i in best)


def joint_visits(teams: list[set[str]]) -> dict[frozenset[str], int]:
    """How often each pair of investigators was on the same team (past cases of a village)."""
    from itertools import combinations

    counts: dict[frozenset[str], int] = {}
    for team in teams:
        for pair in combinations(sorted(team), 2):
            key = frozenset(pair)
            counts[key] = counts.get(key, 0) + 1
    return counts
