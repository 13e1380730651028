"""The review package's SQL: the queue's rows under the caller's scope and filters (and
its keyset order, which the export shares), the export's columns, and the supervisors'
dashboard added up by the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.sql.selectable import Subquery

from backend import clock
from backend.auth.rules import Caller
from backend.dbtypes import SQLITE_VALUES, UtcDateTime, sqlite_values
from backend.extensions import db
from backend.jurisdictions.scope import within
from backend.reviews import dashboard_rules as board
from backend.reviews.models import VisitReview


def visible(caller: Caller) -> Select:
    return select(VisitReview).where(within(VisitReview.jurisdiction_code, caller))


def filtered(caller: Caller, filters: dict) -> Select:
    query = visible(caller)
    if filters.get("village"):
        query = query.where(within(VisitReview.jurisdiction_code, filters["village"]))
    if filters.get("member"):
        query = query.where(VisitReview.team_ids.contains(f",{filters['member']},",
                                                          autoescape=True))
    if filters.get("flag"):
        query = query.where(VisitReview.flag_codes.contains(f",{filters['flag']},",
                                                            autoescape=True))
    now = clock.now()
    if filters.get("min_age_days") is not None:
        query = query.where(VisitReview.received_at <= now - timedelta(
            days=filters["min_age_days"]))
    if filters.get("max_age_days") is not None:
        query = query.where(VisitReview.received_at > now - timedelta(
            days=filters["max_age_days"] + 1))
    return query


def after_key(rank: int, received: datetime, last_id: str) -> ColumnElement[bool]:
    """Rows after (rank, received, id) in the queue's order (keyset paging): one row-value
    comparison, which PostgreSQL answers with a range scan of the queue's index at any depth
    (the equivalent OR of ANDs made it filter row by row)."""
    return tuple_(VisitReview.risk_rank, VisitReview.received_at, VisitReview.submission_id
                  ) > tuple_(literal(rank), literal(received, UtcDateTime()), literal(last_id))


QUEUE_ORDER = (VisitReview.risk_rank, VisitReview.received_at, VisitReview.submission_id)


def export_rows(caller: Caller, filters: dict, batch: int) -> Select:
    """The first batch of the export's rows (the queue's filters and order, its columns for
    a spreadsheet); the next batch adds ``after_key`` of the last row."""
    query = filtered(caller, filters)
    if filters.get("state"):
        query = query.where(VisitReview.state == filters["state"])
    return query.with_only_columns(
        VisitReview.submission_id, VisitReview.case_id, VisitReview.household_id,
        VisitReview.jurisdiction_code, VisitReview.state, VisitReview.revision,
        VisitReview.risk, VisitReview.risk_rank, VisitReview.flag_codes, VisitReview.team_ids,
        VisitReview.received_at, VisitReview.started_at, VisitReview.ended_at,
        VisitReview.sent_back_count).order_by(*QUEUE_ORDER).limit(batch)


def dashboard_conditions(scope: str, days: int | None) -> list[ColumnElement[bool]]:
    """The conditions picking the dashboard's review rows: in ``scope``, received within
    ``days`` when given."""
    where = [within(VisitReview.jurisdiction_code, scope)]
    if days is not None:
        where.append(VisitReview.received_at > clock.now() - timedelta(days=days))
    return where


def last_reviewed_at(scope: str) -> Subquery:
    """The last change of any review of each case in ``scope`` (columns ``case_id`` and
    ``touched_at``), for a statement over cases to join: the dashboard's untouched cases.
    SQLite reads it from ix_visit_review_case_touched alone; PostgreSQL scans and hashes."""
    return select(VisitReview.case_id, func.max(VisitReview.updated_at).label("touched_at")).where(
        within(VisitReview.jurisdiction_code, scope)).group_by(VisitReview.case_id).subquery(
        "last_reviewed")


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _sent_back() -> ColumnElement[int]:
    """1 for a visit a reviewer sent back at least once."""
    return case((VisitReview.sent_back_count > 0, 1), else_=0)


def _flag_count() -> ColumnElement[int]:
    """The kinds of flag in ",code,code,": its commas less one (none in ",")."""
    commas = func.length(VisitReview.flag_codes) - func.length(
        func.replace(VisitReview.flag_codes, ",", ""))
    return case((commas > 1, commas - 1), else_=0)


def _duration_minutes() -> ColumnElement[float]:
    """End − start of the latest revision in minutes; NULL (left out of the median) when a
    stamp is missing or the visit ends before it starts."""
    started, ended = VisitReview.started_at, VisitReview.ended_at
    if _is_postgresql():
        minutes = cast(func.extract("epoch", ended - started), Float) / 60.0
    else:
        # SQLite keeps times as text: julianday's float, rounded to the millisecond so the
        # minutes are those Python computed from the same times.
        minutes = func.round((func.julianday(ended) - func.julianday(started)) * 86400.0,
                             3) / 60.0
    return case((and_(started.is_not(None), ended.is_not(None), ended >= started), minutes))


TOTAL = ""  # the key of all the dashboard's visits among the per-village totals


def _durations(minutes: ColumnElement[float]) -> ColumnElement:
    """A group's non-NULL durations as one value: PostgreSQL's array of float8, SQLite's
    BLOB of float64 from our aggregate (dbtypes.SQLITE_VALUES). Both read back exactly."""
    if _is_postgresql():
        return func.array_agg(minutes).filter(minutes.is_not(None))
    return getattr(func, SQLITE_VALUES)(minutes).filter(minutes.is_not(None))


def visit_totals(where: list[ColumnElement[bool]]
                 ) -> tuple[dict[str, board.VisitTotals], dict[str, board.VisitTotals]]:
    """The visits added up per village (with the key TOTAL for all of them) and per team
    member (a visit counts for each of its team).

    One pass: the database adds the visits up per village and team, each group with its
    durations (a township has a few dozen such groups), and the villages, the members and
    the total are put together from those groups here, each median over all its durations.
    Before (issue 23), at 100,000 visits: SQLite took three passes, each ranking the
    durations with window functions (1.7 of the 3 s a township's dashboard needed), and
    PostgreSQL two (GROUPING SETS, and the teams split with unnest), 300 ms."""
    postgresql = _is_postgresql()
    groups = select(
        VisitReview.jurisdiction_code, VisitReview.team_ids, func.count(),
        func.sum(_flag_count()), func.sum(_sent_back()), _durations(_duration_minutes()),
    ).where(*where).group_by(VisitReview.jurisdiction_code, VisitReview.team_ids)
    villages: dict[str, list[board.GroupTotals]] = {}
    members: dict[str, list[board.GroupTotals]] = {}
    everything: list[board.GroupTotals] = []
    for village, team_ids, count, flags, sent_back, durations in db.session.execute(groups):
        part = board.GroupTotals(count, int(flags), int(sent_back),
                                 (durations or ()) if postgresql else sqlite_values(durations))
        everything.append(part)
        villages.setdefault(village, []).append(part)
        for member in team_ids.split(","):
            if member:
                members.setdefault(member, []).append(part)
    by_village = {key: board.added_up(parts) for key, parts in villages.items()}
    if everything:
        by_village[TOTAL] = board.added_up(everything)
    return by_village, {key: board.added_up(parts) for key, parts in members.items()}
