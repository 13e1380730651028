"""Retention use cases: settings, legal holds, the dry run and the purge
(docs/decisions/0022-retention-and-purge.md).

Settings hold per deployment, not per county: a deployment is one county's civil-affairs
bureau, the personal-information handler (PIPL Art. 73) that answers for them; the audit
chain is one per deployment, so its prefix can only be purged at one age; and the periods
come from national law, not from a township's choice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.bulk import chunks
from backend.cases import service as cases
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.evidence import service as evidence
from backend.extensions import db
from backend.jurisdictions import rules as places
from backend.retention import core_kinds, registry, rules
from backend.retention.models import (
    LegalHold,
    PendingBlobDeletion,
    PurgedSubject,
    RetentionSetting,
)
from backend.versions import check_if_match

log = logging.getLogger(__name__)
# A report names at most this many cases per kind (the counts are always whole).
CASES_LISTED = 200

core_kinds.register()


# --- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class KindSetting:
    kind: str
    days: int
    default_days: int
    minimum_days: int
    counted_from: str
    source: str
    is_default: bool
    has_purger: bool
    version: int
    updated_at: datetime | None


def _require_county(caller: Caller, *allowed: str) -> None:
    if not caller.has(*allowed):
        raise ProblemError("forbidden", "Your role does not allow this.")
    if places.level_of(caller.jurisdiction_code) != "county":
        raise ProblemError("county-level-only",
                           "Retention holds for the whole county, so only county-level staff "
                           "see and change it.")


def _policy(kind: str) -> rules.RetentionPolicy:
    policy = registry.policy_of(kind)
    if policy is None:
        raise ProblemError("retention-kind-not-found", f"No kind of data is called {kind!r}.")
    return policy


def settings() -> list[KindSetting]:
    stored = {row.kind: row for row in db.session.scalars(select(RetentionSetting))}
    answer = []
    for policy in registry.policies():
        row = stored.get(policy.kind)
        answer.append(KindSetting(
            policy.kind, row.days if row else policy.default_days, policy.default_days,
            policy.minimum_days, policy.counted_from, policy.source, row is None,
            registry.registered(policy.kind) is not None, row.version if row else 0,
            row.updated_at if row else None))
    return answer


def setting_of(kind: str) -> KindSetting:
    _policy(kind)
    return next(s for s in settings() if s.kind == kind)


def list_settings(caller: Caller) -> list[KindSetting]:
    _require_county(caller, roles.ADMIN, roles.COUNTY_SUPERVISOR)
    return settings()


def set_days(caller: Caller, kind: str, days: int, if_match: str | None) -> KindSetting:
    """Change one kind's retention (county administrators); never under its floor."""
    _require_county(caller, roles.ADMIN)
    policy = _policy(kind)
    row = db.session.get(RetentionSetting, kind)
    check_if_match(if_match, row.version if row else 0, "retention setting")
    refused = rules.check_days(policy, days)
    if refused == "retention-below-minimum":
        raise ProblemError(refused, f"{kind} is kept at least {policy.minimum_days} days "
                                    f"({policy.source}).",
                           {"days": [f"at least {policy.minimum_days}"]},
                           extra={"minimum_days": policy.minimum_days})
    if refused:
        raise ProblemError(refused, f"At most {rules.LONGEST_DAYS} days.",
                           {"days": [f"at most {rules.LONGEST_DAYS}"]})
    before = {"days": row.days if row else policy.default_days}
    if row is None:
        row = RetentionSetting(kind=kind, version=0)
        db.session.add(row)
    row.days, row.updated_by_id, row.updated_at = days, caller.user_id, clock.now()
    row.version = (row.version or 0) + 1
    db.session.flush()
    audit.record("retention.setting_changed", "retention_setting", kind, before=before,
                 after={"days": days})
    return setting_of(kind)


# --- legal holds ------------------------------------------------------------------------------

HOLDERS = (roles.ADMIN, roles.COUNTY_SUPERVISOR)


def holds(caller: Caller, include_lifted: bool = False) -> list[LegalHold]:
    _require_county(caller, *HOLDERS)
    query = select(LegalHold).order_by(LegalHold.set_at.desc(), LegalHold.id)
    if not include_lifted:
        query = query.where(LegalHold.lifted_at.is_(None))
    return [hold for hold in db.session.scalars(query)
            if caller.covers(hold.jurisdiction_code)]


