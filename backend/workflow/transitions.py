"""The one transition endpoint: move a case one step along its kind's table
(rules.TRANSITIONS), guarded by the rules, with the step's effects and its audit row.

Cases, households, visits and reviews are read through their services.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from backend import clock
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.dbtypes import new_id
from backend.documents import service as documents
from backend.duties import rules as duty_rules
from backend.duties import service as duties
from backend.errors import ProblemError
from backend.extensions import db
from backend.jurisdictions import service as jurisdictions
from backend.workflow import allowances, panel, panel_rules, periodic_reviews, records, rules
from backend.workflow.models import CaseObjection, CaseWorkflow, SpotCheck


def _panel(record: dict | None) -> rules.PanelRecord | None:
    if not record:
        return None
    return rules.PanelRecord(date.fromisoformat(record["held_on"]), record["members_present"],
                             record["cadres_present"], record["is_group_leader_present"],
                             record["is_discipline_officer_present"])


@dataclass(frozen=True)
class HeldPanel:
    """A panel record as given on the panel step: the stored form and what it derives."""

    record: dict
    counts: rules.PanelRecord
    problems: list[str]


def held_panel(wf: CaseWorkflow, given: dict | None) -> HeldPanel | None:
    """The attendance of the drawn panel (frozen with the draw), the counts derived from it
    and what is wrong with it; None when no record is given."""
    if given is None:
        return None
    drawn = panel.drawn_members(wf)
    attendance = {member_id: panel_rules.Attendance(
        entry["status"], entry.get("reason"), entry.get("substitute_name"),
        (entry.get("signature") or {}).get("kind"), (entry.get("signature") or {}).get("sha256"))
        for member_id, entry in given["attendance"].items()}
    counts = panel_rules.panel_counts(drawn, attendance, given["held_on"])
    record = {"held_on": records.iso(given["held_on"]), "opinion": given.get("opinion"),
              "attendance": given["attendance"], "members_present": counts.members_present,
              "cadres_present": counts.cadres_present,
              "is_group_leader_present": counts.is_group_leader_present,
              "is_discipline_officer_present": counts.is_discipline_officer_present}
    return HeldPanel(record, counts, panel_rules.attendance_problems(drawn, attendance))


def _facts(case: Any, wf: CaseWorkflow, key: str, body: dict, settings: dict,
           proposal: allowances.Proposal | None) -> rules.Facts:
    emergency = body.get("emergency") or {}
    objection = body.get("objection") or {}
    draw = db.session.get(SpotCheck, case.id)
    held = held_panel(wf, body.get("panel"))
    applied_on = case.applied_at.astimezone(clock.SHANGHAI).date()
    amount = emergency.get("amount_yuan")
    return rules.Facts(
        kind=case.kind,
        has_pledge=bool(case.has_honesty_pledge), has_authorization=bool(
            case.is_economic_check_authorized),
        visit_complete=records.is_visit_complete(case.id, settings["min_visit_team_size"]),
        economic_check_result=wf.economic_check_result,
        is_panel_held=bool(settings["is_panel_review_held"]),
        is_review_stage_notice_held=bool(settings["is_review_stage_notice_held"]),
        needs_panel_after_objection=wf.needs_panel,
        panel=held.counts if held is not None else _panel(wf.panel_record),
        is_panel_drawn=bool(wf.panel_seed),
        panel_attendance_problem="; ".join(held.problems) if held and held.problems else None,
        applied_on=applied_on,
        panel_drawn_on=wf.panel_drawn_at.astimezone(clock.SHANGHAI).date()
        if wf.panel_drawn_at else None,
        panel_min_members=settings["panel_min_members"],
        special_case_panel_min_members=settings["special_case_panel_min_members"],
        panel_due_on=records.add_working_days(applied_on, rules.SPECIAL_CASE_PANEL_WORKING_DAYS),
        notice_ends_on=wf.notice_ends_on, today=records.today(),
        is_spot_check_subject=rules.is_spot_check_subject(key),
        is_drawn=draw is not None, is_sampled=bool(draw and draw.is_sampled),
        spot_check_outcome=draw.outcome if draw else None,
        reasons=tuple(body.get("reasons") or ()),
        has_objection=bool(objection.get("raised_by_name") and objection.get("content")),
        emergency_recipient=emergency.get("recipient_name"),
        emergency_reason=emergency.get("reason"),
        emergency_amount=Decimal(str(amount)) if amount is not None else None,
        emergency_cap=Decimal(str(settings["emergency_aid_max_yuan"])),
        proposal_problem=proposal.problem if proposal else None,
        self_care_level=records.self_care_level(case.id, settings["min_visit_team_size"])
        if case.kind == "extreme_poverty" else None,
    )


def stored_facts(case: Any) -> rules.Facts:
    """The guards' facts from what the case has stored (its decision's reasons, emergency
    record and panel record instead of a request body): an auditor, or the demo's test,
    checks after the fact that each move the case made keeps its rules (guard_problems)."""
    wf = records.workflow_of(case)
    key = rules.kind_key(case.kind, case.temporary_subtype)
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    body: dict = {"reasons": list(wf.reasons or [])}
    if wf.emergency_recipient:
        body["emergency"] = {"recipient_name": wf.emergency_recipient,
                             "reason": wf.emergency_reason,
                             "amount_yuan": wf.emergency_amount_yuan}
    return _facts(case, wf, key, body, settings, None)


def transition(caller: Caller, case_id: str, if_match: str | None, body: dict) -> Any:
    """Move a case one step along its kind's table (rules.TRANSITIONS)."""
    case = records.open_for_change(caller, case_id, if_match)
    to = body["to"]
    key = rules.kind_key(case.kind, case.temporary_subtype)
    step = rules.transition_for(case.status, to, key)
    if step is None:
        raise ProblemError("transition-not-allowed",
                           f"A {key} case cannot move from {case.status} to {to}.",
                           extra={"from": case.status, "to": to,
                                  "allowed": rules.allowed_targets(case.status, key,
                                                                   caller.roles)})
    if not caller.has(*step.roles):
        raise ProblemError("forbidden", f"Moving a case to {to} needs one of the roles "
                                        f"{', '.join(sorted(step.roles))}.")
    # Separation of duties (001/003/004) over the case's whole duty history, before any
    # guard: the move's path names its duty (duties.rules.PATHS).
    duties.take(caller, cases.duty_ref(case),
                duty_rules.transition_path(case.status, to, key == rules.PERIODIC_REVIEW))
    wf = records.workflow_of(case)
    if body.get("panel") is not None and (case.status, to) != (rules.PANEL_REVIEW,
                                                               rules.REVIEWING):
        raise ProblemError("panel-outside-step",
                           "评议记录只在民主评议这一步登记 (the panel's record is taken only "
                           "from panel_review to reviewing)",
                           extra={"from": case.status, "to": to})
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    review = periodic_reviews.review_of(case) if key == rules.PERIODIC_REVIEW else None
    subject = cases.get_visible(caller, review.subject_case_id) if review else None
    proposal = None
    if to == rules.REVIEWING and review is None:
        proposal = allowances.propose(case, key, body, settings)
    elif to == rules.ADJUSTED and subject is not None:
        # 003: the new amount follows the same rules as at approval, for the subject's kind
        proposal = allowances.propose(subject, subject.kind, body, settings)
    facts = _facts(case, wf, key, body, settings, proposal)
    if review is not None:
        given = body.get("review") or {}
        facts = replace(facts, review_method=given.get("method")
                        or periodic_reviews.review_method(case, review),
                        review_findings=given.get("findings") or review.findings)
    problems = rules.guard_problems(step, facts)
    if problems:
        slug, message = problems[0]
        raise ProblemError(slug, message, {"to": [m for _, m in problems]},
                           extra={"rules": [s for s, _ in problems],
                                  "sources": {s: rules.GUARD_SOURCES.get(s) for s, _ in problems}})
    before = {"status": case.status}
    if review is not None and subject is not None:
        details = periodic_reviews.apply_review(caller, case, wf, review, subject, to, body,
                                                proposal)
    else:
        details = _apply(caller, case, wf, key, to, body, settings, proposal)
    cases.set_status(case, to)
    wf.updated_at = clock.now()
    db.session.flush()
    records.audit_case(case, "case.transition", before, {"status": to, **details})
    return case


