"""The case's paperwork: the application record (pledge, authorization, missing
documents), the economic check, the tracked tasks, and the content of the printable
documents (rendered by backend.documents).
"""

from __future__ import annotations

from typing import Any

from backend import clock
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.duties import service as duties
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.workflow import notices, records, rules
from backend.workflow.models import CaseWorkflow

# Who re-examines (复查) a refusal or a stop on the applicant's request (002).
REEXAMINATION_SUFFIX = "民政局"
REEXAMINATION_FALLBACK = "县级人民政府民政部门"
# The economic check's written notice before any decision (002), in the letter's language.
ECONOMIC_CHECK_INELIGIBLE = "家庭经济状况核对结果明显不符合条件"


def record_application(caller: Caller, case_id: str, if_match: str | None, body: dict) -> Any:
    """The honesty pledge, the authorization (who, when, scans) and the missing documents
    listed at once (一次性告知)."""
    if not caller.has(roles.INTAKE_CLERK, roles.VILLAGE_ASSISTANT):
        raise ProblemError("forbidden", "Only intake clerks and village assistants record "
                                        "applications.")
    case = records.open_for_change(caller, case_id, if_match)
    if case.status != rules.ACCEPTED:
        raise ProblemError("transition-not-allowed", "The application is recorded at intake.",
                           extra={"from": case.status, "to": case.status, "allowed": []})
    duties.take(caller, cases.duty_ref(case), "case.application")  # intake work (001)
    wf = records.workflow_of(case)
    now = clock.now()
    after: dict[str, Any] = {}
    if body.get("pledge") is not None:
        wf.pledge_by_id, wf.pledge_at = caller.user_id, now
        wf.pledge_scan_sha256s = sorted(set(body["pledge"]["scan_sha256s"]))
        after["pledge_scan_sha256s"] = wf.pledge_scan_sha256s
    if body.get("authorization") is not None:
        wf.authorization_by_id, wf.authorization_at = caller.user_id, now
        wf.authorization_scan_sha256s = sorted(set(body["authorization"]["scan_sha256s"]))
        after["authorization_scan_sha256s"] = wf.authorization_scan_sha256s
    if body.get("missing_documents") is not None:
        wf.missing_documents = list(body["missing_documents"])
        wf.missing_documents_at = now
        after["missing_documents"] = wf.missing_documents
    cases.set_application(case, wf.pledge_at is not None, wf.authorization_at is not None)
    wf.updated_at = now
    db.session.flush()
    records.audit_case(case, "case.application_recorded", {}, after)
    return case


def record_economic_check(caller: Caller, case_id: str, if_match: str | None,
                          body: dict) -> Any:
    """The economic check (核对): requested, returned, result. A check that took more
    than the trigger (001: 15 days) extends the deadline to the extended one (≤ 30)."""
    if not caller.has(roles.INTAKE_CLERK, roles.REVIEWER):
        raise ProblemError("forbidden", "Only intake clerks and reviewers record the check.")
    case = records.open_for_change(caller, case_id, if_match)
    if case.status not in rules.OPEN:
        raise ProblemError("transition-not-allowed", "The case is decided.",
                           extra={"from": case.status, "to": case.status, "allowed": []})
    problems = rules.economic_check_date_problems(body["requested_at"], body.get("returned_at"),
                                                  clock.now())
    if problems:
        raise ProblemError("validation-failed", "The economic check's dates are impossible.",
                           problems)
    wf = records.workflow_of(case)
    before = {"requested_at": wf.economic_check_requested_at,
              "returned_at": wf.economic_check_returned_at, "result": wf.economic_check_result,
              "deadline_on": case.deadline_on}
    wf.economic_check_requested_at = body["requested_at"]
    wf.economic_check_returned_at = body.get("returned_at")
    wf.economic_check_result = body.get("result")
    took = rules.check_took_days(wf.economic_check_requested_at, wf.economic_check_returned_at)
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    deadline = rules.decision_deadline(
        case.kind, case.temporary_subtype, case.applied_at.astimezone(clock.SHANGHAI).date(),
        settings, records.add_working_days, took)
    if deadline is not None and (case.deadline_on is None or deadline > case.deadline_on):
        cases.set_deadline_on(case, deadline)
    cases.touch(case)
    wf.updated_at = clock.now()
    db.session.flush()
    records.audit_case(case, "case.economic_check_recorded", before, {
        "requested_at": wf.economic_check_requested_at,
        "returned_at": wf.economic_check_returned_at, "result": wf.economic_check_result,
        "took_days": took, "deadline_on": case.deadline_on})
    return case


