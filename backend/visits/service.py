"""Accept home-visit records pushed from devices: exactly once, with flags and attestations.

The sync dispatcher hands each handler the batch's records of its type
(``visit_submission``, ``visit_attestation``; registered in visits/registration.py). A batch
is handled set-wise (a few queries for the whole batch, bulk inserts with ON CONFLICT DO
NOTHING) so that a phone coming back with a day of visits is answered quickly, and a replay
or two devices racing store each record once. Other packages are read through their services'
bulk reads; the home location is set by households on the VisitAccepted event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from backend import clock, events
from backend.attestation import canonical
from backend.attestation import rules as attestation
from backend.audit import service as audit
from backend.bulk import insert_ignoring_conflicts, insert_rows, insert_skipping_conflicts
from backend.cases.service import CaseForPush
from backend.devices import rules as device_rules
from backend.errors import ProblemError, problem_body
from backend.evidence import service as evidence
from backend.evidence.service import PhotoView
from backend.extensions import db
from backend.forms import service as forms
from backend.forms.identity import is_masked_resident_id
from backend.households import service as households
from backend.households.service import HomeView
from backend.jurisdictions import service as jurisdictions
from backend.privacy import rules as privacy_rules
from backend.privacy import service as privacy
from backend.sync.registry import ParsedRecord, PushBatch
from backend.visits import push_context, queries, rules
from backend.visits.flags import PHOTO_FLAG_CODES
from backend.visits.models import (
    VisitAttestation,
    VisitFlag,
    VisitPhoto,
    VisitRevision,
    VisitSubmission,
)
from backend.visits.push_context import PushContext
from backend.visits.schemas import PhotoRefSchema, StampSchema


@dataclass(frozen=True)
class StoredDuplicate:
    """A record already stored: answered with its stored result once the batch is done."""

    id: str


Answer = dict | StoredDuplicate | None


class StoredMeanwhile(Exception):
    """A visit of a batch was stored by another request after this one looked: the sync
    dispatcher rolls the group back and handles its records one at a time."""


def _rejected(record_id, slug: str, detail: str, errors: dict | None = None,
              extra: dict | None = None) -> dict:
    return {"id": record_id, "status": "rejected",
            "problem": problem_body(slug, detail, errors, extra)}


# --- visit_submission -----------------------------------------------------------------------


@dataclass
class StagedSubmission:
    raw: dict
    loaded: dict
    case: CaseForPush
    digest: str
    revision: int
    is_new: bool
    computed: dict
    flags: list[rules.Flag]
    attestation_rows: list[dict]
    is_complete: bool
    attested_by: list[str]
    attestation_problems: list[str]
    missing_photos: list[str]


def push_submissions(batch: PushBatch, records: list[ParsedRecord]) -> list[dict]:
    """The handler of ``visit_submission`` records: one result per record, in order."""
    loaded = [r.loaded for r in records]
    # The replay lookup found which of the ids are stored, moments ago (one stored since is
    # a lost race: its insert is skipped and it is answered as a duplicate).
    context = push_context.load(
        batch, stored_ids=batch.looked_up.get("visit_submission"),
        case_ids={s["case_id"] for s in loaded}, submission_ids={s["id"] for s in loaded},
        key_ids={a["key_id"] for s in loaded for a in s["attestations"]},
        photo_ids={p["sha256"] for s in loaded for p in s["photos"]}
        | {a["signature_image_sha256"] for s in loaded for a in s["attestations"]
           if a["signature_image_sha256"]})
    answers: list[Answer] = []
    staged: list[tuple[int, StagedSubmission]] = []
    first_of: dict[str, int] = {}  # a visit's first position in this push
    repeats: list[tuple[int, int]] = []
    for position, record in enumerate(records):
        first = first_of.setdefault(record.loaded["id"], position)
        if first != position:
            answers.append(None)  # answered once the first is
            repeats.append((position, first))
            continue
        answer, stage = _submission(context, record.raw, record.loaded)
        answers.append(answer)
        if stage is not None:
            staged.append((position, stage))
    _store_submissions(context, staged, answers)
    for position, first in repeats:
        answers[position] = _repeat_answer(records[first], records[position], answers[first])
    duplicates = [a.id for a in answers if isinstance(a, StoredDuplicate)]
    stored = queries.results_for(duplicates) if duplicates else {}
    return [{**stored[a.id], "status": "duplicate"} if isinstance(a, StoredDuplicate)
            else a for a in answers if a is not None]


def _repeat_answer(first: ParsedRecord, repeat: ParsedRecord, answered: Answer) -> Answer:
    """The answer to a visit sent again later in the same push.

    The same content: the first's answer (``duplicate`` once the first is stored). Other
    content: a conflict. Storing it as the next revision would need the first's answer,
    which the device has not seen yet, and answering ``duplicate`` would tell the device
    its change was stored, and lose it."""
    try:
        same = canonical.submission_digest(first.raw) == canonical.submission_digest(repeat.raw)
    except ValueError:  # unsignable: the first's answer says why
        same = False
    if not same:
        return _rejected(repeat.loaded["id"], "conflict",
                         "This visit is in this push twice, with different content. The "
                         "first is handled; send the changed one again in the next push, "
                         "based on the revision the first one gets.")
    if isinstance(answered, dict) and answered.get("status") == "accepted":
        return {**answered, "status": "duplicate"}
    return answered


def _case_problem(context: PushContext, case_id: str) -> dict | None:
    case = context.cases.get(case_id)
    if case is None:
        return problem_body("case-not-found", "No such case in your area.")
    if context.batch.caller.user_id not in case.team:
        return problem_body("case-not-assigned",
                            "You are not on this case's visit team; ask the township to "
                            "assign you, then sync again.")
    if not case.is_open:
        return problem_body("conflict", "This case is already decided; the visit can no "
                            "longer change it.")
    return None


def _submission(context: PushContext, raw: dict,
                loaded: dict) -> tuple[Answer, StagedSubmission | None]:
    record_id = loaded["id"]
    problem = _case_problem(context, loaded["case_id"])
    if problem:
        return {"id": record_id, "status": "rejected", "problem": problem}, None
    try:
        digest = canonical.submission_digest(raw)
    except ValueError as unsignable:  # rfc8785: an integer beyond +-(2**53 - 1), a NaN...
        return _rejected(record_id, "record-not-canonical",
                         "A value in this visit cannot be signed as canonical JSON (for "
                         "example a number beyond 9007199254740991); correct it and save "
                         "again.", {"_record": [str(unsignable)[:200]]}), None
    existing = context.submissions.get(record_id)
    revision = 1
    if existing is not None:
        if existing.case_id != loaded["case_id"]:
            return _rejected(record_id, "conflict", "This id belongs to another case."), None
        known = {d: r for (s, r), d in context.digests.items() if s == record_id}
        if digest in known:
            return StoredDuplicate(record_id), None  # completed in an earlier batch
        if loaded["base_revision"] != existing.current_revision:
            return _conflict(context, record_id, existing, raw, loaded["base_revision"]), None
        revision = existing.current_revision + 1
    case = context.cases[loaded["case_id"]]
    try:
        definition = forms.get_definition(loaded["form_id"], loaded["form_version"])
    except ProblemError as unknown:
        return _rejected(record_id, unknown.slug, unknown.detail or "Unknown form."), None
    errors, computed = forms.validate_answers(definition, loaded["data"],
                                              {"case_kind": case.kind})
    if errors:
        return _rejected(record_id, "form-invalid",
                         "Some answers need fixing before the visit can be filed; see errors.",
                         errors), None
    answers, unmatched = _unmasked_answers(definition, loaded["data"], existing,
                                           case.household_id)
    if unmatched:
        return _rejected(record_id, "masked-id-mismatch",
                         "A masked ID does not match the number on record; type the member's "
                         "full ID number.", unmatched), None
    if answers is not loaded["data"]:
        # Stored with the real numbers; the digest stays the one signed over what the phone
        # showed (the masks), which a replay of the same record matches.
        raw, loaded = {**raw, "data": answers}, {**loaded, "data": answers}
    foreign = _foreign_photos(context, case, loaded["photos"])
    if foreign:
        return _rejected(record_id, "photo-not-yours",
                         "Some photos were not uploaded by this case's visit team; take them "
                         "again on this visit.", {"photos": foreign}), None
    unsigned = _foreign_signature_images(context, loaded["attestations"],
                                         {p["sha256"] for p in loaded["photos"]}, "attestations.")
    if unsigned:
        return _rejected(record_id, "signature-image-not-yours", SIGNATURE_IMAGE_DETAIL,
                         unsigned), None
    flags = _flags(context, case, context.homes[case.household_id], loaded)
    attestation_rows, status = _attestations(context, record_id, digest, loaded["attestations"],
                                             case.team, previous=[],
                                             min_attesters=context.min_attesters[
                                                 case.jurisdiction_code])
    missing = sorted({p["sha256"] for p in loaded["photos"]} - set(context.photos))
    staged = StagedSubmission(raw, loaded, case, digest, revision, existing is None, computed,
                              flags, attestation_rows, status.is_complete, status.attested_by,
                              status.problems, missing)
    return None, staged


def _conflict(context: PushContext, record_id: str, existing: VisitSubmission, raw: dict,
              base: int | None) -> dict:
    server = db.session.get(VisitRevision, (record_id, existing.current_revision))
    assert server is not None  # every submission has its current revision
    # Both versions carry survey answers: masked for the pusher like any other read.
    caller = context.batch.caller
    yours = {k: raw.get(k) for k in canonical.ATTESTED_KEYS}
    return _rejected(
        record_id, "submission-conflict",
        "Someone changed this visit on the server after your copy. Compare both versions, "
        "then send your change again based on the server's revision.",
        extra={"server_version": {"revision": server.revision,
                                  "content": privacy.visit_content(caller, server.content),
                                  "author_id": server.author_id,
                                  "received_at": server.received_at.isoformat()},
               "your_version": {"base_revision": base,
                                "content": privacy.visit_content(caller, yours)}})


def _unmasked_answers(definition: dict, data: dict, existing: VisitSubmission | None,
                      household_id: str) -> tuple[dict, dict[str, list[str]]]:
    """The answers with masked IDs replaced by the numbers they stand for (visits.rules); the
    previous revision and the household register are read only when a masked ID came back."""
    paths = [path for path, kind in privacy_rules.identity_fields(definition).items()
             if kind == "resident_id"]
    if not any(is_masked_resident_id(value) for value in _answers_at(data, paths)):
        return data, {}
    previous: dict = {}
    if existing is not None:
        stored = db.session.get(VisitRevision, (existing.id, existing.current_revision))
        previous = (stored.content or {}).get("data") or {} if stored is not None else {}
    registered = [m.id_number for m in households.facts([household_id])[household_id].members
                  if m.id_number]
    return rules.unmask_resident_ids(data, paths, previous, registered)


def _answers_at(data: dict, paths: list[str]) -> list:
    values = []
    for path in paths:
        group, _, name = path.rpartition(".")
        rows = data.get(group) if group else [data]
        values += [row.get(name) for row in rows if isinstance(row, dict)] \
            if isinstance(rows, list) else []
    return values


def _foreign_photos(context: PushContext, case: CaseForPush, refs: list[dict]) -> list[str]:
    """Stored photos a visit names that neither a member of its team uploaded nor an earlier
    visit filed on its case: naming them would open another team's photo to this one. (A
    photo not on the server yet belongs to whoever uploads it; the app uploads first.)"""
    suspect = sorted({ref["sha256"] for ref in refs if ref["sha256"] in context.photos
                      and context.photos[ref["sha256"]].uploaded_by_id not in case.team})
    if not suspect:
        return []
    return sorted(set(suspect) - queries.photos_filed_on(case.id, suspect))


def _aware_exif_time(photo: PhotoView) -> datetime | None:
    if not photo.exif_taken_at_local:
        return None
    try:
        local = datetime.fromisoformat(photo.exif_taken_at_local)
    except ValueError:
        return None
    if photo.exif_taken_at_offset:
        sign = 1 if photo.exif_taken_at_offset[0] == "+" else -1
        hours, minutes = photo.exif_taken_at_offset[1:].split(":")
        return local.replace(tzinfo=timezone(sign * timedelta(hours=int(hours),
                                                              minutes=int(minutes))))
    # Cameras without an offset write local time; these phones are in China.
    return local.replace(tzinfo=clock.SHANGHAI)


def _stamps(stamps: list[dict], device_id: str | None) -> list[rules.GpsStamp]:
    return [rules.GpsStamp(s["lat"], s["lon"], s["accuracy_m"], s["captured_at"], s["kind"],
                           s["device_id"] or device_id, s["user_id"]) for s in stamps]


def _photo_evidence(stored_photos: dict[str, PhotoView],
                    refs: list[dict]) -> list[rules.PhotoEvidence]:
    """What the photos say: their EXIF once the server has them, else the device's claim."""
    photos = []
    for ref in refs:
        stored = stored_photos.get(ref["sha256"])
        gps: tuple[float, float] | None
        if stored is not None and stored.exif_lat is not None and stored.exif_lon is not None:
            gps = (stored.exif_lat, stored.exif_lon)
        elif ref["lat"] is not None and ref["lon"] is not None:
            gps = (ref["lat"], ref["lon"])
        else:
            gps = None
        taken = (_aware_exif_time(stored) if stored is not None else None) or ref["captured_at"]
        photos.append(rules.PhotoEvidence(ref["sha256"], gps, taken))
    return photos


