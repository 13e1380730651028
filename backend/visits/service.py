"""Accept home-visit records pushed from devices: exactly once, with flags and attestations.

The batch is handled set-wise (a few queries for the whole batch, bulk inserts with
ON CONFLICT DO NOTHING) so that a phone coming back with a day of visits is answered
quickly, and a replay or two devices racing store each record once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from marshmallow import ValidationError
from sqlalchemy import insert, select, update

from backend import clock
from backend.audit import service as audit
from backend.auth.models import DeviceKey
from backend.auth.rules import Caller
from backend.cases import rules as case_rules
from backend.cases.models import Case, CaseTeamMember
from backend.errors import ProblemError, problem_body
from backend.evidence import service as evidence
from backend.evidence.models import Photo
from backend.extensions import db
from backend.forms import service as forms
from backend.households.models import Household
from backend.jurisdictions import service as jurisdictions
from backend.visits import rules
from backend.visits.models import (
    VisitAttestation,
    VisitFlag,
    VisitPhoto,
    VisitRevision,
    VisitSubmission,
)
from backend.visits.schemas import RECORD_SCHEMAS

CHINA = timezone(timedelta(hours=8))


@dataclass
class PushContext:
    caller: Caller
    device_id: str | None
    sent_at: datetime | None
    received_at: datetime
    cases: dict[str, Case] = field(default_factory=dict)
    teams: dict[str, set[str]] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    submissions: dict[str, VisitSubmission] = field(default_factory=dict)
    digests: dict[tuple[str, int], str] = field(default_factory=dict)
    keys: dict[str, DeviceKey] = field(default_factory=dict)
    photos: dict[str, Photo] = field(default_factory=dict)
    thresholds: dict[str, rules.IntegrityThresholds] = field(default_factory=dict)


def _rejected(record_id, slug: str, detail: str, errors: dict | None = None,
              extra: dict | None = None) -> dict:
    return {"id": record_id, "status": "rejected",
            "problem": problem_body(slug, detail, errors, extra)}


def _thresholds(settings: dict) -> rules.IntegrityThresholds:
    return rules.IntegrityThresholds(
        max_home_distance_m=settings["max_home_distance_m"],
        max_accuracy_m=settings["max_accuracy_m"],
        min_visit_minutes=settings["min_visit_minutes"],
        max_team_distance_m=settings["max_team_distance_m"],
        max_clock_skew_minutes=settings["max_clock_skew_minutes"],
        max_photo_distance_m=settings["max_photo_distance_m"],
        max_photo_time_gap_minutes=settings["max_photo_time_gap_minutes"],
        max_speed_kmh=settings["max_speed_kmh"],
    )


def push(caller: Caller, device_id: str | None, sent_at: datetime | None,
         records: list) -> list[dict]:
    """One result per record, in order; a bad record never rejects the others."""
    context = PushContext(caller, device_id, sent_at, clock.now())
    parsed: list[tuple[int, str, dict, dict]] = []
    results: list[dict | None] = [None] * len(records)
    for index, raw in enumerate(records):
        record_id = raw.get("id") if isinstance(raw, dict) else None
        kind = raw.get("type") if isinstance(raw, dict) else None
        # A list or an object as `type` cannot be looked up (unhashable): unknown too.
        schema = RECORD_SCHEMAS.get(kind) if isinstance(kind, str) else None
        if schema is None:
            results[index] = _rejected(record_id, "validation-failed",
                                       "Unknown record type.", {"type": ["unknown type"]})
            continue
        try:
            loaded = schema.load(raw)
        except ValidationError as invalid:
            results[index] = _rejected(record_id, "validation-failed",
                                       "The record is malformed; see errors.",
                                       _flatten(invalid.messages))
            continue
        parsed.append((index, kind, raw, loaded))
    _prefetch(context, parsed)
    accepted_submissions = []
    for index, kind, raw, loaded in parsed:
        if kind == "visit_submission":
            result, staged = _submission(context, raw, loaded)
            if staged is not None:
                accepted_submissions.append((index, staged))
        else:
            result = _attestation_record(context, loaded)
        results[index] = result
    _store_submissions(context, accepted_submissions, results)
    duplicates = [r["id"] for r in results if r and r["status"] == "duplicate" and len(r) == 2]
    if duplicates:
        stored = results_for(duplicates)
        for index, result in enumerate(results):
            if result and result["status"] == "duplicate" and len(result) == 2:
                results[index] = {**stored[result["id"]], "status": "duplicate"}
    return results  # type: ignore[return-value]


def _flatten(messages) -> dict:
    flat: dict = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            flat[prefix or "_record"] = value if isinstance(value, list) else [str(value)]

    walk("", messages)
    return flat


def _prefetch(context: PushContext, parsed) -> None:
    case_ids = {loaded["case_id"] for _, kind, _, loaded in parsed if kind == "visit_submission"}
    submission_ids = {loaded["id"] for _, kind, _, loaded in parsed if kind == "visit_submission"}
    submission_ids |= {loaded["submission_id"] for _, kind, _, loaded in parsed
                       if kind == "visit_attestation"}
    key_ids = {a["key_id"] for _, kind, _, loaded in parsed if kind == "visit_submission"
               for a in loaded["attestations"]}
    key_ids |= {loaded["key_id"] for _, kind, _, loaded in parsed if kind == "visit_attestation"}
    photo_ids = {p["sha256"] for _, kind, _, loaded in parsed if kind == "visit_submission"
                 for p in loaded["photos"]}
    for chunk in _chunks(submission_ids):
        for submission in db.session.scalars(
                select(VisitSubmission).where(VisitSubmission.id.in_(chunk))):
            context.submissions[submission.id] = submission
            case_ids.add(submission.case_id)
    for chunk in _chunks(case_ids):
        for case in db.session.scalars(select(Case).where(
                Case.id.in_(chunk), Case.jurisdiction_code.like(
                    context.caller.jurisdiction_code + "%"))):
            context.cases[case.id] = case
        for case_id, user_id in db.session.execute(select(
                CaseTeamMember.case_id, CaseTeamMember.user_id).where(
                CaseTeamMember.case_id.in_(chunk))):
            context.teams.setdefault(case_id, set()).add(user_id)
    household_ids = {case.household_id for case in context.cases.values()}
    for chunk in _chunks(household_ids):
        for household in db.session.scalars(select(Household).where(Household.id.in_(chunk))):
            context.households[household.id] = household
    if context.submissions:
        for chunk in _chunks(set(context.submissions)):
            for submission_id, revision, digest in db.session.execute(select(
                    VisitRevision.submission_id, VisitRevision.revision, VisitRevision.digest)
                    .where(VisitRevision.submission_id.in_(chunk))):
                context.digests[(submission_id, revision)] = digest
    for chunk in _chunks(key_ids):
        for key in db.session.scalars(select(DeviceKey).where(
                DeviceKey.id.in_(chunk), DeviceKey.revoked_at.is_(None))):
            context.keys[key.id] = key
    for chunk in _chunks(photo_ids):
        for photo in db.session.scalars(select(Photo).where(Photo.sha256.in_(chunk))):
            context.photos[photo.sha256] = photo
    for village in {case.jurisdiction_code for case in context.cases.values()}:
        context.thresholds[village] = _thresholds(jurisdictions.effective_settings(village))


def _chunks(values: set, size: int = 500):
    items = sorted(values)
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class StagedSubmission:
    raw: dict
    loaded: dict
    case: Case
    digest: str
    revision: int
    is_new: bool
    computed: dict
    flags: list
    attestation_rows: list[dict]
    is_complete: bool
    attested_by: list[str]
    attestation_problems: list[str]
    missing_photos: list[str]


def _case_problem(context: PushContext, case_id: str) -> dict | None:
    case = context.cases.get(case_id)
    if case is None:
        return problem_body("case-not-found", "No such case in your area.")
    if context.caller.user_id not in context.teams.get(case_id, set()):
        return problem_body("case-not-assigned",
                            "You are not on this case's visit team; ask the township to "
                            "assign you, then sync again.")
    if case.status not in case_rules.OPEN_STATUSES:
        return problem_body("conflict", "This case is already decided; the visit can no "
                            "longer change it.")
    return None


def _submission(context: PushContext, raw: dict, loaded: dict):
    record_id = loaded["id"]
    problem = _case_problem(context, loaded["case_id"])
    if problem:
        return {"id": record_id, "status": "rejected", "problem": problem}, None
    digest = rules.submission_digest(raw)
    existing = context.submissions.get(record_id)
    revision = 1
    if existing is not None:
        if existing.case_id != loaded["case_id"]:
            return _rejected(record_id, "conflict", "This id belongs to another case."), None
        known = {d: r for (s, r), d in context.digests.items() if s == record_id}
        if digest in known:
            return {"id": record_id, "status": "duplicate"}, None  # completed in one batch
        if loaded["base_revision"] != existing.current_revision:
            return _conflict(record_id, existing, raw, loaded["base_revision"]), None
        revision = existing.current_revision + 1
    case = context.cases[loaded["case_id"]]
    try:
        definition = forms.get_definition(loaded["form_id"], loaded["form_version"])
    except ProblemError as missing:
        return _rejected(record_id, missing.slug, missing.detail or "Unknown form."), None
    errors, computed = forms.validate_answers(definition, loaded["data"],
                                              {"case_kind": case.kind})
    if errors:
        return _rejected(record_id, "form-invalid",
                         "Some answers need fixing before the visit can be filed; see errors.",
                         errors), None
    household = context.households[case.household_id]
    flags = _flags(context, case, household, loaded)
    attestation_rows, status = _attestations(context, record_id, digest, loaded["attestations"],
                                             context.teams[case.id], previous=[])
    missing = sorted({p["sha256"] for p in loaded["photos"]} - set(context.photos))
    staged = StagedSubmission(raw, loaded, case, digest, revision, existing is None, computed,
                              flags, attestation_rows, status.is_complete, status.attested_by,
                              status.problems, missing)
    return None, staged


def _conflict(record_id: str, existing: VisitSubmission, raw: dict, base: int | None) -> dict:
    server = db.session.get(VisitRevision, (record_id, existing.current_revision))
    return _rejected(
        record_id, "submission-conflict",
        "Someone changed this visit on the server after your copy. Compare both versions, "
        "then send your change again based on the server's revision.",
        extra={"server_version": {"revision": server.revision, "content": server.content,
                                  "author_id": server.author_id,
                                  "received_at": server.received_at.isoformat()},
               "your_version": {"base_revision": base,
                                "content": {k: raw.get(k) for k in rules.ATTESTED_KEYS}}})


def _duplicate_result(record_id: str) -> dict:
    result = result_for(record_id)
    result["status"] = "duplicate"
    return result


def _aware_exif_time(photo: Photo) -> datetime | None:
    if not photo.exif_taken_at_local:
        return None
    try:
        local = datetime.fromisoformat(photo.exif_taken_at_local)
    except ValueError:
        return None
    if photo.exif_taken_at_offset:
        sign = 1 if photo.exif_taken_at_offset[0] == "+" else -1
        hours, minutes = photo.exif_taken_at_offset[1:].split(":")
        tz = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    else:
        tz = CHINA  # cameras without an offset write local time; these phones are in China
    return local.replace(tzinfo=tz)


def _flags(context: PushContext, case: Case, household: Household, loaded: dict) -> list:
    stamps = [rules.GpsStamp(s["lat"], s["lon"], s["accuracy_m"], s["captured_at"], s["kind"],
                             s["device_id"] or context.device_id, s["user_id"])
              for s in loaded["stamps"]]
    photos = []
    for ref in loaded["photos"]:
        stored = context.photos.get(ref["sha256"])
        if stored is not None and stored.exif_lat is not None:
            gps = (stored.exif_lat, stored.exif_lon)
        elif ref["lat"] is not None and ref["lon"] is not None:
            gps = (ref["lat"], ref["lon"])
        else:
            gps = None
        taken = (_aware_exif_time(stored) if stored is not None else None) or ref["captured_at"]
        photos.append(rules.PhotoEvidence(ref["sha256"], gps, taken))
    home = ((household.home_lat, household.home_lon)
            if household.home_lat is not None else None)
    flags = rules.integrity_flags(home, stamps, photos, context.received_at, context.sent_at,
                                  context.thresholds[case.jurisdiction_code])
    for ref in loaded["photos"]:
        if ref["sha256"] in context.photos:
            flags.extend(_reuse_flags(ref["sha256"], household.id))
    return flags


def _reuse_flags(sha256: str, household_id: str) -> list:
    similar = evidence.similar_photos(sha256)
    candidates = [sha256] + [other for other, _ in similar]
    distance_of = {sha256: 0, **dict(similar)}
    rows = db.session.execute(select(VisitPhoto.sha256, VisitPhoto.household_id).where(
        VisitPhoto.sha256.in_(candidates), VisitPhoto.household_id != household_id)).all()
    seen = set()
    flags = []
    for other_sha, other_household in rows:
        if other_household in seen:
            continue
        seen.add(other_household)
        flags.append(rules.reused_photo_flag(sha256, other_household, distance_of[other_sha]))
    return flags


def _attestations(context: PushContext, submission_id: str, digest: str, items: list[dict],
                  team: set[str], previous: list[VisitAttestation]):
    rows = []
    checks = [(a.user_id, a.key_user_id, a.is_signature_valid) for a in previous
              if a.digest == digest]
    for item in items:
        key = context.keys.get(item["key_id"])
        ok = key is not None and rules.verify_attestation(key.public_key_jwk, digest,
                                                          item["signature"])
        key_user = key.user_id if key is not None else None
        checks.append((item["user_id"], key_user, ok))
        rows.append({
            "id": item.get("id") or _attestation_id(submission_id, digest, item),
            "submission_id": submission_id, "digest": digest, "user_id": item["user_id"],
            "key_id": item["key_id"], "key_user_id": key_user,
            "device_id": key.device_id if key is not None else None,
            "signature": item["signature"],
            "signature_image_sha256": item.get("signature_image_sha256"),
            "signed_at": item.get("signed_at"), "received_at": context.received_at,
            "is_signature_valid": ok,
        })
    return rows, rules.attestation_status(team, checks)


def _attestation_id(submission_id: str, digest: str, item: dict) -> str:
    """Attestations inside a submission have no client id: derive a stable one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL,
                          f"doorstep:{submission_id}:{digest}:{item['user_id']}:{item['key_id']}"))


