"""Pure arithmetic of the supervisors' dashboard (issue 10): per village and per field worker,
visits, median visit duration, flags per 100 visits, the has-issues rate, overdue cases and
cases untouched for 30, 60 and 120 days.

Definitions (the API documents the same words):
- a visit counts once for its village and once for each member of its team;
- duration: end stamp − start stamp of the latest revision (device clock); visits missing a
  stamp, or ending before they start, have no duration and are left out of the median;
- flags per 100 visits: kinds of integrity flag raised on the latest revisions, per 100 visits;
- has-issues rate: the share of visits a reviewer sent back at least once (0..1);
- overdue: an open case past its deadline (cases.rules.is_overdue);
- untouched for N days: an open case whose last change (to the case or to a review of its
  visits) is at least N days old; the counts are cumulative (≥ 30 includes ≥ 60).

The database adds up the visits (a county holds 100,000 of them: reviews.queries) and
counts the open cases (cases.service, against ``untouched_cutoffs``); the arithmetic on
those sums is here. No Flask, no SQLAlchemy.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from backend.cases.rules import OpenCaseCounts

UNTOUCHED_DAYS = (30, 60, 120)


class VisitTotals(NamedTuple):
    """One group's visits as the database adds them up."""

    visits: int
    flags: int
    sent_back: int  # visits sent back at least once
    median_duration_minutes: float | None  # of the visits with a duration; unrounded


NO_VISITS = VisitTotals(0, 0, 0, None)


class GroupTotals(NamedTuple):
    """Some visits as the database adds them up, with their durations (minutes) for the
    median of any whole they are part of."""

    visits: int
    flags: int
    sent_back: int
    durations: Sequence[float]


def added_up(parts: Iterable[GroupTotals]) -> VisitTotals:
    """The totals of several groups of visits: sums, and the median of all their durations
    (statistics.median: the middle one, or the mean of the two middle ones)."""
    visits = flags = sent_back = 0
    durations: list[float] = []
    for part in parts:
        visits += part.visits
        flags += part.flags
        sent_back += part.sent_back
        durations.extend(part.durations)
    return VisitTotals(visits, flags, sent_back,
                       statistics.median(durations) if durations else None)


NO_CASES = OpenCaseCounts(0, 0, (0,) * len(UNTOUCHED_DAYS))


@dataclass(frozen=True)
class Metrics:
    visits: int
    median_duration_minutes: float | None
    flags_per_100_visits: float | None
    has_issues_rate: float | None
    open_cases: int
    overdue_cases: int
    untouched_30_days: int
    untouched_60_days: int
    untouched_120_days: int


def untouched_cutoffs(now: datetime) -> tuple[datetime, ...]:
    """For each of UNTOUCHED_DAYS, the latest last change that leaves a case untouched that
    long: a case untouched for N whole days, ``(now - last change).days >= N``, is exactly one
    last changed at or before ``now - N days`` (a change in the future, a skewed clock, is
    0 days old). The database counts the cases against these."""
    return tuple(now - timedelta(days=days) for days in UNTOUCHED_DAYS)


def added_cases(parts: Iterable[OpenCaseCounts]) -> OpenCaseCounts:
    """The counts of several groups of cases together (the villages' make the total)."""
    open_cases = overdue = 0
    untouched = [0] * len(UNTOUCHED_DAYS)
    for part in parts:
        open_cases += part.open
        overdue += part.overdue
        untouched = [total + n for total, n in zip(untouched, part.untouched, strict=True)]
    return OpenCaseCounts(open_cases, overdue, tuple(untouched))


def metrics(visits: VisitTotals, cases: OpenCaseCounts) -> Metrics:
    count = visits.visits
    median = visits.median_duration_minutes
    untouched = dict(zip(UNTOUCHED_DAYS, cases.untouched, strict=True))
    return Metrics(
        visits=count,
        median_duration_minutes=round(median, 1) if median is not None else None,
        flags_per_100_visits=round(100 * visits.flags / count, 1) if count else None,
        has_issues_rate=round(visits.sent_back / count, 3) if count else None,
        open_cases=cases.open, overdue_cases=cases.overdue,
        untouched_30_days=untouched[30], untouched_60_days=untouched[60],
        untouched_120_days=untouched[120])


def grouped(visits: dict[str, VisitTotals], cases: dict[str, OpenCaseCounts]
            ) -> dict[str, Metrics]:
    """Metrics per key (a village code, a user id), sorted by key, for every key with
    visits or open cases."""
    return {key: metrics(visits.get(key, NO_VISITS), cases.get(key, NO_CASES))
            for key in sorted(set(visits) | set(cases))}


# --- the charts drawn from these metrics -----------------------------------------------------

# metric slug -> the Metrics fields drawn (one bar series each), the unit, words per language.
CHARTS: dict[str, tuple[tuple[str, ...], str]] = {
    "flags_per_100_visits": (("flags_per_100_visits",), "number"),
    "has_issues_rate": (("has_issues_rate",), "percent"),
    "untouched_cases": (("untouched_30_days", "untouched_60_days", "untouched_120_days"),
                        "count"),
}

WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "flags_per_100_visits": "每百次入户的异常标记数",
        "has_issues_rate": "退回补正率",
        "untouched_cases": "长期未处理的在办案件",
        "untouched_30_days": "≥30 天", "untouched_60_days": "≥60 天",
        "untouched_120_days": "≥120 天",
        "desc_flags_per_100_visits": "按村（社区）列出每百次入户产生的完整性异常标记数量。",
        "desc_has_issues_rate": "按村（社区）列出被初审退回补正的入户所占比例。",
        "desc_untouched_cases": "按村（社区）列出 30、60、120 天以上无任何处理的在办案件数。",
        "no_data": "暂无数据", "village": "村（社区）",
    },
    "en": {
        "flags_per_100_visits": "Integrity flags per 100 visits",
        "has_issues_rate": "Visits sent back with issues",
        "untouched_cases": "Open cases untouched",
        "untouched_30_days": "≥ 30 days", "untouched_60_days": "≥ 60 days",
        "untouched_120_days": "≥ 120 days",
        "desc_flags_per_100_visits": "Integrity flags raised per 100 home visits, by village.",
        "desc_has_issues_rate": "Share of home visits a reviewer sent back, by village.",
        "desc_untouched_cases": "Open cases with no change for 30, 60 and 120 days or more, "
                                "by village.",
        "no_data": "No data yet", "village": "Village",
    },
}
LANGUAGES = tuple(WORDS)