def _photo_reuse_flags(stored_photos: dict[str, PhotoView], refs: list[dict],
                       household_id: str) -> list[rules.Flag]:
    return [flag for ref in refs if ref["sha256"] in stored_photos
            for flag in _reuse_flags(ref["sha256"], household_id)]


def _flags(context: PushContext, case: CaseForPush, home: HomeView,
           loaded: dict) -> list[rules.Flag]:
    batch = context.batch
    stamps = _stamps(loaded["stamps"], batch.device_id)
    photos = _photo_evidence(context.photos, loaded["photos"])
    flags = rules.integrity_flags(home.home, stamps, photos, batch.received_at, batch.sent_at,
                                  context.thresholds[case.jurisdiction_code])
    flags.extend(_photo_reuse_flags(context.photos, loaded["photos"], home.id))
    return flags


def _reuse_flags(sha256: str, household_id: str) -> list[rules.Flag]:
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


SIGNATURE_IMAGE_DETAIL = ("The signature image was not made by this signer, on the signing "
                          "phone, or for this visit; sign again on the phone that signs.")


def _foreign_signature_images(context: PushContext, items: list[dict], visit_photos: set[str],
                              prefix: str) -> dict[str, list[str]]:
    """Stored signature images that neither the signer uploaded, nor the signing key's device,
    nor the visit names among its photos: another person's picture of a hand must not pass
    for this signer's (谁调查谁签字). An image not on the server yet is its uploader's to
    come (the app uploads it from the signing phone)."""
    errors = {}
    for index, item in enumerate(items):
        sha = item.get("signature_image_sha256")
        stored = context.photos.get(sha) if sha else None
        if stored is None or sha in visit_photos:
            continue
        key = context.keys.get(item["key_id"])
        signing_device = key.device_id if key is not None else None
        if stored.uploaded_by_id == item["user_id"] or (
                signing_device is not None and stored.device_id == signing_device):
            continue
        errors[f"{prefix}{index}.signature_image_sha256"] = ["not-the-signers"]
    return errors


