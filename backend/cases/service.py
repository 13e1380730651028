from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Row, Select, Subquery, and_, exists, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy import update as sql_update
from sqlalchemy.orm.attributes import flag_modified

from backend import clock, events, outbox, versions
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.bulk import any_of, chunks, insert_ignoring_conflicts, insert_rows
from backend.cases import rules
from backend.cases.models import Case, CaseNumberCounter, CaseTeamMember
from backend.dbtypes import new_id, utc_from_iso
from backend.duties import service as duties
from backend.errors import ProblemError
from backend.extensions import db
from backend.holidays import service as holidays
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import like_pattern, within, within_bound
from backend.privacy import catalogue
from backend.sync import rules as sync_rules
from backend.sync.registry import PullSlice

EDITABLE = ("channel", "is_economic_check_authorized", "has_honesty_pledge", "note")
APPLICATION_FIELDS = {"has_honesty_pledge": "case.update.pledge",
                      "is_economic_check_authorized": "case.update.authorization"}


def duty_ref(case: Case) -> duties.CaseRef:
    return duties.CaseRef(case.id, case.household_id, case.jurisdiction_code)


def visible_cases(caller: Caller) -> Select:
    """Cases the caller may see: their jurisdiction subtree, and for a field worker
    without a supervising role only the cases whose visit team they are on."""
    query = select(Case).where(within(Case.jurisdiction_code, caller))
    if not caller.reads_all_cases_in_scope:
        query = query.where(exists(select(CaseTeamMember.case_id).where(
            CaseTeamMember.case_id == Case.id, CaseTeamMember.user_id == caller.user_id)))
    return query


def get_visible(caller: Caller, case_id: str) -> Case:
    case = db.session.scalar(visible_cases(caller).where(Case.id == case_id))
    if case is None:
        # 404, not 403: another team's case must not even be confirmed to exist.
        raise ProblemError("case-not-found", "No case with that id in your area.")
    return case


def visible_id_by_number(caller: Caller, case_no: str) -> str | None:
    """The id of the visible case numbered ``case_no`` (文屏〔2026〕低保第 0012 号), or None."""
    return db.session.scalar(visible_cases(caller).with_only_columns(Case.id).where(
        Case.case_no == case_no.strip()))


def list_visible(caller: Caller, filters: dict) -> tuple[list[Case], int]:
    query = visible_cases(caller)
    if filters.get("status"):
        query = query.where(Case.status == filters["status"])
    if filters.get("kind"):
        query = query.where(Case.kind == filters["kind"])
    if filters.get("village"):
        query = query.where(within(Case.jurisdiction_code, filters["village"]))
    if filters.get("assigned_to_me"):
        query = query.where(exists(select(CaseTeamMember.case_id).where(
            CaseTeamMember.case_id == Case.id, CaseTeamMember.user_id == caller.user_id)))
    if filters.get("q"):
        query = query.where(Case.household_id.in_(households.matching_ids(filters["q"])))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, size = filters["page"], filters["page_size"]
    rows = db.session.scalars(
        query.order_by(Case.applied_at.desc(), Case.id).limit(size).offset((page - 1) * size)
    ).all()
    return list(rows), total


