"""Complaints and reports (举报, 004/002): filed on the public form or entered by staff, each
with a number and a named handler, verified (home visit, system comparison, phone), found
substantiated or not, answered through the reporter's channel. A substantiated one opens a
periodic review or a stop of the linked case through the workflow's own use cases.

Every step is audited; the reporter's identity is read only through ``reporter``, which
audits each reading. Outbox events ``complaint.opened`` and ``complaint.answered`` never
carry the reporter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from backend import clock, outbox
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.complaints import rules
from backend.complaints.models import Complaint, ComplaintVerification
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db
from backend.holidays import service as holidays
from backend.jurisdictions import rules as place_rules
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.versions import check_if_match
from backend.workflow import periodic_reviews, records, transitions

# Who reads the complaints of their area (the township's office and the county); the named
# handler reads their own whatever their role.
READING_ROLES = (roles.INTAKE_CLERK, roles.REVIEWER, roles.APPROVER, roles.COUNTY_SUPERVISOR,
                 roles.ADMIN)
# Who enters a report taken by box, phone, e-mail, WeChat or at the window, and names its
# handler: the township's office staff.
ENTERING_ROLES = (roles.INTAKE_CLERK, roles.REVIEWER, roles.APPROVER, roles.ADMIN)
ASSIGNING_ROLES = ENTERING_ROLES
# Who may be named handler (专人负责): staff who verify and decide casework.
HANDLER_ROLES = (roles.INTAKE_CLERK, roles.REVIEWER, roles.APPROVER)


# --- reading -----------------------------------------------------------------------------------

def visible(caller: Caller) -> Select:
    """Complaints the caller may see: their area's, for the reading roles; their own as
    handler otherwise. Another township's are never visible (404, not 403)."""
    query = select(Complaint).where(within(Complaint.jurisdiction_code, caller))
    if not caller.has(*READING_ROLES):
        query = query.where(Complaint.handler_id == caller.user_id)
    return query


def get_visible(caller: Caller, complaint_id: str) -> Complaint:
    found = db.session.scalar(visible(caller).where(Complaint.id == complaint_id))
    if found is None:
        raise ProblemError("complaint-not-found", "No complaint with that id in your area.")
    return found


def _deadlines(complaint: Complaint) -> rules.Deadlines:
    return rules.Deadlines(complaint.assign_due_on, complaint.verify_due_on,
                           complaint.reply_due_on)


def overdue_steps(complaint: Complaint, today: date | None = None) -> list[str]:
    return rules.overdue_steps(complaint.status, _deadlines(complaint),
                               today or clock.today_in_china())


def list_visible(caller: Caller, filters: dict) -> list[Complaint]:
    query = visible(caller)
    if filters.get("status"):
        query = query.where(Complaint.status == filters["status"])
    if filters.get("is_open"):
        query = query.where(Complaint.status.in_(rules.OPEN_STATUSES))
    found = list(db.session.scalars(query.order_by(Complaint.received_at.desc(),
                                                   Complaint.id)))
    if filters.get("is_overdue"):
        today = clock.today_in_china()
        found = [c for c in found if overdue_steps(c, today)]
    return found


def verifications_of(complaint_ids: list[str]) -> dict[str, list[ComplaintVerification]]:
    by_complaint: dict[str, list[ComplaintVerification]] = {i: [] for i in complaint_ids}
    if complaint_ids:
        for row in db.session.scalars(select(ComplaintVerification).where(
                ComplaintVerification.complaint_id.in_(complaint_ids))
                .order_by(ComplaintVerification.position)):
            by_complaint[row.complaint_id].append(row)
    return by_complaint


def _visits_for_verification(caller: Caller, complaint: Complaint) -> list[str]:
    """The linked case's complete home visits (attested by the team, approved in review),
    which the handler may name as the report's home-visit verification."""
    if complaint.case_id is None or complaint.handler_id != caller.user_id:
        return []
    team_size = jurisdictions.effective_settings(complaint.jurisdiction_code)[
        "min_visit_team_size"]
    return records.complete_visits(complaint.case_id, team_size)