def _attestations(context: PushContext, submission_id: str, digest: str, items: list[dict],
                  team: frozenset[str], previous: list[VisitAttestation], min_attesters: int):
    rows = []
    checks: list[attestation.AttestationCheck] = [
        attestation.AttestationCheck(a.user_id, a.key_user_id, a.is_signature_valid)
        for a in previous if a.digest == digest]
    for item in items:
        key = context.keys.get(item["key_id"])
        signed = key is not None and attestation.verify_attestation(key.public_key_jwk, digest,
                                                                    item["signature"])
        # A key vouches only for what arrived before it was revoked (devices.rules).
        active = key is None or device_rules.is_key_active(key.revoked_at,
                                                           context.batch.received_at)
        ok = signed and active
        key_user = key.user_id if key is not None else None
        checks.append(attestation.AttestationCheck(item["user_id"], key_user, signed, active))
        rows.append({
            "id": item.get("id") or _attestation_id(submission_id, digest, item),
            "submission_id": submission_id, "digest": digest, "user_id": item["user_id"],
            "key_id": item["key_id"], "key_user_id": key_user,
            "device_id": key.device_id if key is not None else None,
            "signature": item["signature"],
            "signature_image_sha256": item.get("signature_image_sha256"),
            "signed_at": item.get("signed_at"), "received_at": context.batch.received_at,
            "is_signature_valid": ok,
        })
    return rows, attestation.attestation_status(set(team), checks,
                                                min_attesters=min_attesters)