def create(caller: Caller, payload: dict) -> tuple[Case, bool]:
    if not caller.has(*roles.ROLES_CREATING_CASES):
        raise ProblemError("forbidden", "Only intake clerks and village assistants open cases.")
    client_id = payload.get("id")
    if client_id:
        existing = db.session.get(Case, client_id)
        if existing is not None:
            if not caller.covers(existing.jurisdiction_code):
                raise ProblemError("conflict", "That id is already used.")
            return existing, False
    errors = rules.kind_problems(payload["kind"], payload.get("temporary_subtype"))
    if errors:
        raise ProblemError("validation-failed", "The assistance kind is incomplete.", errors)
    if payload.get("applied_at") is not None and (
            errors := rules.applied_at_problems(payload["applied_at"], clock.now())):
        raise ProblemError("validation-failed", "The application date is not plausible.", errors)
    try:
        household = households.get_visible(caller, payload["household_id"])
    except ProblemError as missing:
        raise ProblemError("household-not-found", "No household with that id in your area.",
                           {"household_id": ["unknown household"]}) from missing
    applied_at = payload.get("applied_at") or clock.now()
    settings = jurisdictions.effective_settings(household.jurisdiction_code)
    holidays_entered = holidays.overrides()
    deadline = rules.deadline_for(
        payload["kind"], payload.get("temporary_subtype"), applied_at, settings,
        lambda start, days: clock.add_working_days(start, days, holidays_entered),
        clock.SHANGHAI)
    now = clock.now()
    case = Case(
        id=client_id or new_id(), household_id=household.id,
        case_no=case_numbers(household.jurisdiction_code, payload["kind"], applied_at, 1,
                             settings)[0],
        jurisdiction_code=household.jurisdiction_code, kind=payload["kind"],
        temporary_subtype=payload.get("temporary_subtype"), status="accepted",
        channel=payload["channel"], applied_at=applied_at, deadline_on=deadline.due_on,
        deadline_at=deadline.due_at,
        is_economic_check_authorized=payload["is_economic_check_authorized"],
        has_honesty_pledge=payload["has_honesty_pledge"],
        intake_by_id=caller.user_id, note=payload.get("note"), created_at=now, updated_at=now,
    )
    db.session.add(case)
    db.session.flush()
    duties.take(caller, duty_ref(case), "case.create")
    audit.record("case.created", "case", case.id, jurisdiction_code=case.jurisdiction_code,
                 after={"kind": case.kind, "subtype": case.temporary_subtype,
                        "channel": case.channel, "deadline_on": _iso(case.deadline_on),
                        "deadline_at": _iso(case.deadline_at),
                        "household": household.id})
    return case, True


def open_periodic_review(household_id: str, jurisdiction_code: str, source: str,
                         opened_by_id: str | None) -> Case:
    """A periodic-review case (动态管理, 004) of a current recipient household, opened by the
    case workflow (which checked the household and that no review is open). ``source``
    (checkin / schedule / desk) takes the place of the application channel; the pledge and
    authorization carry over (the reviewed case could not be approved without them). No
    text sets a deadline for a review: it gets an application's decision deadline (001: 20
    working days; a setting)."""
    now = clock.now()
    fields = _review_case_fields(household_id, jurisdiction_code, source, opened_by_id, now,
                                 _review_deadline_on(jurisdiction_code, now, holidays.overrides()))
    fields["case_no"] = case_numbers(jurisdiction_code, rules.PERIODIC_REVIEW, now, 1)[0]
    case = Case(**fields)
    db.session.add(case)
    db.session.flush()
    audit.record(**_review_case_created(fields))
    return case


def open_periodic_reviews(households_to_review: list[tuple[str, str]], source: str,
                          opened_by_id: str | None) -> list[str]:
    """Many periodic-review cases at once (the nightly job opens thousands), each as
    open_periodic_review makes it, for ``(household_id, jurisdiction_code)`` pairs: one
    INSERT for the cases and one for their audit rows. Returns the new case ids in order."""
    now = clock.now()
    holidays_entered = holidays.overrides()
    deadlines: dict[str, date] = {}
    rows = []
    for household_id, jurisdiction_code in households_to_review:
        if jurisdiction_code not in deadlines:
            deadlines[jurisdiction_code] = _review_deadline_on(jurisdiction_code, now,
                                                               holidays_entered)
        rows.append(_review_case_fields(household_id, jurisdiction_code, source, opened_by_id,
                                        now, deadlines[jurisdiction_code]))
    by_township: dict[str, list[dict]] = {}
    for fields in rows:
        by_township.setdefault(jurisdictions.township_of(fields["jurisdiction_code"]),
                               []).append(fields)
    for group in by_township.values():
        numbers = case_numbers(group[0]["jurisdiction_code"], rules.PERIODIC_REVIEW, now,
                               len(group))
        for fields, number in zip(group, numbers, strict=True):
            fields["case_no"] = number
    insert_rows(Case, rows)
    audit.record_many([_review_case_created(fields) for fields in rows])
    return [fields["id"] for fields in rows]