def _apply(caller: Caller, case: Any, wf: CaseWorkflow, key: str, to: str, body: dict,
           settings: dict, proposal: allowances.Proposal | None) -> dict:
    """The step's effects on the workflow record; returns what the audit row says."""
    now, today = clock.now(), records.today()
    reasons = [r.strip() for r in body.get("reasons") or [] if r.strip()]
    # Reasons are printed (the refusal letter, 57号): refuse a phone or ID now, with the
    # letter's own check, rather than a letter that can never print.
    documents.refuse_identity_numbers({"reasons": reasons})
    if to == rules.REVIEWING and proposal is not None:
        held = held_panel(wf, body.get("panel"))
        if held is not None:
            wf.panel_record = held.record
        wf.preliminary_review_by_id, wf.preliminary_review_at = caller.user_id, now
        wf.category, wf.per_capita_income_yuan = proposal.category, proposal.per_capita_income
        wf.standard_yuan, wf.members_count = proposal.standard, proposal.members
        wf.monthly_amount_yuan = proposal.amount
        return {"category": wf.category, "monthly_amount_yuan": proposal.amount,
                "standard_yuan": proposal.standard, "panel": wf.panel_record}
    if to == rules.PUBLIC_NOTICE:
        wf.notice_round += 1
        wf.notice_starts_on = today
        wf.notice_ends_on = rules.notice_ends_on(today, settings["public_notice_days"])
        return {"notice_round": wf.notice_round, "notice_ends_on": wf.notice_ends_on}
    if to == rules.INVESTIGATING and case.status == rules.PUBLIC_NOTICE:
        objection = body["objection"]
        db.session.add(CaseObjection(
            id=new_id(), case_id=case.id, notice_round=wf.notice_round,
            raised_by_name=objection["raised_by_name"], content=objection["content"],
            recorded_by_id=caller.user_id, recorded_at=now))
        # 57号: an objection calls a panel, then the notice is posted again.
        wf.needs_panel, wf.panel_record = True, None
        return {"objection": objection, "needs_panel": True}
    if to == rules.APPROVED:
        wf.decided_by_id, wf.decided_at, wf.reasons = caller.user_id, now, reasons
        wf.bank_account = body.get("bank_account") or wf.bank_account
        wf.review_tier = body.get("review_tier") or wf.review_tier
        if key == "temporary.emergency":
            emergency = body["emergency"]
            wf.category = "temporary"
            wf.emergency_recipient = emergency["recipient_name"]
            wf.emergency_reason = emergency["reason"]
            wf.emergency_amount_yuan = Decimal(str(emergency["amount_yuan"]))
            wf.signatures_due_on = rules.emergency_signatures_due_on(
                today, settings["emergency_paperwork_within"], records.add_working_days)
            return {"emergency": {**emergency, "amount_yuan": str(wf.emergency_amount_yuan)},
                    "signatures_due_on": wf.signatures_due_on}
        if key == "temporary.expenditure":
            wf.payment_due_on = records.add_working_days(
                today, rules.TEMPORARY_PAYMENT_WORKING_DAYS)
            return {"amount_yuan": wf.monthly_amount_yuan, "payment_due_on": wf.payment_due_on}
        wf.payment_starts_on = rules.payment_starts_on(today)
        if case.kind == "special_case":
            wf.filing_due_on = records.add_working_days(
                today, rules.SPECIAL_CASE_FILING_WORKING_DAYS)
        details = {"category": wf.category, "monthly_amount_yuan": wf.monthly_amount_yuan,
                   "payment_starts_on": wf.payment_starts_on,
                   "filing_due_on": wf.filing_due_on, "review_tier": wf.review_tier}
        if case.kind == "extreme_poverty":  # 43号: the level the approval rests on
            details["self_care_level"] = records.self_care_level(
                case.id, settings["min_visit_team_size"])
        return details
    if to == rules.REFUSED:
        wf.decided_by_id, wf.decided_at, wf.reasons = caller.user_id, now, reasons
        wf.refusal_letter_due_on = records.add_working_days(
            today, rules.REFUSAL_LETTER_WORKING_DAYS)
        return {"reasons": reasons, "refusal_letter_due_on": wf.refusal_letter_due_on}
    if to == rules.STOPPED:
        wf.stopped_by_id, wf.stopped_at, wf.stopped_on = caller.user_id, now, today
        wf.reasons = reasons
        return {"reasons": reasons, "stopped_on": today}
    if to == rules.WITHDRAWN:
        wf.reasons = reasons
        return {"reasons": reasons}
    return {}