def _attestation_id(submission_id: str, digest: str, item: dict) -> str:
    """Attestations inside a submission have no client id: derive a stable one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL,
                          f"doorstep:{submission_id}:{digest}:{item['user_id']}:{item['key_id']}"))


def _store_submissions(context: PushContext, staged: list[tuple[int, StagedSubmission]],
                       answers: list[Answer]) -> None:
    """Insert everything accepted in a few statements; a lost race becomes a duplicate."""
    if not staged:
        return
    batch = context.batch
    now = batch.received_at
    new_rows = [{
        "id": s.loaded["id"], "case_id": s.case.id, "household_id": s.case.household_id,
        "form_id": s.loaded["form_id"], "form_version": s.loaded["form_version"],
        "current_revision": 1, "is_complete": s.is_complete,
        "submitted_by_id": batch.caller.user_id, "received_at": now, "updated_at": now,
    } for _, s in staged if s.is_new]
    if len(new_rows) > 1:
        # No RETURNING for a batch (bulk.insert_skipping_conflicts): when a request racing
        # this one stored one of these visits first, the group is rolled back and the sync
        # dispatcher handles its records one at a time, each answered by the path below.
        if insert_skipping_conflicts(VisitSubmission, new_rows) != len(new_rows):
            raise StoredMeanwhile("a visit of this batch was stored by another request")
        inserted = {row["id"] for row in new_rows}
    else:
        inserted = set(insert_ignoring_conflicts(VisitSubmission, new_rows, "id"))
    won: list[tuple[int, StagedSubmission]] = []
    for index, s in staged:
        if s.is_new and s.loaded["id"] not in inserted:
            answers[index] = StoredDuplicate(s.loaded["id"])  # another request stored it first
            continue
        if not s.is_new:
            moved = db.session.execute(
                update(VisitSubmission)
                .where(VisitSubmission.id == s.loaded["id"],
                       VisitSubmission.current_revision == s.revision - 1)
                .values(current_revision=s.revision, is_complete=s.is_complete, updated_at=now))
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                answers[index] = _rejected(s.loaded["id"], "submission-conflict",
                                           "Another change to this visit arrived at the same "
                                           "time; sync again to see it.")
                continue
        won.append((index, s))
    insert_rows(VisitRevision, [{
        "submission_id": s.loaded["id"], "revision": s.revision, "digest": s.digest,
        "content": {k: s.raw[k] for k in canonical.ATTESTED_KEYS},
        "computed": s.computed, "author_id": batch.caller.user_id,
        "device_id": batch.device_id, "started_at": s.loaded["started_at"],
        "ended_at": s.loaded["ended_at"], "captured_at": s.loaded["captured_at"],
        "sent_at": batch.sent_at, "received_at": now,
    } for _, s in won])
    insert_skipping_conflicts(VisitAttestation, [row for _, s in won
                                                 for row in s.attestation_rows])
    insert_rows(VisitFlag, [{
        "submission_id": s.loaded["id"], "revision": s.revision, "code": f.code,
        "severity": f.severity, "data": f.data, "raised_at": now,
    } for _, s in won for f in s.flags])
    insert_rows(VisitPhoto, [{
        "submission_id": s.loaded["id"], "revision": s.revision, "sha256": p["sha256"],
        "household_id": s.case.household_id, "field": p["field"], "lat": p["lat"],
        "lon": p["lon"], "accuracy_m": p["accuracy_m"], "captured_at": p["captured_at"],
    } for _, s in won for p in {p["sha256"]: p for p in s.loaded["photos"]}.values()])
    for _, s in won:
        events.raise_(events.VisitAccepted(
            s.loaded["id"], s.revision, s.case.id, s.case.household_id,
            s.case.jurisdiction_code, _home_fix(context, s),
            flags=tuple((f.code, f.severity) for f in s.flags),
            author_id=batch.caller.user_id, received_at=now,
            started_at=s.loaded["started_at"], ended_at=s.loaded["ended_at"],
            team=s.case.team))
    audit.record_many([{
        "action": "visit.accepted" if s.revision == 1 else "visit.revised",
        "object_type": "visit_submission", "object_id": s.loaded["id"],
        "jurisdiction_code": s.case.jurisdiction_code,
        "after": {"case": s.case.id, "revision": s.revision, "digest": s.digest,
                  "flags": [f.code for f in s.flags], "attested_by": s.attested_by,
                  "is_complete": s.is_complete},
    } for _, s in won])
    for index, s in won:
        answers[index] = {
            "id": s.loaded["id"], "status": "accepted", "revision": s.revision,
            "is_complete": s.is_complete, "attested_by": s.attested_by,
            "attestation_problems": s.attestation_problems, "missing_photos": s.missing_photos,
            "flags": [{"code": f.code, "severity": f.severity} for f in s.flags],
        }


def _home_fix(context: PushContext, s: StagedSubmission) -> tuple[float, float] | None:
    """The first start stamp accurate enough to locate the home, if any (None when the
    household already had a location before this batch: nothing for households to do)."""
    if context.homes[s.case.household_id].home is not None:
        return None
    limit = context.thresholds[s.case.jurisdiction_code].max_accuracy_m
    starts = [st for st in s.loaded["stamps"]
              if st["kind"] == "start" and (st["accuracy_m"] or 1e9) <= limit]
    return (starts[0]["lat"], starts[0]["lon"]) if starts else None


# --- visit_attestation ----------------------------------------------------------------------


def push_attestations(batch: PushBatch, records: list[ParsedRecord]) -> list[dict]:
    """The handler of ``visit_attestation`` records: signatures made later, e.g. by the
    second investigator on their own phone."""
    loaded = [r.loaded for r in records]
    context = push_context.load(
        batch, case_ids=set(), submission_ids={a["submission_id"] for a in loaded},
        key_ids={a["key_id"] for a in loaded},
        photo_ids={a["signature_image_sha256"] for a in loaded if a["signature_image_sha256"]})
    return [_attestation_record(context, item) for item in loaded]


def _attestation_record(context: PushContext, loaded: dict) -> dict:
    caller_id = context.batch.caller.user_id
    if loaded["user_id"] != caller_id:
        # 谁调查谁签字: a signature travels only from its signer's own sign-in.
        return _rejected(loaded["id"], "attestation-not-yours",
                         "Only the investigator who signed may send their signature; they "
                         "sync it from their own sign-in.")
    submission = context.submissions.get(loaded["submission_id"])
    if submission is None or submission.case_id not in context.cases:
        return _rejected(loaded["id"], "not-found",
                         "The visit this signature is for has not reached the server yet; "
                         "the app will send it again after the visit.")
    if db.session.get(VisitAttestation, loaded["id"]) is not None:
        stored = queries.result_for(submission.id)
        return stored | {"status": "duplicate", "id": loaded["id"]}
    case = context.cases[submission.case_id]
    if caller_id not in case.team:
        return _rejected(loaded["id"], "attestation-not-team-member",
                         "You are not on this visit's team, so you cannot attest it; ask the "
                         "township to assign you.")
    if not case.is_open:
        return _rejected(loaded["id"], "case-closed",
                         "This case is already decided; its visits can no longer be signed.")
    team = case.team
    current_digest = context.digests[(submission.id, submission.current_revision)]
    if loaded.get("digest") and loaded["digest"] != current_digest:
        return _rejected(loaded["id"], "submission-conflict",
                         "This signature is for an older version of the visit; sign the "
                         "current version.")
    unsigned = _foreign_signature_images(context, [loaded], queries.photos_of_revision(
        submission.id, submission.current_revision), "")
    if unsigned:
        return _rejected(loaded["id"], "signature-image-not-yours", SIGNATURE_IMAGE_DETAIL,
                         {key.removeprefix("0."): value for key, value in unsigned.items()})
    previous = list(db.session.scalars(select(VisitAttestation).where(
        VisitAttestation.submission_id == submission.id)))
    rows, status = _attestations(
        context, submission.id, current_digest, [loaded], team, previous,
        min_attesters=context.min_attesters[context.cases[submission.case_id].jurisdiction_code])
    inserted = insert_ignoring_conflicts(VisitAttestation, rows, "id")
    if inserted:
        submission.is_complete = status.is_complete
        submission.updated_at = context.batch.received_at
        audit.record("visit.attested", "visit_submission", submission.id,
                     after={"user": loaded["user_id"], "valid": rows[0]["is_signature_valid"],
                            "is_complete": status.is_complete})
    return {"id": loaded["id"], "status": "accepted" if inserted else "duplicate",
            "revision": submission.current_revision, "is_complete": status.is_complete,
            "attested_by": status.attested_by, "attestation_problems": status.problems}


# --- a photo arriving after its visit -------------------------------------------------------


def on_photo_stored(event: events.PhotoStored) -> None:
    """A photo reached the server after a visit naming it was stored (an interrupted upload):
    the photo checks of that visit's current revision are made again, now with its EXIF."""
    rows = db.session.execute(
        select(VisitSubmission, VisitRevision)
        .join(VisitRevision, (VisitRevision.submission_id == VisitSubmission.id)
              & (VisitRevision.revision == VisitSubmission.current_revision))
        .join(VisitPhoto, (VisitPhoto.submission_id == VisitSubmission.id)
              & (VisitPhoto.revision == VisitSubmission.current_revision))
        .where(VisitPhoto.sha256 == event.sha256)
        .order_by(VisitSubmission.id)).all()
    # Only visits whose own people uploaded it: another team's photo of the same hash tells
    # a visit nothing (and its flags would tell the device that the photo exists).
    owned = queries.own_photos({s.id: (s.case_id, {event.sha256}) for s, _ in rows})
    for submission, revision in rows:
        if owned[submission.id]:
            _recheck_photos(submission, revision)