def _store_submissions(context: PushContext, staged: list[tuple[int, StagedSubmission]],
                       results: list) -> None:
    """Insert everything accepted in a few statements; a lost race becomes a duplicate."""
    if not staged:
        return
    now = context.received_at
    new_rows = [{
        "id": s.loaded["id"], "case_id": s.case.id, "household_id": s.case.household_id,
        "form_id": s.loaded["form_id"], "form_version": s.loaded["form_version"],
        "current_revision": 1, "is_complete": s.is_complete,
        "submitted_by_id": context.caller.user_id, "received_at": now, "updated_at": now,
    } for _, s in staged if s.is_new]
    inserted = set(_insert_ignoring_conflicts(VisitSubmission, new_rows, "id"))
    won: list[tuple[int, StagedSubmission]] = []
    for index, s in staged:
        if s.is_new and s.loaded["id"] not in inserted:
            results[index] = None  # another request stored it first; answered below
            continue
        if not s.is_new:
            moved = db.session.execute(
                update(VisitSubmission)
                .where(VisitSubmission.id == s.loaded["id"],
                       VisitSubmission.current_revision == s.revision - 1)
                .values(current_revision=s.revision, is_complete=s.is_complete, updated_at=now))
            if moved.rowcount != 1:
                results[index] = _rejected(s.loaded["id"], "submission-conflict",
                                           "Another change to this visit arrived at the same "
                                           "time; sync again to see it.")
                continue
        won.append((index, s))
    _bulk(VisitRevision, [{
        "submission_id": s.loaded["id"], "revision": s.revision, "digest": s.digest,
        "content": {k: s.raw[k] for k in rules.ATTESTED_KEYS},
        "computed": s.computed, "author_id": context.caller.user_id,
        "device_id": context.device_id, "started_at": s.loaded["started_at"],
        "ended_at": s.loaded["ended_at"], "captured_at": s.loaded["captured_at"],
        "sent_at": context.sent_at, "received_at": now,
    } for _, s in won])
    _insert_ignoring_conflicts(VisitAttestation, [row for _, s in won
                                                  for row in s.attestation_rows], "id")
    _bulk(VisitFlag, [{
        "submission_id": s.loaded["id"], "revision": s.revision, "code": f.code,
        "severity": f.severity, "detail_zh": f.detail_zh[:300], "detail_en": f.detail_en[:300],
        "data": f.data, "raised_at": now,
    } for _, s in won for f in s.flags])
    _bulk(VisitPhoto, [{
        "submission_id": s.loaded["id"], "revision": s.revision, "sha256": p["sha256"],
        "household_id": s.case.household_id, "field": p["field"], "lat": p["lat"],
        "lon": p["lon"], "accuracy_m": p["accuracy_m"], "captured_at": p["captured_at"],
    } for _, s in won for p in {p["sha256"]: p for p in s.loaded["photos"]}.values()])
    _locate_homes(context, won)
    audit.record_many([{
        "action": "visit.accepted" if s.revision == 1 else "visit.revised",
        "object_type": "visit_submission", "object_id": s.loaded["id"],
        "jurisdiction_code": s.case.jurisdiction_code,
        "after": {"case": s.case.id, "revision": s.revision, "digest": s.digest,
                  "flags": [f.code for f in s.flags], "attested_by": s.attested_by,
                  "is_complete": s.is_complete},
    } for _, s in won])
    for index, s in won:
        results[index] = {
            "id": s.loaded["id"], "status": "accepted", "revision": s.revision,
            "is_complete": s.is_complete, "attested_by": s.attested_by,
            "attestation_problems": s.attestation_problems, "missing_photos": s.missing_photos,
            "flags": [{"code": f.code, "severity": f.severity} for f in s.flags],
        }
    for index, s in staged:
        if results[index] is None:
            results[index] = _duplicate_result(s.loaded["id"])


