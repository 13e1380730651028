"""The village's panel pool and the case's panel draw (004, 001)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.dbtypes import new_id
from backend.duties import service as duties
from backend.errors import ProblemError
from backend.extensions import db
from backend.jurisdictions import service as jurisdictions
from backend.workflow import panel_rules, records, rules
from backend.workflow.models import CaseWorkflow, PanelPoolMember

# Who may read a village's deliberation pool (names and roles of villagers): those who keep
# it (administrators, intake clerks), draw panels from it (reviewers), decide on the panel's
# result (approvers) and supervise (the county). Not field workers, assistants or recipients.
POOL_READERS = (roles.ADMIN, roles.INTAKE_CLERK, roles.REVIEWER, roles.APPROVER,
                roles.COUNTY_SUPERVISOR)


def pool(caller: Caller, village: str) -> list[PanelPoolMember]:
    if not caller.has(*POOL_READERS):
        raise ProblemError("forbidden", "Your role does not see the deliberation pool.")
    if not caller.covers(village):
        raise ProblemError("jurisdiction-not-found", f"No jurisdiction {village} in your area.")
    return list(db.session.scalars(select(PanelPoolMember).where(
        PanelPoolMember.village_code == village).order_by(PanelPoolMember.id)))


def replace_pool(caller: Caller, village: str, members: list[dict]) -> list[PanelPoolMember]:
    """Set a village's pool (administrators and intake clerks of the township)."""
    if not caller.has(roles.ADMIN, roles.INTAKE_CLERK):
        raise ProblemError("forbidden", "Only administrators and intake clerks keep the pool.")
    place = jurisdictions.place(village)
    if place is None or place.level != "village" or not caller.covers(village):
        raise ProblemError("jurisdiction-not-found", f"No village {village} in your area.")
    db.session.execute(PanelPoolMember.__table__.delete().where(
        PanelPoolMember.village_code == village))
    now = clock.now()
    rows = [PanelPoolMember(id=new_id(), village_code=village, name=m["name"], role=m["role"],
                            created_at=now) for m in members]
    db.session.add_all(rows)
    db.session.flush()
    audit.record("panel_pool.replaced", "jurisdiction", village, jurisdiction_code=village,
                 after={"members": len(rows)})
    return pool(caller, village)


def draw_panel(caller: Caller, case_id: str, if_match: str | None, group_leader_id: str | None,
               reason: str | None = None) -> Any:
    """Draw the case's panel from its village's pool with a stored seed (004; 001 special
    case: 12 members with a discipline officer). The draw freezes the pool (members and
    digest); drawing again needs a reason and is audited with the draw it replaces."""
    if not caller.has(roles.REVIEWER):
        raise ProblemError("forbidden", "Only reviewers draw panels.")
    case = records.open_for_change(caller, case_id, if_match)
    if case.status not in (rules.INVESTIGATING, rules.PANEL_REVIEW):
        raise ProblemError("transition-not-allowed", "A panel is drawn during the "
                                                     "investigation or the panel review.",
                           extra={"from": case.status, "to": rules.PANEL_REVIEW, "allowed": []})
    # Drawing the panel is part of the preliminary review (001: duties kept apart).
    duties.take(caller, cases.duty_ref(case), "panel.draw")
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    special = case.kind == "special_case"
    size = settings["special_case_panel_min_members" if special else "panel_min_members"]
    frozen = [panel_rules.DrawnMember(m.id, m.name, m.role)
              for m in pool(caller, case.jurisdiction_code)]
    members = [rules.PoolMember(m.id, m.role) for m in frozen]
    if group_leader_id is None:
        group_leader_id = next((m.id for m in members if m.role == "group_leader"), None)
    problems = rules.panel_pool_problems(members, settings["panel_pool_min"], size, special)
    if group_leader_id is None or group_leader_id not in {m.id for m in members}:
        problems.append("申请人所在村民小组组长须在评议库中 (the group leader; 004)")
    if problems:
        raise ProblemError("panel-pool-too-small", problems[0], {"pool": problems})
    wf = records.workflow_of(case)
    reason = (reason or "").strip()
    if wf.panel_seed and not reason:
        raise ProblemError("panel-redraw-reason-missing",
                           "这个评议小组已经抽取过; 重新抽取需说明原因 (the panel was drawn "
                           "already: say why it is drawn again)", {"reason": ["required"]})
    before = ({"seed": wf.panel_seed, "members": wf.panel_member_ids,
               "pool_sha256": wf.panel_pool_sha256} if wf.panel_seed else {})
    wf.panel_seed = secrets.token_hex(16)
    wf.panel_member_ids = rules.draw_panel(members, wf.panel_seed, size, group_leader_id,
                                           special)
    wf.panel_pool = [{"id": m.id, "name": m.name, "role": m.role} for m in frozen]
    wf.panel_pool_sha256 = panel_rules.pool_digest(frozen)
    wf.panel_drawn_at, wf.panel_drawn_by_id = clock.now(), caller.user_id
    wf.panel_record = None  # a record belongs to the panel it names
    cases.touch(case)
    after = {"seed": wf.panel_seed, "members": wf.panel_member_ids,
             "pool_sha256": wf.panel_pool_sha256}
    if before:
        after["reason"] = reason
    records.audit_case(case, "case.panel_redrawn" if before else "case.panel_drawn", before,
                       after)
    return case


def drawn_members(wf: CaseWorkflow) -> list[panel_rules.DrawnMember]:
    """The drawn panel, with names and roles as the draw froze them."""
    by_id = {m["id"]: m for m in wf.panel_pool or []}
    return [panel_rules.DrawnMember(i, by_id.get(i, {}).get("name", ""),
                                    by_id.get(i, {}).get("role", ""))
            for i in wf.panel_member_ids or []]


def panel_view(caller: Caller, case: Any) -> dict:
    wf = db.session.get(CaseWorkflow, case.id)
    if wf is None or not wf.panel_seed:
        return {"seed": None, "members": [], "redraw_matches": None, "pool_sha256": None,
                "pool_matches": None, "drawn_at": None}
    frozen = [panel_rules.DrawnMember(m["id"], m["name"], m["role"])
              for m in wf.panel_pool or []]
    chosen = list(wf.panel_member_ids or [])
    roles_of = {m.id: m.role for m in frozen}
    leader = next((i for i in chosen if roles_of.get(i) == "group_leader"), None)
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    special = case.kind == "special_case"
    size = settings["special_case_panel_min_members" if special else "panel_min_members"]
    again = rules.draw_panel([rules.PoolMember(m.id, m.role) for m in frozen],
                             wf.panel_seed, size, leader, special)
    return {"seed": wf.panel_seed, "redraw_matches": again == chosen,
            "pool_sha256": wf.panel_pool_sha256,
            "pool_matches": panel_rules.pool_digest(frozen) == wf.panel_pool_sha256,
            "drawn_at": records.iso(wf.panel_drawn_at),
            "members": [{"id": m.id, "name": m.name, "role": m.role}
                        for m in drawn_members(wf)]}