def _recheck_photos(submission: VisitSubmission, revision: VisitRevision) -> None:
    home = households.homes([submission.household_id])[submission.household_id]
    thresholds = push_context.thresholds_of(
        jurisdictions.effective_settings(home.jurisdiction_code))
    content = revision.content
    stamps = _stamps(StampSchema(many=True).load(content.get("stamps") or []),
                     revision.device_id)
    refs = PhotoRefSchema(many=True).load(content.get("photos") or [])
    stored = evidence.by_hashes({ref["sha256"] for ref in refs})
    flags = rules.check_photos(home.home, stamps, _photo_evidence(stored, refs), thresholds)
    flags.extend(_photo_reuse_flags(stored, refs, submission.household_id))
    current = db.session.scalars(select(VisitFlag).where(
        VisitFlag.submission_id == submission.id, VisitFlag.revision == revision.revision,
        VisitFlag.code.in_(PHOTO_FLAG_CODES)).order_by(VisitFlag.id)).all()
    before = [(f.code, f.data) for f in current]
    after = [(f.code, f.data) for f in flags]
    if before == after:
        return
    for row in current:
        db.session.delete(row)
    now = clock.now()
    insert_rows(VisitFlag, [{
        "submission_id": submission.id, "revision": revision.revision, "code": f.code,
        "severity": f.severity, "data": f.data, "raised_at": now} for f in flags])
    audit.record("visit.photos_rechecked", "visit_submission", submission.id,
                 before={"revision": revision.revision, "flags": [c for c, _ in before]},
                 after={"revision": revision.revision, "flags": [c for c, _ in after]},
                 jurisdiction_code=home.jurisdiction_code)
    # The review queue ranks visits by their flags: it learns the revision's new set.
    events.raise_(events.VisitFlagsChanged(submission.id, revision.revision, tuple(
        (row.code, row.severity) for row in db.session.execute(
            select(VisitFlag.code, VisitFlag.severity).where(
                VisitFlag.submission_id == submission.id,
                VisitFlag.revision == revision.revision).order_by(VisitFlag.id)))))