def _bulk(model, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(model), rows)


def _insert_ignoring_conflicts(model, rows: list[dict], key: str) -> list:
    """INSERT … ON CONFLICT DO NOTHING RETURNING key, on SQLite and PostgreSQL alike."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    column = getattr(model, key)
    inserted = []
    for start in range(0, len(rows), 500):
        statement = (dialect_insert(model).values(rows[start:start + 500])
                     .on_conflict_do_nothing().returning(column))
        inserted.extend(db.session.scalars(statement).all())
    return inserted


def _locate_homes(context: PushContext, won) -> None:
    """A household without a registered location takes its first visit's start stamp."""
    from backend.households import service as households

    for _, s in won:
        household = context.households[s.case.household_id]
        if household.home_lat is not None:
            continue
        starts = [st for st in s.loaded["stamps"] if st["kind"] == "start"
                  and (st["accuracy_m"] or 1e9) <= context.thresholds[
                      s.case.jurisdiction_code].max_accuracy_m]
        if starts:
            households.set_home_location(household, starts[0]["lat"], starts[0]["lon"])


def _attestation_record(context: PushContext, loaded: dict) -> dict:
    """A signature made later, e.g. by the second investigator on their own phone."""
    submission = context.submissions.get(loaded["submission_id"])
    if submission is None or submission.case_id not in context.cases:
        return _rejected(loaded["id"], "not-found",
                         "The visit this signature is for has not reached the server yet; "
                         "the app will send it again after the visit.")
    if db.session.get(VisitAttestation, loaded["id"]) is not None:
        return _duplicate_result(submission.id) | {"id": loaded["id"]}
    team = context.teams.get(submission.case_id, set())
    current_digest = context.digests[(submission.id, submission.current_revision)]
    if loaded.get("digest") and loaded["digest"] != current_digest:
        return _rejected(loaded["id"], "submission-conflict",
                         "This signature is for an older version of the visit; sign the "
                         "current version.")
    previous = list(db.session.scalars(select(VisitAttestation).where(
        VisitAttestation.submission_id == submission.id)))
    rows, status = _attestations(context, submission.id, current_digest, [loaded], team,
                                 previous)
    inserted = _insert_ignoring_conflicts(VisitAttestation, rows, "id")
    if inserted:
        submission.is_complete = status.is_complete
        submission.updated_at = context.received_at
        audit.record("visit.attested", "visit_submission", submission.id,
                     after={"user": loaded["user_id"], "valid": rows[0]["is_signature_valid"],
                            "is_complete": status.is_complete})
    return {"id": loaded["id"], "status": "accepted" if inserted else "duplicate",
            "revision": submission.current_revision, "is_complete": status.is_complete,
            "attested_by": status.attested_by, "attestation_problems": status.problems}