def case_numbers(jurisdiction_code: str, kind: str, applied_at: datetime, count: int,
                 settings: dict | None = None) -> list[str]:
    """``count`` new case numbers of the township of ``jurisdiction_code``, for cases of
    ``kind`` taken in on ``applied_at``'s year (Beijing). The counter row is incremented in
    one UPDATE, so two intakes at once never get the same number (the row stays locked until
    the transaction commits)."""
    township = jurisdictions.township_of(jurisdiction_code)
    year = applied_at.astimezone(clock.SHANGHAI).year
    key = {"township_code": township, "year": year, "kind": kind}
    insert_ignoring_conflicts(CaseNumberCounter, [{**key, "last_seq": 0}], "township_code")
    last = db.session.execute(
        sql_update(CaseNumberCounter).where(
            CaseNumberCounter.township_code == township, CaseNumberCounter.year == year,
            CaseNumberCounter.kind == kind)
        .values(last_seq=CaseNumberCounter.last_seq + count)
        .returning(CaseNumberCounter.last_seq)
        .execution_options(synchronize_session=False)).scalar_one()
    pattern = (settings or jurisdictions.effective_settings(jurisdiction_code))[
        "case_number_pattern"]
    name = jurisdictions.names({township}).get(township, township)
    return [rules.case_number(pattern, name, year, kind, seq)
            for seq in range(last - count + 1, last + 1)]


def _review_deadline_on(jurisdiction_code: str, now: datetime,
                        holidays_entered: dict[date, bool]) -> date:
    settings = jurisdictions.effective_settings(jurisdiction_code)
    return clock.add_working_days(now.astimezone(clock.SHANGHAI).date(),
                                  settings["dibao_deadline_working_days"], holidays_entered)


def _review_case_fields(household_id: str, jurisdiction_code: str, source: str,
                        opened_by_id: str | None, now: datetime, due_on: date) -> dict:
    return {
        "id": new_id(), "household_id": household_id, "jurisdiction_code": jurisdiction_code,
        "kind": rules.PERIODIC_REVIEW, "temporary_subtype": None, "status": "accepted",
        "channel": source, "applied_at": now, "deadline_on": due_on, "deadline_at": None,
        "has_honesty_pledge": True, "is_economic_check_authorized": True,
        "intake_by_id": opened_by_id, "version": 1, "created_at": now, "updated_at": now}


def _review_case_created(fields: dict) -> dict:
    """The audit row of a review case's creation (keyword arguments of audit.record)."""
    return {"action": "case.created", "object_type": "case", "object_id": fields["id"],
            "jurisdiction_code": fields["jurisdiction_code"], "actor_id": fields["intake_by_id"],
            "after": {"kind": fields["kind"], "channel": fields["channel"],
                      "deadline_on": _iso(fields["deadline_on"]),
                      "household": fields["household_id"], "source": fields["channel"]}}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def check_version(case: Case, if_match: str | None) -> None:
    versions.check_if_match(if_match, case.version, "case")


def update(caller: Caller, case_id: str, if_match: str | None, changes: dict) -> Case:
    case = get_visible(caller, case_id)
    if not caller.has(*roles.ROLES_EDITING_CASES):
        raise ProblemError("forbidden", "Your role may read this case but not change it.")
    check_version(case, if_match)
    before = {k: getattr(case, k) for k in EDITABLE}
    for key in EDITABLE:
        if key in changes:
            setattr(case, key, changes[key])
    after = {k: getattr(case, k) for k in EDITABLE}
    old, new = audit.changed_fields(before, after)
    for field, path in APPLICATION_FIELDS.items():
        if field in new:
            # Recording the pledge or the authorization is intake work (001): it is this
            # person's intake duty on the case, with who and when in the history.
            duties.take(caller, duty_ref(case), path)
    if new:
        case.updated_at = clock.now()
        db.session.flush()
        audit.record("case.updated", "case", case.id, before=old, after=new,
                     jurisdiction_code=case.jurisdiction_code)
    return case