def set_hold(caller: Caller, case_id: str, reason: str) -> tuple[LegalHold, bool]:
    """Hold a case (nothing of it is purged until lifted); a case already held answers with
    its standing hold."""
    _require_county(caller, *HOLDERS)
    case = cases.get_visible(caller, case_id)  # the one scoping helper: 404 outside the area
    standing = db.session.scalar(select(LegalHold).where(
        LegalHold.case_id == case.id, LegalHold.lifted_at.is_(None)))
    if standing is not None:
        return standing, False
    hold = LegalHold(id=new_id(), case_id=case.id, household_id=case.household_id,
                     jurisdiction_code=case.jurisdiction_code, reason=reason,
                     set_by_id=caller.user_id, set_at=clock.now())
    db.session.add(hold)
    db.session.flush()
    audit.record("retention.hold_set", "case", case.id, after={"hold_id": hold.id,
                 "reason": reason}, jurisdiction_code=case.jurisdiction_code)
    return hold, True


def lift_hold(caller: Caller, hold_id: str, reason: str) -> LegalHold:
    _require_county(caller, *HOLDERS)
    hold = db.session.get(LegalHold, hold_id)
    if hold is None or not caller.covers(hold.jurisdiction_code):
        raise ProblemError("legal-hold-not-found", "No such legal hold in your area.")
    if hold.lifted_at is not None:
        raise ProblemError("legal-hold-lifted", "This hold was lifted already.")
    hold.lifted_at, hold.lifted_by_id, hold.lift_reason = clock.now(), caller.user_id, reason
    db.session.flush()
    audit.record("retention.hold_lifted", "case", hold.case_id, before={"hold_id": hold.id},
                 after={"reason": reason}, jurisdiction_code=hold.jurisdiction_code)
    return hold


def _standing_holds() -> tuple[set[str], set[str]]:
    rows = db.session.execute(select(LegalHold.case_id, LegalHold.household_id)
                              .where(LegalHold.lifted_at.is_(None))).all()
    return {case_id for case_id, _ in rows}, {household_id for _, household_id in rows}


# --- the dry run and the purge ----------------------------------------------------------------

@dataclass
class KindReport:
    """What a purge of one kind removes (dry run) or removed: counts and case ids only."""

    kind: str
    days: int
    cutoff: datetime
    has_purger: bool
    count: int = 0
    blob_count: int = 0
    held_count: int = 0
    case_ids: list[str] = field(default_factory=list)
    held_case_ids: list[str] = field(default_factory=list)
    note: str | None = None  # e.g. why the audit purge stopped


@dataclass
class PurgeReport:
    dry_run: bool
    at: datetime
    kinds: list[KindReport]
    blobs_deleted: int = 0


