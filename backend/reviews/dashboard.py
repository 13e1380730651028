"""The supervisors' dashboard: per village and per field worker, and its charts (the
sums are taken by queries.py, the arithmetic by dashboard_rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement

from backend import clock
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.cases.rules import OpenCaseCounts
from backend.errors import ProblemError
from backend.jurisdictions import service as jurisdictions
from backend.reviews import charts, queries, queue
from backend.reviews import dashboard_rules as board


def _dashboard_scope(caller: Caller, village: str | None) -> str | None:
    """The jurisdiction the dashboard covers: the caller's, or a place inside it; None for a
    place outside it (an empty dashboard, as the queue answers)."""
    mine = caller.jurisdiction_code
    if not village or mine.startswith(village):
        return mine
    return village if village.startswith(mine) else None


def _dashboard_visits(caller: Caller, filters: dict
                      ) -> tuple[str | None, list[ColumnElement[bool]]]:
    """The dashboard's scope and the conditions picking its review rows."""
    queue.require(caller, queue.READERS, "see the supervisors' dashboard")
    scope = _dashboard_scope(caller, filters.get("village"))
    if scope is None:
        return None, []
    return scope, queries.dashboard_conditions(scope, filters.get("days"))


def _dashboard_cases(scope: str, now: datetime) -> tuple[
        dict[str, OpenCaseCounts], dict[str, OpenCaseCounts]]:
    """The open cases per village and per team member: untouched counts a change to the
    case or to a review of its visits."""
    return cases.open_case_counts(scope, now, board.untouched_cutoffs(now),
                                  queries.last_reviewed_at(scope))


def _metrics_view(metrics: board.Metrics) -> dict:
    return dict(metrics.__dict__)


def dashboard(caller: Caller, filters: dict) -> dict:
    """Per village and per field worker: visits, median duration, flags per 100 visits, the
    has-issues rate, overdue and untouched open cases (dashboard_rules has the arithmetic)."""
    scope, where = _dashboard_visits(caller, filters)
    now = clock.now()
    if scope is None:
        totals, villages, members = board.metrics(board.NO_VISITS, board.NO_CASES), {}, {}
    else:
        village_cases, member_cases = _dashboard_cases(scope, now)
        visits, member_visits = queries.visit_totals(where)
        totals = board.metrics(visits.pop(queries.TOTAL, board.NO_VISITS),
                               board.added_cases(village_cases.values()))
        villages = board.grouped(visits, village_cases)
        members = board.grouped(member_visits, member_cases)
    place_names = jurisdictions.names(set(villages) | ({scope} if scope else set()))
    people = auth.staff_cards(members)
    return {
        "scope_code": scope, "scope_name": place_names.get(scope) if scope else None,
        "generated_at": now, "received_within_days": filters.get("days"),
        "totals": _metrics_view(totals),
        "villages": [{"code": code, "name": place_names.get(code, code),
                      **_metrics_view(m)} for code, m in villages.items()],
        "field_workers": sorted(
            ({"user_id": uid, "name": people[uid].display_name if uid in people else None,
              **_metrics_view(m)} for uid, m in members.items()),
            key=lambda row: (row["name"] or "", row["user_id"])),
        "charts": [{"metric": metric, "title_zh": board.WORDS["zh-CN"][metric],
                    "title_en": board.WORDS["en"][metric],
                    "url": f"/api/reviews/dashboard/charts/{metric}.svg"}
                   for metric in board.CHARTS],
    }


def dashboard_chart(caller: Caller, metric: str, language: str, filters: dict) -> str:
    """One dashboard chart, per village, as an SVG document in ``language``."""
    if metric not in board.CHARTS:
        raise ProblemError("not-found", "No such chart; the dashboard lists its charts.")
    scope, where = _dashboard_visits(caller, filters)
    visits = queries.visit_totals(where)[0] if scope is not None else {}
    visits.pop(queries.TOTAL, None)
    villages = board.grouped(visits, _dashboard_cases(scope, clock.now())[0]
                             ) if scope is not None else {}
    place_names = jurisdictions.names(set(villages))
    words = board.WORDS[language]
    fields, unit = board.CHARTS[metric]
    return charts.bar_chart(
        words[metric], words[f"desc_{metric}"],
        [place_names.get(code, code) for code in villages],
        [charts.Series(words[field] if len(fields) > 1 else words[metric],
                       [getattr(m, field) for m in villages.values()]) for field in fields],
        unit=unit, no_data=words["no_data"], language=language)