def results_for(submission_ids: list[str]) -> dict[str, dict]:
    """Answers for many stored submissions in a few queries (a replayed batch)."""
    ids = sorted(set(submission_ids))
    answers: dict[str, dict] = {}
    for chunk in _chunks(set(ids)):
        submissions = {s.id: s for s in db.session.scalars(
            select(VisitSubmission).where(VisitSubmission.id.in_(chunk)))}
        current = {sid: s.current_revision for sid, s in submissions.items()}
        digests = {sid: d for sid, r, d in db.session.execute(select(
            VisitRevision.submission_id, VisitRevision.revision, VisitRevision.digest).where(
            VisitRevision.submission_id.in_(chunk))) if current.get(sid) == r}
        flags: dict[str, list] = {sid: [] for sid in submissions}
        for sid, revision, code, severity in db.session.execute(select(
                VisitFlag.submission_id, VisitFlag.revision, VisitFlag.code, VisitFlag.severity)
                .where(VisitFlag.submission_id.in_(chunk)).order_by(VisitFlag.id)):
            if current.get(sid) == revision:
                flags[sid].append({"code": code, "severity": severity})
        attested: dict[str, set] = {sid: set() for sid in submissions}
        for sid, user_id, digest in db.session.execute(select(
                VisitAttestation.submission_id, VisitAttestation.user_id, VisitAttestation.digest)
                .where(VisitAttestation.submission_id.in_(chunk),
                       VisitAttestation.is_signature_valid.is_(True),
                       VisitAttestation.key_user_id == VisitAttestation.user_id)):
            if digests.get(sid) == digest:
                attested[sid].add(user_id)
        photos: dict[str, set] = {sid: set() for sid in submissions}
        for sid, revision, sha in db.session.execute(select(
                VisitPhoto.submission_id, VisitPhoto.revision, VisitPhoto.sha256).where(
                VisitPhoto.submission_id.in_(chunk))):
            if current.get(sid) == revision:
                photos[sid].add(sha)
        held = evidence.known(sorted(set().union(*photos.values())) if photos else [])
        for sid, submission in submissions.items():
            answers[sid] = {
                "id": sid, "status": "accepted", "revision": submission.current_revision,
                "is_complete": submission.is_complete, "attested_by": sorted(attested[sid]),
                "missing_photos": sorted(photos[sid] - held), "flags": flags[sid]}
    return answers