def views(caller: Caller, complaints: list[Complaint], with_visits: bool = False) -> list[dict]:
    """What screens show of complaints: never the reporter (see ``reporter``)."""
    ids = [c.id for c in complaints]
    checks = verifications_of(ids)
    people = {c.handler_id for c in complaints if c.handler_id}
    people |= {v.recorded_by_id for rows in checks.values() for v in rows}
    names = auth.display_names(people)
    places = jurisdictions.names({c.jurisdiction_code for c in complaints})
    numbers = {s.id: s.case_no for s in cases.summaries(
        case_ids={c.case_id for c in complaints if c.case_id}
        | {c.consequence_case_id for c in complaints if c.consequence_case_id})}
    today = clock.today_in_china()
    return [{
        "id": c.id, "number": c.number, "jurisdiction_code": c.jurisdiction_code,
        "jurisdiction_name": places.get(c.jurisdiction_code), "channel": c.channel,
        "about": c.about, "content": c.content, "is_anonymous": c.is_anonymous,
        "reply_channel": c.reply_channel, "case_id": c.case_id,
        "case_no": numbers.get(c.case_id) if c.case_id else None,
        "household_id": c.household_id, "status": c.status, "handler_id": c.handler_id,
        "handler_name": names.get(c.handler_id) if c.handler_id else None,
        "is_mine": c.handler_id == caller.user_id,
        "sees_reporter": _sees_reporter(caller, c),
        "received_at": c.received_at, "assigned_at": c.assigned_at,
        "assign_due_on": c.assign_due_on, "verify_due_on": c.verify_due_on,
        "reply_due_on": c.reply_due_on, "overdue_steps": overdue_steps(c, today),
        "verifications": [{"id": v.id, "method": v.method, "note": v.note,
                           "visit_id": v.visit_id, "recorded_at": v.recorded_at,
                           "recorded_by_name": names.get(v.recorded_by_id)}
                          for v in checks[c.id]],
        "is_substantiated": c.is_substantiated, "finding": c.finding, "found_at": c.found_at,
        "consequence": c.consequence, "consequence_case_id": c.consequence_case_id,
        "consequence_case_no": numbers.get(c.consequence_case_id)
        if c.consequence_case_id else None,
        "reply": c.reply, "replied_at": c.replied_at, "version": c.version,
        "linked_case_visits": _visits_for_verification(caller, c) if with_visits else [],
    } for c in complaints]


def _is_county_supervisor(caller: Caller) -> bool:
    return (caller.has(roles.COUNTY_SUPERVISOR)
            and place_rules.level_of(caller.jurisdiction_code) == "county")


def _sees_reporter(caller: Caller, complaint: Complaint) -> bool:
    return rules.sees_reporter(complaint.handler_id == caller.user_id,
                               _is_county_supervisor(caller))


def reporter(caller: Caller, complaint_id: str) -> dict:
    """The reporter's name and contact, for the handler and the county supervisor only;
    every reading leaves an audit row (004: the reporter is protected)."""
    complaint = get_visible(caller, complaint_id)
    if not _sees_reporter(caller, complaint):
        raise ProblemError("forbidden", "Only the named handler and the county supervisor "
                                        "see who reported.")
    audit.record("complaint.reporter_viewed", "complaint", complaint.id,
                 jurisdiction_code=complaint.jurisdiction_code,
                 after={"number": complaint.number, "as": "handler"
                        if complaint.handler_id == caller.user_id else "county_supervisor"})
    return {"is_anonymous": complaint.is_anonymous, "name": complaint.reporter_name,
            "contact": complaint.reporter_contact, "reply_channel": complaint.reply_channel}


# --- filing --------------------------------------------------------------------------------------

def townships() -> list[dict]:
    """The townships a public report may be addressed to (names are public)."""
    return [{"code": place.code, "name": place.name}
            for place in jurisdictions.list_within("")
            if place_rules.level_of(place.code) == "township"]


def _check_texts(body: dict) -> None:
    limits = {"content": rules.MAX_CONTENT, "about": rules.MAX_ABOUT,
              "reporter_name": rules.MAX_NAME, "reporter_contact": rules.MAX_CONTACT}
    errors = {key: [problem] for key, maximum in limits.items()
              if isinstance(body.get(key), str)
              and (problem := rules.text_problem(body[key], maximum)) is not None}
    if errors:
        raise ProblemError("validation-failed", "Some fields are not valid.", errors)


def _identity(body: dict) -> tuple[bool, str | None, str | None, str]:
    """(is_anonymous, name, contact, reply channel); an anonymous report keeps no name."""
    is_anonymous = bool(body.get("is_anonymous")) or not (body.get("reporter_name") or "").strip()
    name = None if is_anonymous else body["reporter_name"].strip()
    contact = (body.get("reporter_contact") or "").strip() or None
    reply_channel = body.get("reply_channel") or ("none" if contact is None else "phone")
    if reply_channel not in ("none", "window", "letter") and contact is None:
        raise ProblemError("validation-failed", "A reply by phone, e-mail or WeChat needs a "
                                                "contact.",
                           {"reporter_contact": ["needed for the chosen reply channel"]})
    return is_anonymous, name, contact, reply_channel


