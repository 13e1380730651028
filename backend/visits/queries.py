"""The visits read side: what stored visits answer to a device (a replayed push) and to the
review screens (one visit with its revisions, flags, attestations and photos)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from backend.auth.rules import Caller
from backend.bulk import any_of, chunks
from backend.cases import service as cases
from backend.errors import ProblemError
from backend.evidence import service as evidence
from backend.extensions import db
from backend.households import service as households
from backend.privacy import rules as privacy_rules
from backend.privacy import service as privacy
from backend.visits import flags
from backend.visits.models import (
    VisitAttestation,
    VisitFlag,
    VisitPhoto,
    VisitRevision,
    VisitSubmission,
)


class _STATEMENTS:
    """The reads every push and replay makes, built once with an expanding ``ids`` list
    (backend/bulk.py: building them and their cache keys anew, an IN list coerced value by
    value, cost more than the lookups)."""

    @staticmethod
    @functools.cache
    def submissions() -> Select:
        return select(VisitSubmission.id, VisitSubmission.case_id,
                      VisitSubmission.current_revision, VisitSubmission.is_complete).where(
            any_of(VisitSubmission.id))

    @staticmethod
    @functools.cache
    def digests() -> Select:
        return select(VisitRevision.submission_id, VisitRevision.revision,
                      VisitRevision.digest).where(any_of(VisitRevision.submission_id))

    @staticmethod
    @functools.cache
    def flags() -> Select:
        return select(VisitFlag.submission_id, VisitFlag.revision, VisitFlag.code,
                      VisitFlag.severity).where(
            any_of(VisitFlag.submission_id)).order_by(VisitFlag.id)

    @staticmethod
    @functools.cache
    def attestations() -> Select:
        return select(VisitAttestation.submission_id, VisitAttestation.user_id,
                      VisitAttestation.digest).where(
            any_of(VisitAttestation.submission_id),
            VisitAttestation.is_signature_valid.is_(True),
            VisitAttestation.key_user_id == VisitAttestation.user_id)

    @staticmethod
    @functools.cache
    def photos() -> Select:
        return select(VisitPhoto.submission_id, VisitPhoto.revision, VisitPhoto.sha256).where(
            any_of(VisitPhoto.submission_id))

    @staticmethod
    @functools.cache
    def stored_digests() -> Select:
        return select(VisitRevision.submission_id, VisitSubmission.case_id,
                      VisitRevision.digest).join(
            VisitSubmission, VisitSubmission.id == VisitRevision.submission_id).where(
            any_of(VisitRevision.submission_id))

    @staticmethod
    @functools.cache
    def stored_attestations() -> Select:
        return select(VisitAttestation.id, VisitAttestation.user_id,
                      VisitAttestation.submission_id, VisitSubmission.case_id).join(
            VisitSubmission, VisitSubmission.id == VisitAttestation.submission_id).where(
            any_of(VisitAttestation.id))

    @staticmethod
    @functools.cache
    def authors() -> Select:
        return select(VisitRevision.submission_id, VisitRevision.author_id).where(
            any_of(VisitRevision.submission_id))


def results_for(submission_ids: list[str]) -> dict[str, dict]:
    """Answers for many stored submissions in a few queries (a replayed batch)."""
    ids = sorted(set(submission_ids))
    answers: dict[str, dict] = {}
    for chunk in chunks(ids):
        # Columns, not the ORM row: the row's answers (a JSON document per visit) would be
        # decoded for nothing, a quarter of a 1,000-visit replay.
        named = {"ids": chunk}
        submissions = {s.id: s for s in db.session.execute(_STATEMENTS.submissions(), named)}
        current = {sid: s.current_revision for sid, s in submissions.items()}
        digests = {sid: d for sid, r, d in db.session.execute(_STATEMENTS.digests(), named)
                   if current.get(sid) == r}
        raised: dict[str, list] = {sid: [] for sid in submissions}
        for sid, revision, code, severity in db.session.execute(_STATEMENTS.flags(), named):
            if current.get(sid) == revision:
                raised[sid].append({"code": code, "severity": severity})
        attested: dict[str, set] = {sid: set() for sid in submissions}
        for sid, user_id, digest in db.session.execute(_STATEMENTS.attestations(), named):
            if digests.get(sid) == digest:
                attested[sid].add(user_id)
        photos: dict[str, set] = {sid: set() for sid in submissions}
        for sid, revision, sha in db.session.execute(_STATEMENTS.photos(), named):
            if current.get(sid) == revision:
                photos[sid].add(sha)
        held = own_photos({sid: (s.case_id, photos[sid]) for sid, s in submissions.items()})
        for sid, submission in submissions.items():
            answers[sid] = {
                "id": sid, "status": "accepted", "revision": submission.current_revision,
                "is_complete": submission.is_complete, "attested_by": sorted(attested[sid]),
                "missing_photos": sorted(photos[sid] - held[sid]), "flags": raised[sid]}
    return answers


def stored_digests(submission_ids: set[str]) -> dict[str, tuple[str, set[str]]]:
    """{submission: (its case, the digests of all its revisions)} for those stored: a replay's
    one lookup, by primary key."""
    found: dict[str, tuple[str, set[str]]] = {}
    for chunk in chunks(submission_ids):
        for sid, case_id, digest in db.session.execute(_STATEMENTS.stored_digests(),
                                                       {"ids": chunk}):
            found.setdefault(sid, (case_id, set()))[1].add(digest)
    return found


def stored_attestations(attestation_ids: set[str]) -> dict[str, tuple[str, str, str]]:
    """{attestation: (signer, its visit, the visit's case)} for those stored, by primary key."""
    found: dict[str, tuple[str, str, str]] = {}
    for chunk in chunks(attestation_ids):
        for aid, user_id, sid, case_id in db.session.execute(_STATEMENTS.stored_attestations(),
                                                             {"ids": chunk}):
            found[aid] = (user_id, sid, case_id)
    return found


def own_photos(named: dict[str, tuple[str, set[str]]]) -> dict[str, set[str]]:
    """Of the photos each visit names ({visit: (case, hashes)}), those the server holds from
    the visit's own people: its case's team or the visit's authors. Another team's upload of
    the same hash does not count, so whether a photo is missing (or what it shows) never
    tells a device that someone else has it."""
    if not named:
        return {}
    stored = evidence.by_hashes(set().union(*(hashes for _, hashes in named.values())))
    teams = cases.teams({case_id for case_id, _ in named.values()})
    authors: dict[str, set[str]] = {}
    for chunk in chunks(list(named)):
        for sid, author_id in db.session.execute(_STATEMENTS.authors(), {"ids": chunk}):
            authors.setdefault(sid, set()).add(author_id)
    return {sid: {sha for sha in hashes if sha in stored and stored[sha].uploaded_by_id
                  in teams[case_id] | authors.get(sid, set())}
            for sid, (case_id, hashes) in named.items()}


def result_for(submission_id: str) -> dict:
    """The answer for a stored submission, the same however often it is asked."""
    return results_for([submission_id])[submission_id]


def photos_filed_on(case_id: str, sha256s: list[str]) -> set[str]:
    """Which of ``sha256s`` a stored visit of the case already names."""
    return set(db.session.scalars(select(VisitPhoto.sha256).join(
        VisitSubmission, VisitSubmission.id == VisitPhoto.submission_id).where(
        VisitSubmission.case_id == case_id, VisitPhoto.sha256.in_(sha256s))))


def photos_of_revision(submission_id: str, revision: int) -> set[str]:
    return set(db.session.scalars(select(VisitPhoto.sha256).where(
        VisitPhoto.submission_id == submission_id, VisitPhoto.revision == revision)))


def photo_in_visible_visit(caller: Caller, sha256: str) -> bool:
    """Whether a visit of a case the caller may see names this photo, uploaded by that
    visit's own people (evidence asks): naming another team's hash opens nothing."""
    visits = db.session.execute(select(VisitSubmission.id, VisitSubmission.case_id).join(
        VisitPhoto, VisitPhoto.submission_id == VisitSubmission.id).where(
        VisitPhoto.sha256 == sha256)).all()
    owned = own_photos({sid: (case_id, {sha256}) for sid, case_id in visits})
    return bool(cases.visible_ids(caller, [case_id for sid, case_id in visits if owned[sid]]))


def visible_visit_of_photo(caller: Caller, sha256: str) -> tuple[str, str, str] | None:
    """(visit, case, household) of a visit the caller may see that names this photo, uploaded
    by that visit's own people (photo_in_visible_visit's rule); the newest such visit."""
    visits = db.session.execute(select(
        VisitSubmission.id, VisitSubmission.case_id, VisitSubmission.household_id).join(
        VisitPhoto, VisitPhoto.submission_id == VisitSubmission.id).where(
        VisitPhoto.sha256 == sha256).order_by(VisitSubmission.received_at.desc())).all()
    owned = own_photos({sid: (case_id, {sha256}) for sid, case_id, _ in visits})
    visible = cases.visible_ids(caller, [case_id for sid, case_id, _ in visits if owned[sid]])
    return next(((sid, case_id, household_id) for sid, case_id, household_id in visits
                 if owned[sid] and case_id in visible), None)


def submission_ids_of_cases(case_ids: list[str]) -> list[str]:
    """The visits of these cases, oldest first (the household's file)."""
    if not case_ids:
        return []
    return list(db.session.scalars(select(VisitSubmission.id).where(
        VisitSubmission.case_id.in_(case_ids)).order_by(
        VisitSubmission.received_at, VisitSubmission.id)))


def visit_detail(caller: Caller, submission_id: str) -> dict:
    """Everything a reviewer needs: revisions, flags, attestations, photos."""
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
                       "received_at": r.received_at,
                       "content": privacy.visit_content(caller, r.content),
                       "computed": privacy_rules.mask_values(r.computed, caller)}
                      for r in revisions],
        "flags": _flag_views(caller, list(db.session.scalars(select(VisitFlag).where(
            VisitFlag.submission_id == submission_id).order_by(VisitFlag.id)))),
        "attestations": [{"user_id": a.user_id, "key_id": a.key_id, "device_id": a.device_id,
                          "digest": a.digest, "is_signature_valid": a.is_signature_valid,
                          "signed_at": a.signed_at, "received_at": a.received_at}
                         for a in db.session.scalars(select(VisitAttestation).where(
                             VisitAttestation.submission_id == submission_id))],
    }