def team_candidates(caller: Caller, case_id: str) -> dict:
    """Who may visit the case's household: the township's field workers with how many open
    cases each is on (the freer first), whether each is a declared relative of the household
    (refused, 004), how often each pair visited this village together, and a suggested team
    that rotates pairs across the village's visits (rules.suggest_team)."""
    case = get_visible(caller, case_id)
    if not caller.has(roles.INTAKE_CLERK, roles.REVIEWER, roles.APPROVER, roles.ADMIN):
        raise ProblemError("forbidden", "Only township staff assign visit teams.")
    township = jurisdictions.township_of(case.jurisdiction_code)
    workers = auth.field_workers_in(township)
    ids = [w.id for w in workers]
    open_counts: dict[str, int] = dict.fromkeys(ids, 0)
    if ids:
        open_counts.update(db.session.execute(
            select(CaseTeamMember.user_id, func.count())
            .join(Case, Case.id == CaseTeamMember.case_id)
            .where(CaseTeamMember.user_id.in_(ids), Case.status.in_(rules.OPEN_STATUSES),
                   Case.id != case.id)
            .group_by(CaseTeamMember.user_id)).all())
    teams: dict[str, set[str]] = {}
    for other_id, user_id in db.session.execute(
            select(CaseTeamMember.case_id, CaseTeamMember.user_id)
            .join(Case, Case.id == CaseTeamMember.case_id)
            .where(Case.jurisdiction_code == case.jurisdiction_code, Case.id != case.id)):
        teams.setdefault(other_id, set()).add(user_id)
    pairs = rules.joint_visits(list(teams.values()))
    relatives = households.staff_relative_ids(case.household_id)
    investigators = [rules.Investigator(w.id, open_counts.get(w.id, 0), w.id in relatives)
                     for w in workers]
    size = jurisdictions.effective_settings(case.jurisdiction_code)["min_visit_team_size"]
    return {
        "case_id": case.id, "min_team_size": size,
        "current": sorted(m.user_id for m in case.team),
        "suggested": list(rules.suggest_team(investigators, pairs, size)),
        "candidates": [{
            "user_id": w.id, "display_name": w.display_name,
            "open_cases": open_counts.get(w.id, 0),
            "is_relative": w.id in relatives,
            "visits_with": {other: n for pair, n in pairs.items() if w.id in pair
                            for other in pair - {w.id}},
        } for w in workers],
    }


def assign_team(caller: Caller, case_id: str, if_match: str | None,
                user_ids: list[str]) -> Case:
    case = get_visible(caller, case_id)
    if not caller.has(roles.INTAKE_CLERK, roles.REVIEWER, roles.APPROVER, roles.ADMIN):
        raise ProblemError("forbidden", "Only township staff assign visit teams.")
    check_version(case, if_match)
    township = jurisdictions.township_of(case.jurisdiction_code)
    candidates = []
    for user_id in dict.fromkeys(user_ids):
        user = auth.get_user(user_id)
        if user is None:
            raise ProblemError("validation-failed", "Unknown investigator.",
                               {"user_ids": [f"{user_id} is not a user"]})
        candidates.append(rules.TeamCandidate(
            user.id, frozenset(user.roles), jurisdictions.township_of(user.jurisdiction_code)))
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    problems = rules.team_problems(candidates, township,
                                   households.staff_relative_ids(case.household_id),
                                   settings["min_visit_team_size"])
    if problems:
        slug = problems[0][0]
        raise ProblemError(slug, problems[0][1], {"user_ids": [m for _, m in problems]})
    before = sorted(m.user_id for m in case.team)
    now = clock.now()
    case.team = [CaseTeamMember(user_id=c.user_id, assigned_at=now,
                                assigned_by_id=caller.user_id) for c in candidates]
    if case.status == "accepted" and case.has_honesty_pledge and (
            case.is_economic_check_authorized):
        # Intake is complete (pledge and authorization, 002): the investigation starts. That
        # move closes the intake: the assigner takes the intake duty (001). A periodic
        # review's intake is its opening; its visit team starts the chosen method.
        if case.kind != rules.PERIODIC_REVIEW:
            duties.take(caller, duty_ref(case), "case.team.intake_complete")
        case.status = "investigating"
    case.updated_at = now
    db.session.flush()
    audit.record("case.team_assigned", "case", case.id, before={"team": before},
                 after={"team": sorted(c.user_id for c in candidates), "status": case.status},
                 jurisdiction_code=case.jurisdiction_code)
    return case


def is_on_team(case: Case, user_id: str) -> bool:
    return any(member.user_id == user_id for member in case.team)


def household_ids_on_team(caller: Caller) -> Select:
    """Households with a case whose visit team the caller is on (households' team scope)."""
    return (select(Case.household_id).join(CaseTeamMember, CaseTeamMember.case_id == Case.id)
            .where(CaseTeamMember.user_id == caller.user_id))


def visible_ids(caller: Caller, case_ids: Iterable[str]) -> set[str]:
    """Which of ``case_ids`` the caller may see."""
    found: set[str] = set()
    for chunk in chunks(case_ids):
        found.update(db.session.scalars(
            visible_cases(caller).with_only_columns(Case.id).where(Case.id.in_(chunk))))
    return found