def file_public(body: dict) -> tuple[Complaint, bool]:
    """A report from the public form (no sign-in): addressed to a township. A resend with the
    same id answers the report already filed (and False)."""
    existing = db.session.get(Complaint, body["id"])
    if existing is not None:
        return existing, False
    code = body["township_code"]
    if place_rules.level_of(code) != "township" or jurisdictions.get(code) is None:
        raise ProblemError("validation-failed", "Choose a township from the list.",
                           {"township_code": ["not a township"]})
    return _file(body, code, rules.WEB, None), True


def file_by_staff(caller: Caller, body: dict) -> tuple[Complaint, bool]:
    """A report taken by box, phone, e-mail, WeChat or at the window, entered on the desk."""
    if not caller.has(*ENTERING_ROLES):
        raise ProblemError("forbidden", "Your role does not enter complaints.")
    existing = db.session.get(Complaint, body["id"])
    if existing is not None:
        return get_visible(caller, existing.id), False
    code = body.get("township_code") or jurisdictions.township_of(caller.jurisdiction_code)
    if place_rules.level_of(code) != "township" or jurisdictions.get(code) is None:
        raise ProblemError("validation-failed", "Choose a township.",
                           {"township_code": ["not a township"]})
    if not caller.covers(code):
        raise ProblemError("outside-jurisdiction", "That township is outside your area.",
                           {"township_code": ["outside your jurisdiction"]})
    complaint = _file(body, code, body["channel"], caller.user_id)
    if body.get("case_id"):
        _link(caller, complaint, body["case_id"])
    return complaint, True


def _file(body: dict, code: str, channel: str, received_by_id: str | None) -> Complaint:
    _check_texts(body)
    is_anonymous, name, contact, reply_channel = _identity(body)
    now = clock.now()
    due = rules.deadlines(
        now.astimezone(clock.SHANGHAI).date(), jurisdictions.effective_settings(code),
        lambda start, days: clock.add_working_days(start, days, holidays.overrides()))
    complaint = Complaint(
        id=body["id"], number=cases.case_numbers(code, "complaint", now, 1)[0],
        jurisdiction_code=code, channel=channel, about=(body.get("about") or "").strip() or None,
        content=body["content"].strip(), is_anonymous=is_anonymous, reporter_name=name,
        reporter_contact=contact, reply_channel=reply_channel, status=rules.RECEIVED,
        received_at=now, received_by_id=received_by_id, assign_due_on=due.assign_due_on,
        verify_due_on=due.verify_due_on, reply_due_on=due.reply_due_on, updated_at=now)
    db.session.add(complaint)
    db.session.flush()
    # The audit row says that a report came in, never who made it.
    audit.record("complaint.opened", "complaint", complaint.id, jurisdiction_code=code,
                 after={"number": complaint.number, "channel": channel,
                        "is_anonymous": is_anonymous, "reply_channel": reply_channel,
                        "reply_due_on": due.reply_due_on.isoformat()})
    outbox.record("complaint.opened", "complaint", complaint.id, code, {
        "complaint_id": complaint.id, "number": complaint.number, "channel": channel,
        "is_anonymous": is_anonymous, "case_id": None, "household_id": None,
        "received_at": now, "reply_due_on": due.reply_due_on})
    return complaint


# --- the handler's steps --------------------------------------------------------------------------

def _open_step(caller: Caller, complaint_id: str, if_match: str | None, step: str
               ) -> tuple[Complaint, str]:
    complaint = get_visible(caller, complaint_id)
    check_if_match(if_match, complaint.version, "complaint")
    to = rules.next_status(step, complaint.status)
    if to is None:
        raise ProblemError("complaint-step-not-allowed",
                           f"A complaint in state {complaint.status} cannot take the step "
                           f"{step}.", extra={"complaint_status": complaint.status, "step": step})
    return complaint, to


def _require_handler(caller: Caller, complaint: Complaint) -> None:
    if complaint.handler_id != caller.user_id:
        raise ProblemError("complaint-not-handler", "Only the complaint's named handler does "
                                                    "this.")