TASKS = {
    # task -> (status it belongs to, the due field, the completion field, roles)
    "refusal_letter_sent": (rules.REFUSED, "refusal_letter_due_on", "refusal_letter_sent_at",
                            (roles.INTAKE_CLERK, roles.APPROVER)),
    "emergency_signatures_completed": (rules.APPROVED, "signatures_due_on",
                                       "signatures_completed_at", (roles.APPROVER,)),
    "special_case_filed": (rules.APPROVED, "filing_due_on", "filed_at", (roles.APPROVER,)),
    "temporary_aid_paid": (rules.APPROVED, "payment_due_on", "paid_at", (roles.APPROVER,)),
}


def complete_task(caller: Caller, case_id: str, if_match: str | None, task: str) -> Any:
    status, due_field, done_field, allowed = TASKS[task]
    if not caller.has(*allowed):
        raise ProblemError("forbidden", "Your role does not complete this task.")
    case = records.open_for_change(caller, case_id, if_match)
    wf = db.session.get(CaseWorkflow, case.id)
    if (case.status != status or wf is None or getattr(wf, due_field) is None
            or getattr(wf, done_field) is not None):
        raise ProblemError("task-not-open", f"The case has no open {task} task.")
    setattr(wf, done_field, clock.now())
    cases.touch(case)
    records.audit_case(case, "case.task_completed", {},
                       {"task": task, "due_on": getattr(wf, due_field)})
    return case


def _office(code: str) -> str:
    return notices.office(code)


def _reexamination_office(code: str) -> str:
    county = code[:6]
    name = jurisdictions.names({county}).get(county)
    return name + REEXAMINATION_SUFFIX if name else REEXAMINATION_FALLBACK


def document_content(caller: Caller, case_id: str, kind: str) -> dict:
    """The content of one printable document of the case; 409 when the case has none yet."""
    case = cases.get_visible(caller, case_id)
    wf = db.session.get(CaseWorkflow, case.id)
    home = households.facts([case.household_id])[case.household_id]
    head = home.head
    applicant = head.name if head else ""
    township = jurisdictions.township_of(case.jurisdiction_code)
    names = jurisdictions.names({township, case.jurisdiction_code})
    decided_on = (wf.decided_at.astimezone(clock.SHANGHAI).date().isoformat()
                  if wf is not None and wf.decided_at else None)
    if kind == "missing_documents_notice" and wf is not None and wf.missing_documents:
        return {"case_no": case.case_no or case.id, "applicant_name": applicant,
                "township": names.get(township, township), "items": list(wf.missing_documents),
                "issued_on": wf.missing_documents_at.astimezone(clock.SHANGHAI).date()
                .isoformat() if wf.missing_documents_at else None,
                "office": _office(case.jurisdiction_code)}
    if kind in ("public_notice", "approval_public_notice") and wf is not None:
        content = notices.case_notice(case, wf, kind)
        if content is not None:
            return content
    if kind in ("refusal_letter", "stop_notice") and wf is not None:
        is_refusal = kind == "refusal_letter"
        if (case.status == rules.REFUSED) == is_refusal and case.status in (
                rules.REFUSED, rules.STOPPED):
            return {"case_no": case.case_no or case.id, "applicant_name": applicant,
                    "reasons": list(wf.reasons),
                    "decided_on": decided_on if is_refusal else (
                        wf.stopped_on.isoformat() if wf.stopped_on else None),
                    "reexamination_office": _reexamination_office(case.jurisdiction_code),
                    "office": _office(case.jurisdiction_code)}
        if (is_refusal and case.status in rules.OPEN
                and wf.economic_check_result == "obviously_ineligible"):
            # 002: an obviously ineligible check result is told in writing, with the route
            # to re-examination, before any decision.
            return {"case_no": case.case_no or case.id, "applicant_name": applicant,
                    "reasons": [ECONOMIC_CHECK_INELIGIBLE],
                    "decided_on": records.today().isoformat(),
                    "reexamination_office": _reexamination_office(case.jurisdiction_code),
                    "office": _office(case.jurisdiction_code)}
    if kind == "approval_notice" and wf is not None and case.status == rules.APPROVED:
        return {"case_no": case.case_no or case.id, "applicant_name": applicant,
                "category": wf.category,
                "monthly_amount_yuan": str(wf.monthly_amount_yuan or wf.emergency_amount_yuan),
                "decided_on": decided_on,
                "members_count": len(home.members),
                "payment_starts_on": (wf.payment_starts_on or wf.payment_due_on
                                      or records.today()).isoformat(),
                "office": _office(case.jurisdiction_code)}
    if kind == "emergency_record" and wf is not None and wf.emergency_recipient:
        return {"case_no": case.case_no or case.id, "recipient_name": wf.emergency_recipient,
                "reason": wf.emergency_reason, "amount_yuan": str(wf.emergency_amount_yuan),
                "decided_on": decided_on,
                "signatures_due_on": wf.signatures_due_on.isoformat()
                if wf.signatures_due_on else None, "office": _office(case.jurisdiction_code)}
    raise ProblemError("document-not-available",
                       f"This case has no {kind} at its stage ({case.status}).")