def _flag_views(caller: Caller, rows: list[VisitFlag]) -> list[dict]:
    """Flags as the caller may read them: a reused photo names the other household only to
    a reviewer or county supervisor whose jurisdiction holds it; others see the flag alone."""
    others = {f.data.get("other_household_id") for f in rows if "other_household_id" in f.data}
    places = households.homes(sorted(o for o in others if isinstance(o, str)))
    views = []
    for f in rows:
        data = dict(f.data)
        other = places.get(data.get("other_household_id"))  # type: ignore[arg-type]
        if "other_household_id" in data and not (
                caller.sees_reuse_source and other is not None
                and caller.covers(other.jurisdiction_code)):
            del data["other_household_id"]
        views.append({"revision": f.revision, "code": f.code, "severity": f.severity,
                      "detail_zh": flags.render(f.code, data, "zh"),
                      "detail_en": flags.render(f.code, data, "en"), "data": data})
    return views


@dataclass(frozen=True)
class VisitFacts:
    """What reviews need to know about a visit, without reading the visits' tables."""

    id: str
    case_id: str
    form_id: str
    form_version: int
    current_revision: int
    author_ids: frozenset[str]  # who sent any revision, and who attested any


def facts(submission_id: str) -> VisitFacts | None:
    submission = db.session.get(VisitSubmission, submission_id)
    if submission is None:
        return None
    authors = set(db.session.scalars(select(VisitRevision.author_id).where(
        VisitRevision.submission_id == submission_id)))
    authors.update(db.session.scalars(select(VisitAttestation.user_id).where(
        VisitAttestation.submission_id == submission_id)))
    return VisitFacts(submission.id, submission.case_id, submission.form_id,
                      submission.form_version, submission.current_revision,
                      frozenset(authors | {submission.submitted_by_id}))