def _moved(complaint: Complaint, to: str, action: str, after: dict) -> None:
    before = {"status": complaint.status}
    complaint.status = to
    complaint.updated_at = clock.now()
    db.session.flush()
    audit.record(action, "complaint", complaint.id, jurisdiction_code=complaint.jurisdiction_code,
                 before=before, after={"status": to, **after})


def handler_candidates(caller: Caller, complaint_id: str) -> list[auth.StaffCard]:
    complaint = get_visible(caller, complaint_id)
    return auth.staff_with_roles_covering(complaint.jurisdiction_code, HANDLER_ROLES)


def assign(caller: Caller, complaint_id: str, if_match: str | None, handler_id: str) -> Complaint:
    """Name the handler (专人负责, 004); naming another later is audited the same way."""
    if not caller.has(*ASSIGNING_ROLES):
        raise ProblemError("forbidden", "Your role does not name complaint handlers.")
    complaint, to = _open_step(caller, complaint_id, if_match, "assign")
    eligible = {card.id for card in auth.staff_with_roles_covering(
        complaint.jurisdiction_code, HANDLER_ROLES)}
    if handler_id not in eligible:
        raise ProblemError("validation-failed", "The handler must be an intake clerk, reviewer "
                                                "or approver of the complaint's township.",
                           {"handler_id": ["not staff who may handle this complaint"]})
    previous = complaint.handler_id
    complaint.handler_id = handler_id
    complaint.assigned_at = clock.now()
    to = complaint.status if complaint.status == rules.VERIFYING else to
    _moved(complaint, to, "complaint.assigned", {"handler": handler_id, "previous": previous})
    return complaint


def _linked_case(caller: Caller, complaint: Complaint, case_id: str) -> Any:
    try:
        case = cases.get_visible(caller, case_id)
    except ProblemError:
        case = None
    if case is None or not case.jurisdiction_code.startswith(complaint.jurisdiction_code):
        raise ProblemError("validation-failed", "Link a case of the complaint's township.",
                           {"case_id": ["no such case in the complaint's township"]})
    return case


def _link(caller: Caller, complaint: Complaint, case_id: str) -> None:
    case = _linked_case(caller, complaint, case_id)
    before = {"case_id": complaint.case_id}
    complaint.case_id = case.id
    complaint.household_id = case.household_id
    db.session.flush()
    audit.record("complaint.linked", "complaint", complaint.id,
                 jurisdiction_code=complaint.jurisdiction_code, before=before,
                 after={"case_id": case.id, "household_id": case.household_id})


def link(caller: Caller, complaint_id: str, if_match: str | None, case_id: str | None,
         case_no: str | None = None) -> Complaint:
    """Link the report to the case (and so the household) it is about; the handler does it
    until the finding, or the office staff before a handler is named."""
    complaint = get_visible(caller, complaint_id)
    check_if_match(if_match, complaint.version, "complaint")
    if complaint.status in (rules.FOUND, rules.ANSWERED):
        raise ProblemError("complaint-step-not-allowed", "The finding is recorded; the link "
                                                         "stays as it was.",
                           extra={"complaint_status": complaint.status, "step": "link"})
    if complaint.handler_id is not None:
        _require_handler(caller, complaint)
    elif not caller.has(*ASSIGNING_ROLES):
        raise ProblemError("forbidden", "Your role does not link complaints.")
    if case_id is None and case_no is not None:
        case_id = cases.visible_id_by_number(caller, case_no)
        if case_id is None:
            raise ProblemError("validation-failed", "No case with that number in your area.",
                               {"case_no": ["no such case in your area"]})
    assert case_id is not None  # the schema asks for one of them
    _link(caller, complaint, case_id)
    complaint.updated_at = clock.now()
    return complaint


def verify(caller: Caller, complaint_id: str, if_match: str | None, body: dict) -> Complaint:
    """Record one verification (004: 入户核实、系统比对、电话). A home visit is the linked case's
    visit team's: it names a visit of that case attested by the team and approved in review."""
    complaint, to = _open_step(caller, complaint_id, if_match, "verify")
    _require_handler(caller, complaint)
    _check_note(body["note"], "note")
    visit_id = body.get("visit_id")
    if body["method"] == "home_visit":
        if complaint.case_id is None:
            raise ProblemError("complaint-visit-incomplete", "Link the case whose visit team "
                                                             "visits the household first.")
        team_size = jurisdictions.effective_settings(complaint.jurisdiction_code)[
            "min_visit_team_size"]
        complete = records.complete_visits(complaint.case_id, team_size)
        if visit_id not in complete:
            raise ProblemError("complaint-visit-incomplete",
                               "Name a home visit of the linked case that the team attested "
                               "and review approved.", extra={"complete_visits": complete})
    else:
        visit_id = None
    position = len(verifications_of([complaint.id])[complaint.id]) + 1
    row = ComplaintVerification(
        id=new_id(), complaint_id=complaint.id, position=position, method=body["method"],
        note=body["note"].strip(), visit_id=visit_id, recorded_by_id=caller.user_id,
        recorded_at=clock.now())
    db.session.add(row)
    _moved(complaint, to, "complaint.verified", {"method": row.method, "visit_id": visit_id,
                                                 "verification": row.id})
    return complaint


