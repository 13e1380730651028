"""The kinds held by packages below retention: sign-in records (auth) and audit records
(audit). Packages above it (visits, check-ins, complaints) register their own kinds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from backend.audit import retention as audit_prefix
from backend.auth import retention as sign_ins
from backend.retention import registry, rules


def _find_sign_ins(cutoff: datetime) -> list[registry.Purgeable]:
    return [registry.Purgeable(session_id) for session_id in sign_ins.sign_ins_before(cutoff)]


def _purge_sign_ins(items: Sequence[registry.Purgeable], cutoff: datetime) -> None:
    # The throttle's failure counters go with the sign-ins, at the same age.
    sign_ins.forget_sign_ins([item.subject_id for item in items], cutoff)


def _no_items(_cutoff: datetime) -> list[registry.Purgeable]:
    # Audit rows go by whole prefix of the chain (purge_audit), never one by one.
    return []


def _nothing(_items: Sequence[registry.Purgeable], _cutoff: datetime) -> None:
    return None


def register() -> None:
    registry.register_kind(rules.SIGN_IN_RECORD, _find_sign_ins, _purge_sign_ins)
    registry.register_kind(rules.AUDIT_RECORD, _no_items, _nothing)


def describe_audit_plan(report, held_case_ids: set[str]) -> audit_prefix.PrefixPlan:
    plan = audit_prefix.plan_prefix(report.cutoff, held_case_ids)
    report.count = plan.rows
    if plan.stopped_by_hold_case_id:
        report.held_case_ids = [plan.stopped_by_hold_case_id]
        report.note = (f"stops at the first record of case {plan.stopped_by_hold_case_id}, "
                       "under legal hold")
    return plan


def purge_audit(report, held_case_ids: set[str]) -> bool:
    """Purge the audit chain's expired prefix behind a signed checkpoint. False when the
    prefix does not verify: it is left whole and named in the report's note."""
    plan = describe_audit_plan(report, held_case_ids)
    try:
        checkpoint = audit_prefix.purge_prefix(plan)
    except audit_prefix.ChainBrokenBeforePurge as broken:
        report.count = 0
        report.note = f"not purged: {broken}"
        return False
    if checkpoint is not None:
        report.note = (f"{report.note + '; ' if report.note else ''}"
                       f"checkpoint at position {checkpoint.seq}")
    return True