@dataclass(frozen=True)
class CaseForPush:
    """What a pushed record needs to know about its case."""

    id: str
    household_id: str
    jurisdiction_code: str
    kind: str
    is_open: bool
    team: frozenset[str]


@functools.cache
def _cases_for_push() -> Select:
    """Built once (backend/bulk.py); run with ``ids`` and the caller's ``scope`` pattern. A
    row per team member (one with no member for a case without a team): the case and its
    team in one statement, a push's fixed cost (issue 23)."""
    return select(Case.id, Case.household_id, Case.jurisdiction_code, Case.kind,
                  Case.status, CaseTeamMember.user_id).outerjoin(
        CaseTeamMember, CaseTeamMember.case_id == Case.id).where(
        any_of(Case.id), within_bound(Case.jurisdiction_code))


@functools.cache
def _teams_of() -> Select:
    return select(CaseTeamMember.case_id, CaseTeamMember.user_id).where(
        any_of(CaseTeamMember.case_id))


def for_push(case_ids: Iterable[str], caller: Caller) -> dict[str, CaseForPush]:
    """The cases among ``case_ids`` inside the caller's area, with their visit teams."""
    return for_push_from_rows(row for chunk in chunks(case_ids) for row in db.session.execute(
        _cases_for_push(), for_push_parameters(chunk, caller)))


def for_push_statement() -> Select:
    """The statement `for_push` runs, for another package to add what it reads beside the
    case in the same round trip (a push of one visit, issue 23); its ``selected_columns``
    name the case's columns to join on. Run it with `for_push_parameters`, read the rows
    back with `for_push_from_rows`."""
    return _cases_for_push()


def for_push_parameters(case_ids: list[str], caller: Caller) -> dict:
    return {"ids": case_ids, "scope": like_pattern(caller)}


def for_push_from_rows(rows: Iterable[Row]) -> dict[str, CaseForPush]:
    cases: dict[str, Row] = {}
    teams: dict[str, set[str]] = {}
    for row in rows:
        cases.setdefault(row.id, row)
        members = teams.setdefault(row.id, set())
        if row.user_id is not None:
            members.add(row.user_id)
    return {case_id: CaseForPush(row.id, row.household_id, row.jurisdiction_code, row.kind,
                                 row.status in rules.OPEN_STATUSES, frozenset(teams[case_id]))
            for case_id, row in cases.items()}


def teams(case_ids: Iterable[str]) -> dict[str, frozenset[str]]:
    """The visit team of each case (reviews: a reviewer on the team may not review)."""
    found: dict[str, set[str]] = {}
    for chunk in chunks(case_ids):
        for case_id, user_id in db.session.execute(_teams_of(), {"ids": chunk}):
            found.setdefault(case_id, set()).add(user_id)
    return {case_id: frozenset(found.get(case_id, ())) for case_id in set(case_ids)}


def assigned_case_ids(caller: Caller) -> Select:
    """Ids of the cases whose visit team the caller is on, in their area (a subquery)."""
    return _assigned(caller).with_only_columns(Case.id)


def _assigned(caller: Caller) -> Select:
    return (select(Case).join(CaseTeamMember, CaseTeamMember.case_id == Case.id)
            .where(CaseTeamMember.user_id == caller.user_id,
                   within(Case.jurisdiction_code, caller)))


def pull_assignments(caller: Caller, state: dict[str, str], page_size: int) -> PullSlice:
    """The pull's slice of cases: assigned case ids (when the set changed), a page of cases
    changed since the cursor with their households, and the settings of their villages."""
    assigned = sorted(db.session.scalars(_assigned(caller).with_only_columns(Case.id)))
    answer: dict = {}
    assignments_fp = sync_rules.fingerprint(assigned)
    if assignments_fp != state["assignments"]:
        # The device deletes any case it holds that is not in this list.
        answer["case_ids"] = assigned
    query = _assigned(caller)
    if state["updated_at"]:
        since = utc_from_iso(state["updated_at"])
        query = query.where(or_(Case.updated_at > since,
                                and_(Case.updated_at == since, Case.id > state["last_id"])))
    rows = db.session.scalars(query.order_by(Case.updated_at, Case.id).limit(page_size + 1)).all()
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if rows:
        page = views(list(rows), caller, catalogue.PHONE_PULL)
        answer["cases"] = page
        answer["households"] = [view["household"] for view in page]
        updated_at, last_id = rows[-1].updated_at.isoformat(), rows[-1].id
    else:
        updated_at, last_id = state["updated_at"], state["last_id"]
    villages = sorted(set(db.session.scalars(select(Case.jurisdiction_code).where(
        Case.id.in_(assigned)))) if assigned else set())
    settings = jurisdictions.effective_settings_of(villages)
    settings_fp = sync_rules.fingerprint(settings)
    if settings_fp != state["settings"]:
        answer["settings"] = settings
    return PullSlice(answer, {"updated_at": updated_at, "last_id": last_id,
                              "assignments": assignments_fp, "settings": settings_fp},
                     has_more)