def _check_note(text: str, field: str, maximum: int = rules.MAX_NOTE) -> None:
    problem = rules.text_problem(text, maximum)
    if problem is None and not text.strip():
        problem = "write something"
    if problem is not None:
        raise ProblemError("validation-failed", "Some fields are not valid.", {field: [problem]})


def find(caller: Caller, complaint_id: str, if_match: str | None, body: dict) -> Complaint:
    """Record the finding; a substantiated one may open a periodic review of the linked case
    (动态管理, 004) or, when the handler is an approver, stop it with the finding as written
    reasons (004), both through the workflow's own use cases and guards."""
    complaint, to = _open_step(caller, complaint_id, if_match, "find")
    _require_handler(caller, complaint)
    _check_note(body["finding"], "finding")
    if not verifications_of([complaint.id])[complaint.id]:
        raise ProblemError("complaint-not-verified", "Verify the report first: home visit, "
                                                     "system comparison or phone.")
    consequence = body.get("consequence")
    problem = rules.consequence_problem(body["is_substantiated"], consequence,
                                        complaint.case_id is not None)
    if problem is not None:
        raise ProblemError("validation-failed", "The consequence is not valid.",
                           {"consequence": [problem]})
    complaint.is_substantiated = body["is_substantiated"]
    complaint.finding = body["finding"].strip()
    complaint.found_at = clock.now()
    complaint.consequence = consequence
    if consequence == "periodic_review":
        assert complaint.case_id is not None
        review = periodic_reviews.open_for_complaint(caller, complaint.case_id, complaint.number)
        complaint.consequence_case_id = review.id
    elif consequence == "stop":
        assert complaint.case_id is not None
        subject = cases.get_visible(caller, complaint.case_id)
        transitions.transition(caller, subject.id, f'"{subject.version}"', {
            "to": "stopped",
            "reasons": [f"经举报核实（{complaint.number}）：{complaint.finding}"[:500]]})
        complaint.consequence_case_id = subject.id
    _moved(complaint, to, "complaint.found", {
        "is_substantiated": complaint.is_substantiated, "consequence": consequence,
        "consequence_case_id": complaint.consequence_case_id})
    return complaint


def answer(caller: Caller, complaint_id: str, if_match: str | None, body: dict) -> Complaint:
    """Record the reply sent to the reporter through the channel they chose (kept on file
    under the number when they left none)."""
    complaint, to = _open_step(caller, complaint_id, if_match, "reply")
    _require_handler(caller, complaint)
    _check_note(body["reply"], "reply", rules.MAX_REPLY)
    now = clock.now()
    complaint.reply = body["reply"].strip()
    complaint.replied_at = now
    _moved(complaint, to, "complaint.answered", {"reply_channel": complaint.reply_channel})
    outbox.record("complaint.answered", "complaint", complaint.id, complaint.jurisdiction_code, {
        "complaint_id": complaint.id, "number": complaint.number,
        "is_substantiated": bool(complaint.is_substantiated),
        "consequence": complaint.consequence,
        "consequence_case_id": complaint.consequence_case_id, "case_id": complaint.case_id,
        "household_id": complaint.household_id, "handler_id": caller.user_id,
        "replied_at": now, "reply_channel": complaint.reply_channel})
    return complaint


@dataclass(frozen=True)
class Summary:
    total: int
    open: int
    overdue: int
    answered: int


def summary(caller: Caller) -> Summary:
    """Counts for the county's view of every report and the overdue ones."""
    found = list(db.session.scalars(visible(caller)))
    today = clock.today_in_china()
    return Summary(len(found), sum(c.status in rules.OPEN_STATUSES for c in found),
                   sum(bool(overdue_steps(c, today)) for c in found),
                   sum(c.status == rules.ANSWERED for c in found))

