"""Reading a case's workflow: what is recorded, what is due, what the caller may do, and
its timeline.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.audit import service as audit
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.duties import service as duties
from backend.extensions import db
from backend.jurisdictions import service as jurisdictions
from backend.workflow import notice_rules, panel, paperwork, periodic_reviews, records, rules
from backend.workflow.models import CaseObjection, CaseWorkflow, SpotCheck


def _names(*ids: str | None) -> dict[str, str]:
    return auth.display_names({i for i in ids if i})


def view(caller: Caller, case: Any) -> dict:
    """The workflow side of a case: what is recorded, what is due, what the caller may do."""
    wf = db.session.get(CaseWorkflow, case.id)
    key = rules.kind_key(case.kind, case.temporary_subtype)
    check = db.session.get(SpotCheck, case.id)
    objections = db.session.scalars(select(CaseObjection).where(
        CaseObjection.case_id == case.id).order_by(CaseObjection.recorded_at)).all()
    names = _names(case.intake_by_id, *(getattr(wf, f) for f in (
        "pledge_by_id", "authorization_by_id", "preliminary_review_by_id", "decided_by_id",
        "stopped_by_id") if wf is not None))
    get = (lambda name: getattr(wf, name)) if wf is not None else (lambda name: None)
    history = duties.history(case.id)
    names.update(_names(*(e.user_id for e in history)))

    def recorded(by_field: str, at_field: str, paths: tuple[str, ...]) -> dict:
        """Who recorded the pledge or the authorization, and when: the application record,
        or else the duty history's latest entry that set it (creation, PATCH)."""
        if get(by_field):
            return {"by": _who(get(by_field), names), "at": get(at_field)}
        entry = next((e for e in reversed(history) if e.path in paths), None)
        return {"by": _who(entry.user_id, names) if entry else None,
                "at": entry.at if entry else None}

    tasks = [{"task": task, "due_on": get(due), "completed_at": get(done)}
             for task, (status, due, done, _) in paperwork.TASKS.items()
             if case.status == status and get(due) is not None]
    return _plain({
        "case_id": case.id, "case_no": case.case_no, "kind_key": key, "status": case.status,
        "village_code": case.jurisdiction_code,
        "version": case.version,
        "allowed_transitions": notice_rules.targets_without_the_other_notice_path(
            rules.allowed_targets(case.status, key, caller.roles), case.status, key,
            bool(jurisdictions.effective_settings(case.jurisdiction_code)[
                "is_review_stage_notice_held"])),
        "duties": {"intake": _who(case.intake_by_id, names),
                   "preliminary_review": _who(get("preliminary_review_by_id"), names),
                   "approval": _who(get("decided_by_id"), names)},
        "duty_history": [{"duty": e.duty, "path": e.path, "at": e.at, "roles": list(e.roles),
                          "person": _who(e.user_id, names)} for e in history],
        "application": {
            "has_honesty_pledge": case.has_honesty_pledge,
            "is_economic_check_authorized": case.is_economic_check_authorized,
            "pledge": {**(recorded("pledge_by_id", "pledge_at",
                                   ("case.create", "case.update.pledge"))
                          if case.has_honesty_pledge else {"by": None, "at": None}),
                       "scan_sha256s": get("pledge_scan_sha256s") or []},
            "authorization": {**(recorded("authorization_by_id", "authorization_at",
                                          ("case.create", "case.update.authorization"))
                                 if case.is_economic_check_authorized
                                 else {"by": None, "at": None}),
                              "scan_sha256s": get("authorization_scan_sha256s") or []},
            "missing_documents": get("missing_documents") or [],
        },
        "economic_check": {"requested_at": get("economic_check_requested_at"),
                           "returned_at": get("economic_check_returned_at"),
                           "result": get("economic_check_result")},
        "panel": {"is_required_after_objection": bool(get("needs_panel")),
                  "record": get("panel_record"),
                  "drawn_members": [{"id": m.id, "name": m.name, "role": m.role}
                                    for m in panel.drawn_members(wf)] if wf else []},
        "proposal": {"category": get("category"),
                     "per_capita_income_yuan": get("per_capita_income_yuan"),
                     "standard_yuan": get("standard_yuan"), "members_count": get("members_count"),
                     "monthly_amount_yuan": get("monthly_amount_yuan")},
        "notice": {"round": get("notice_round") or 0, "starts_on": get("notice_starts_on"),
                   "ends_on": get("notice_ends_on"),
                   "is_over": rules.notice_is_over(get("notice_ends_on"), records.today())},
        "objections": [{"raised_by_name": o.raised_by_name, "content": o.content,
                        "notice_round": o.notice_round, "recorded_by_id": o.recorded_by_id,
                        "recorded_at": o.recorded_at} for o in objections],
        "spot_check": {"is_subject": rules.is_spot_check_subject(key),
                       "is_drawn": check is not None,
                       "is_sampled": bool(check and check.is_sampled),
                       "reason": check.reason if check else None,
                       "outcome": check.outcome if check else None,
                       "checked_at": check.checked_at if check else None},
        "decision": {"decided_at": get("decided_at"), "reasons": get("reasons") or [],
                     "refusal_letter_due_on": get("refusal_letter_due_on"),
                     "payment_starts_on": get("payment_starts_on"),
                     "payment_due_on": get("payment_due_on"),
                     "stopped_on": get("stopped_on")},
        "emergency": {"recipient_name": get("emergency_recipient"),
                      "reason": get("emergency_reason"),
                      "amount_yuan": get("emergency_amount_yuan"),
                      "signatures_due_on": get("signatures_due_on")},
        "tasks": tasks,
        "periodic_review": periodic_reviews.review_view(case),
    })