def to_view(case: Case, caller: Caller) -> dict:
    return views([case], caller)[0]


def views(cases: list[Case], caller: Caller, purpose: str = catalogue.CASE_WORK) -> list[dict]:
    """The views of many cases, their households and teams in a few queries, as the
    sensitivity catalogue shows them for ``purpose`` (the desk, or the phone's pull)."""
    households_by_id = households.views_by_id({c.household_id for c in cases}, caller, purpose)
    names = auth.display_names({m.user_id for c in cases for m in c.team})
    now = clock.now()
    return [{
        "id": case.id, "case_no": case.case_no, "household_id": case.household_id,
        "jurisdiction_code": case.jurisdiction_code, "kind": case.kind,
        "temporary_subtype": case.temporary_subtype, "status": case.status,
        "channel": case.channel, "applied_at": case.applied_at, "deadline_on": case.deadline_on,
        "deadline_at": case.deadline_at,
        "is_overdue": rules.is_overdue(case.deadline_on, case.deadline_at, case.status,
                                       now, clock.SHANGHAI),
        "is_economic_check_authorized": case.is_economic_check_authorized,
        "has_honesty_pledge": case.has_honesty_pledge, "note": case.note,
        "version": case.version, "created_at": case.created_at, "updated_at": case.updated_at,
        "team": [{"user_id": m.user_id, "display_name": names.get(m.user_id)}
                 for m in case.team],
        "household": households_by_id[case.household_id],
    } for case in cases]


def _overdue_now(now: datetime) -> ColumnElement[int]:
    """1 for an open case past its deadline at ``now``: ``rules.is_overdue`` in SQL, so a
    dashboard counts thousands of cases without reading them (issue 23). Past its due
    instant when it has one, else past the end of its due date in Beijing."""
    today = now.astimezone(clock.SHANGHAI).date()
    return sql_case(
        (Case.deadline_at.is_not(None), sql_case((Case.deadline_at < now, 1), else_=0)),
        (Case.deadline_on < today, 1), else_=0)


def open_case_counts(
    scope_code: str, now: datetime, cutoffs: tuple[datetime, ...], touched_elsewhere: Subquery,
) -> tuple[dict[str, rules.OpenCaseCounts], dict[str, rules.OpenCaseCounts]]:
    """The open cases at or below ``scope_code`` (the caller's scope, checked by the caller),
    counted by the database per village and per team member (a case counts for each member
    of its team). A case was last touched at the later of its own last change and its
    ``touched_at`` in ``touched_elsewhere`` (columns ``case_id`` and ``touched_at``, at most
    one row per case), which another package gives: the last change of the case's reviews.

    Joined, not a correlated value per case. PostgreSQL planned a correlated subquery once
    for each of its six uses, and the cost it then estimated (632,000) passed its thresholds
    for JIT compilation with inlining and optimisation (500,000): the first row came after
    233 ms. Joined, the statement runs in about 75 ms at 20,000 open cases (issue 23)."""
    open_cases = select(
        Case.id, Case.jurisdiction_code, _overdue_now(now).label("overdue"),
        Case.updated_at, touched_elsewhere.c.touched_at.label("touched_elsewhere"),
    ).outerjoin(touched_elsewhere, touched_elsewhere.c.case_id == Case.id).where(
        within(Case.jurisdiction_code, scope_code),
        Case.status.in_(rules.OPEN_STATUSES)).subquery("open_case")

    def untouched(cutoff: datetime) -> ColumnElement[int]:
        return func.sum(sql_case((and_(
            open_cases.c.updated_at <= cutoff,
            or_(open_cases.c.touched_elsewhere.is_(None),
                open_cases.c.touched_elsewhere <= cutoff)), 1), else_=0))

    counts = (func.count(), func.sum(open_cases.c.overdue), *map(untouched, cutoffs))

    def counted(key, statement: Select) -> dict[str, rules.OpenCaseCounts]:
        return {row[0]: rules.OpenCaseCounts(row[1], int(row[2]), tuple(int(n) for n in row[3:]))
                for row in db.session.execute(statement.group_by(key))}

    by_village = counted(open_cases.c.jurisdiction_code,
                         select(open_cases.c.jurisdiction_code, *counts))
    by_member = counted(CaseTeamMember.user_id, select(CaseTeamMember.user_id, *counts).join(
        CaseTeamMember, CaseTeamMember.case_id == open_cases.c.id))
    return by_village, by_member