def result_for(submission_id: str) -> dict:
    """The answer for a stored submission, the same however often it is asked."""
    return results_for([submission_id])[submission_id]


def can_view_photo(caller: Caller, sha256: str) -> bool:
    from backend.cases import service as cases

    photo = evidence.get(sha256)
    if photo is None:
        return False
    if photo.uploaded_by_id == caller.user_id:
        return True
    case_ids = db.session.scalars(select(VisitSubmission.case_id).join(
        VisitPhoto, VisitPhoto.submission_id == VisitSubmission.id).where(
        VisitPhoto.sha256 == sha256)).all()
    visible = cases.visible_cases(caller).where(Case.id.in_(case_ids))
    return db.session.scalar(visible.limit(1)) is not None


def visit_detail(caller: Caller, submission_id: str) -> dict:
    """Everything a reviewer needs: revisions, flags, attestations, photos."""
    from backend.cases import service as cases

    submission = db.session.get(VisitSubmission, submission_id)
    if submission is None:
        raise ProblemError("not-found", "No such visit.")
    cases.get_visible(caller, submission.case_id)
    revisions = db.session.scalars(select(VisitRevision).where(
        VisitRevision.submission_id == submission_id).order_by(VisitRevision.revision)).all()
    return {
        **result_for(submission_id),
        "case_id": submission.case_id, "form_id": submission.form_id,
        "form_version": submission.form_version, "received_at": submission.received_at,
        "revisions": [{"revision": r.revision, "digest": r.digest, "author_id": r.author_id,
                       "device_id": r.device_id, "captured_at": r.captured_at,
                       "received_at": r.received_at, "content": r.content,
                       "computed": r.computed} for r in revisions],
        "flags": [{"revision": f.revision, "code": f.code, "severity": f.severity,
                   "detail_zh": f.detail_zh, "detail_en": f.detail_en, "data": f.data}
                  for f in db.session.scalars(select(VisitFlag).where(
                      VisitFlag.submission_id == submission_id).order_by(VisitFlag.id))],
        "attestations": [{"user_id": a.user_id, "key_id": a.key_id, "device_id": a.device_id,
                          "digest": a.digest, "is_signature_valid": a.is_signature_valid,
                          "signed_at": a.signed_at, "received_at": a.received_at}
                         for a in db.session.scalars(select(VisitAttestation).where(
                             VisitAttestation.submission_id == submission_id))],
    }