def _plain(value: Any) -> Any:
    """Dates, instants and money inside the view's open dicts as ISO text and strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return records.iso(value)


def _who(user_id: str | None, names: dict[str, str]) -> dict | None:
    return {"user_id": user_id, "display_name": names.get(user_id)} if user_id else None


def timeline(caller: Caller, case_id: str) -> list[dict]:
    """Every step of the case: what, who, when, from which device (全程留痕, 003)."""
    case = cases.get_visible(caller, case_id)
    events = audit.events_for("case", case.id)
    team = {u for e in events for u in (e.after or {}).get("team") or []}
    names = auth.display_names({e.actor_id for e in events if e.actor_id} | team)
    return [{"at": e.at, "action": e.action, "actor_id": e.actor_id,
             "actor_name": names.get(e.actor_id) if e.actor_id else None,
             "device_id": e.device_id, "from_status": (e.before or {}).get("status"),
             "to_status": (e.after or {}).get("status"), "before": e.before or {},
             "after": e.after or {},
             # who an assignment names (issue 21: the timeline said "指派调查员 · —")
             "team_names": [names.get(u) or u for u in (e.after or {}).get("team") or []]}
            for e in events]


def decisions_of_household(household_id: str) -> list[dict]:
    """The household's decided cases with their reasons, newest first: what the recipient's
    own view shows (PIPL Art. 44-45). Reasons are the decision's own words."""
    found = {c.id: c for c in cases.summaries(household_ids=[household_id])}
    if not found:
        return []
    rows = db.session.execute(select(
        CaseWorkflow.case_id, CaseWorkflow.decided_at, CaseWorkflow.reasons,
        CaseWorkflow.monthly_amount_yuan, CaseWorkflow.stopped_at).where(
        CaseWorkflow.case_id.in_(list(found)), CaseWorkflow.decided_at.is_not(None))
        .order_by(CaseWorkflow.decided_at.desc())).all()
    return [{"case_id": r.case_id, "case_no": found[r.case_id].case_no,
             "kind": found[r.case_id].kind, "status": found[r.case_id].status,
             "decided_at": r.decided_at, "reasons": list(r.reasons or []),
             "monthly_amount_yuan": r.monthly_amount_yuan, "stopped_at": r.stopped_at}
            for r in rows]