def statuses_of_household(household_id: str) -> set[str]:
    """The statuses of a household's cases (check-in enrolment needs an approved one)."""
    return set(db.session.scalars(select(Case.status).where(Case.household_id == household_id)))


# --- what the case workflow (backend.workflow) asks of cases -------------------------------


def visible_id_query(caller: Caller) -> Select:
    """Ids of the cases the caller may see (a subquery)."""
    return visible_cases(caller).with_only_columns(Case.id)


def set_status(case: Case, status: str) -> None:
    """Move the case (the workflow checked the move); bumps its version. The move leaves
    as an outbox event (case.state_changed) and an in-transaction one (decisions)."""
    before, case.status = case.status, status
    case.updated_at = clock.now()
    db.session.flush()
    outbox.record("case.state_changed", "case", case.id, case.jurisdiction_code, {
        "case_id": case.id, "household_id": case.household_id, "kind": case.kind,
        "temporary_subtype": case.temporary_subtype, "from_status": before,
        "to_status": status})
    events.raise_(events.CaseStatusChanged(case.id, case.household_id, case.jurisdiction_code,
                                           case.kind, before, status))


def set_application(case: Case, has_honesty_pledge: bool,
                    is_economic_check_authorized: bool) -> None:
    case.has_honesty_pledge = has_honesty_pledge
    case.is_economic_check_authorized = is_economic_check_authorized
    touch(case)


def touch(case: Case) -> None:
    """A workflow record of the case changed: bump the case's version (If-Match)."""
    case.updated_at = clock.now()
    flag_modified(case, "updated_at")  # bump even when the clock has not moved
    db.session.flush()


def set_deadline_on(case: Case, deadline_on: date) -> None:
    case.deadline_on = deadline_on


@dataclass(frozen=True)
class CaseSummary:
    id: str
    household_id: str
    jurisdiction_code: str
    kind: str
    temporary_subtype: str | None
    status: str
    applied_at: datetime
    deadline_on: date | None
    deadline_at: datetime | None
    case_no: str | None = None  # the number people read (文屏〔2026〕低保第 0012 号)


def summaries(*, caller: Caller | None = None,
              statuses: Iterable[str] | None = None, scope_code: str | None = None,
              applied_from=None, applied_before=None,
              case_ids: Iterable[str] | None = None,
              household_ids: Iterable[str] | None = None,
              kinds: Iterable[str] | None = None) -> list[CaseSummary]:
    """Plain rows of cases: the caller's visible ones or those of a place, filtered."""
    query = select(Case.id, Case.household_id, Case.jurisdiction_code, Case.kind,
                   Case.temporary_subtype, Case.status, Case.applied_at, Case.deadline_on,
                   Case.deadline_at, Case.case_no)
    if caller is not None:
        query = query.where(Case.id.in_(visible_id_query(caller)))
    if scope_code is not None:
        query = query.where(within(Case.jurisdiction_code, scope_code))
    if statuses is not None:
        query = query.where(Case.status.in_(list(statuses)))
    if kinds is not None:
        query = query.where(Case.kind.in_(list(kinds)))
    if household_ids is not None:
        query = query.where(Case.household_id.in_(list(household_ids)))
    if applied_from is not None:
        query = query.where(Case.applied_at >= applied_from)
    if applied_before is not None:
        query = query.where(Case.applied_at < applied_before)
    if case_ids is not None:
        ids = list(case_ids)
        rows: list = []
        for chunk in chunks(ids):
            rows += db.session.execute(query.where(Case.id.in_(chunk))).all()
    else:
        rows = list(db.session.execute(query.order_by(Case.id)).all())
    return [CaseSummary(*row) for row in rows]