def revision_answers(submission_id: str, revisions: list[int]) -> dict[int, dict]:
    """The answers (``content["data"]``) of some revisions of a visit, by revision."""
    return {revision: (content or {}).get("data") or {}
            for revision, content in db.session.execute(select(
                VisitRevision.revision, VisitRevision.content).where(
                VisitRevision.submission_id == submission_id,
                VisitRevision.revision.in_(revisions)))}


@dataclass(frozen=True)
class RevisionFacts:
    revision: int
    author_id: str
    device_id: str | None
    digest: str
    started_at: datetime | None
    ended_at: datetime | None
    captured_at: datetime | None
    received_at: datetime


@dataclass(frozen=True)
class PhotoFacts:
    """A photo the current revision names, with what the device claimed about it."""

    sha256: str
    field: str | None
    device_lat: float | None
    device_lon: float | None
    device_accuracy_m: float | None
    device_captured_at: datetime | None


@dataclass(frozen=True)
class AttestationFacts:
    user_id: str
    key_id: str | None
    device_id: str | None
    revision: int | None  # the revision whose digest it signs (None: no revision matches)
    is_signature_valid: bool
    signed_at: datetime | None
    received_at: datetime


@dataclass(frozen=True)
class VisitEvidence:
    """One visit's evidence for the review screens; answers and flags already masked."""

    submission_id: str
    case_id: str
    household_id: str
    form_id: str
    form_version: int
    current_revision: int
    received_at: datetime
    answers: dict
    stamps: list[dict]
    photos: list[PhotoFacts]
    revisions: list[RevisionFacts]
    attestations: list[AttestationFacts]
    flags: list[dict]