def _already_purged(kind: str, subject_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(subject_ids):
        found.update(db.session.scalars(select(PurgedSubject.subject_id).where(
            PurgedSubject.kind == kind, PurgedSubject.subject_id.in_(chunk))))
    return found


def _is_held(item: registry.Purgeable, held_cases: set[str], held_households: set[str]) -> bool:
    return bool(held_cases.intersection(item.case_ids)
                or held_households.intersection(item.household_ids))


def _plan_kind(setting: KindSetting, now: datetime, held_cases: set[str],
               held_households: set[str]) -> tuple[KindReport, list[registry.Purgeable]]:
    cutoff = rules.cutoff(now, setting.days)
    report = KindReport(setting.kind, setting.days, cutoff, setting.has_purger)
    kind = registry.registered(setting.kind)
    if kind is None:
        report.note = "no package holds this kind here"
        return report, []
    found = list(kind.find(cutoff))
    if kind.remembers_purged:
        done = _already_purged(kind.kind, [item.subject_id for item in found])
        found = [item for item in found if item.subject_id not in done]
    chosen: list[registry.Purgeable] = []
    held: list[registry.Purgeable] = []
    for item in found:
        (held if _is_held(item, held_cases, held_households) else chosen).append(item)
    report.count = len(chosen)
    report.blob_count = sum(len(item.blob_keys) for item in chosen)
    report.held_count = len(held)
    report.case_ids = sorted({c for item in chosen for c in item.case_ids})[:CASES_LISTED]
    report.held_case_ids = sorted({c for item in held for c in item.case_ids})[:CASES_LISTED]
    return report, chosen


def dry_run(now: datetime | None = None) -> PurgeReport:
    """What tonight's purge would remove, kind by kind; changes nothing."""
    now = now or clock.now()
    held_cases, held_households = _standing_holds()
    kinds = [_plan_kind(setting, now, held_cases, held_households)[0]
             for setting in settings()]
    for report in kinds:
        if report.kind == rules.AUDIT_RECORD:
            core_kinds.describe_audit_plan(report, held_cases)
    return PurgeReport(True, now, kinds)


def report_for(caller: Caller) -> PurgeReport:
    _require_county(caller, roles.ADMIN, roles.COUNTY_SUPERVISOR)
    return dry_run()


def purge(now: datetime | None = None) -> PurgeReport:
    """Purge every kind past its retention, in this transaction: rows deleted or erased, an
    audit row per kind (what, how many, which cases, never the content), blob keys queued.
    The audit records go last, so the rows this purge writes are never in the prefix."""
    now = now or clock.now()
    held_cases, held_households = _standing_holds()
    reports = []
    for setting in settings():
        if setting.kind == rules.AUDIT_RECORD:
            continue
        report, chosen = _plan_kind(setting, now, held_cases, held_households)
        reports.append(report)
        kind = registry.registered(setting.kind)
        if kind is None or not chosen:
            continue
        kind.purge(chosen, report.cutoff)
        _remember(kind, chosen, now)
        _audit_purge(report)
    audit_report = _plan_kind(setting_of(rules.AUDIT_RECORD), now, held_cases,
                              held_households)[0]
    refused = not core_kinds.purge_audit(audit_report, held_cases)
    if refused:
        log.error("retention: the audit prefix was not purged: %s", audit_report.note)
    if audit_report.count or refused:  # a chain that does not verify is worth a record
        _audit_purge(audit_report)
    reports.append(audit_report)
    db.session.flush()
    return PurgeReport(False, now, reports)


def _remember(kind: registry.PurgeableKind, chosen: list[registry.Purgeable],
              now: datetime) -> None:
    if kind.remembers_purged:
        db.session.add_all(PurgedSubject(kind=kind.kind, subject_id=item.subject_id,
                                         purged_at=now) for item in chosen)
    keys = sorted({key for item in chosen for key in item.blob_keys})
    queued = _already_queued(keys)
    db.session.add_all(PendingBlobDeletion(blob_key=key, kind=kind.kind, queued_at=now)
                       for key in keys if key not in queued)
    db.session.flush()


def _already_queued(keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(keys):
        found.update(db.session.scalars(select(PendingBlobDeletion.blob_key)
                                        .where(PendingBlobDeletion.blob_key.in_(chunk))))
    return found


def _audit_purge(report: KindReport) -> None:
    audit.record("retention.purged", "retention_kind", report.kind, after={
        "count": report.count, "blobs": report.blob_count, "days": report.days,
        "cutoff": report.cutoff.isoformat(), "case_ids": report.case_ids,
        "held_back": report.held_count, "note": report.note})


def delete_pending_blobs(limit: int = 5000) -> int:
    """Delete from storage the files of purges already committed, and forget them."""
    keys = list(db.session.scalars(select(PendingBlobDeletion.blob_key)
                                   .order_by(PendingBlobDeletion.queued_at,
                                             PendingBlobDeletion.blob_key).limit(limit)))
    deleted = evidence.delete_blobs(keys)
    for chunk in chunks(deleted):
        db.session.execute(delete(PendingBlobDeletion)
                           .where(PendingBlobDeletion.blob_key.in_(chunk)))
    return len(deleted)


def run_nightly(now: datetime | None = None) -> PurgeReport:
    """The nightly job: purge, commit, then delete the files whose rows are gone (a failed
    commit leaves every file in place; a failed file delete is retried the next night)."""
    report = purge(now)
    db.session.commit()
    try:
        report.blobs_deleted = delete_pending_blobs()
    except Exception:  # storage down: the keys stay queued for the next run
        log.exception("retention: deleting purged files failed; retried next run")
    return report