def evidence_of(caller: Caller, submission_id: str) -> VisitEvidence | None:
    """What a reviewer looks at for one visit (the caller's scope is checked by reviews)."""
    submission = db.session.get(VisitSubmission, submission_id)
    if submission is None:
        return None
    revisions = db.session.scalars(select(VisitRevision).where(
        VisitRevision.submission_id == submission_id).order_by(VisitRevision.revision)).all()
    current = next((r for r in revisions if r.revision == submission.current_revision),
                   revisions[-1])
    content = privacy.visit_content(caller, current.content) or {}
    by_digest = {r.digest: r.revision for r in revisions}
    photos = [PhotoFacts(p.sha256, p.field, p.lat, p.lon, p.accuracy_m, p.captured_at)
              for p in db.session.scalars(select(VisitPhoto).where(
                  VisitPhoto.submission_id == submission_id,
                  VisitPhoto.revision == current.revision).order_by(VisitPhoto.sha256))]
    attestations = [AttestationFacts(a.user_id, a.key_id, a.device_id, by_digest.get(a.digest),
                                     a.is_signature_valid, a.signed_at, a.received_at)
                    for a in db.session.scalars(select(VisitAttestation).where(
                        VisitAttestation.submission_id == submission_id).order_by(
                        VisitAttestation.received_at, VisitAttestation.id))]
    flag_rows = list(db.session.scalars(select(VisitFlag).where(
        VisitFlag.submission_id == submission_id,
        VisitFlag.revision == current.revision).order_by(VisitFlag.id)))
    return VisitEvidence(
        submission.id, submission.case_id, submission.household_id, submission.form_id,
        submission.form_version, current.revision, submission.received_at,
        content.get("data") or {}, list(content.get("stamps") or []), photos,
        [RevisionFacts(r.revision, r.author_id, r.device_id, r.digest, r.started_at,
                       r.ended_at, r.captured_at, r.received_at) for r in revisions],
        attestations, _flag_views(caller, flag_rows))


@dataclass(frozen=True)
class CurrentAnswers:
    """The latest revision's answers and computed values of a visit (not yet masked)."""

    form_id: str
    form_version: int
    data: dict
    computed: dict


def current_answers(submission_ids: list[str]) -> dict[str, CurrentAnswers]:
    """The latest revision's answers of many visits in one query per thousand (exports)."""
    found: dict[str, CurrentAnswers] = {}
    for chunk in chunks(submission_ids):
        for sid, form_id, form_version, content, computed in db.session.execute(select(
                VisitSubmission.id, VisitSubmission.form_id, VisitSubmission.form_version,
                VisitRevision.content, VisitRevision.computed).join(
                VisitRevision, (VisitRevision.submission_id == VisitSubmission.id)
                & (VisitRevision.revision == VisitSubmission.current_revision)).where(
                VisitSubmission.id.in_(chunk))):
            found[sid] = CurrentAnswers(form_id, form_version,
                                        (content or {}).get("data") or {}, computed or {})
    return found


def attesters_by_visit(case_id: str) -> dict[str, set[str]]:
    """Each visit of the case with who attested its current revision (a valid signature
    by the signer's own key), for the workflow's "home visit complete" (004)."""
    ids = list(db.session.scalars(select(VisitSubmission.id).where(
        VisitSubmission.case_id == case_id)))
    return {sid: set(answer["attested_by"]) for sid, answer in results_for(ids).items()}
