"""Everything a reviewer weighs for one visit (answers, stamps and photos against the
registered home, attestations, flags, a timeline) and the diff between two revisions, all
masked for the caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from backend import clock
from backend.audit import service as audit
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.errors import ProblemError
from backend.evidence import service as photos
from backend.extensions import db
from backend.forms import service as forms
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.privacy import rules as privacy_rules
from backend.reviews import queue, rules
from backend.reviews.models import ReviewComment
from backend.visits import flags as flag_catalogue
from backend.visits import queries as visits

MOVE_ACTIONS = {f"review.{state}": state for state in (
    rules.HAS_ISSUES, rules.APPROVED, rules.REJECTED, rules.REVISIT_REQUESTED,
    rules.SUPERSEDED)}


def evidence(caller: Caller, submission_id: str) -> dict:
    """Everything a reviewer weighs for one visit, masked for the caller: answers, stamps and
    photos against the registered home, attestations, flags and a timeline."""
    review = queue.get_visible(caller, submission_id)
    found = visits.evidence_of(caller, submission_id)
    if found is None:
        raise ProblemError("review-not-found", "The visit is gone.")
    settings = jurisdictions.effective_settings(review.jurisdiction_code)
    home_view = households.homes([found.household_id]).get(found.household_id)
    home = home_view.home if home_view is not None else None
    current = next(r for r in found.revisions if r.revision == found.current_revision)
    stamps: list[dict[str, Any]] = []
    for stamp in found.stamps:
        lat, lon = stamp.get("lat"), stamp.get("lon")
        where = (lat, lon) if isinstance(lat, int | float) and isinstance(lon, int | float) \
            else None
        stamps.append({
            "kind": stamp.get("kind"), "lat": stamp.get("lat"), "lon": stamp.get("lon"),
            "accuracy_m": stamp.get("accuracy_m"), "captured_at": stamp.get("captured_at"),
            "user_id": stamp.get("user_id"),
            "distance_from_home_m": rules.distance_m(where, home)})
    stored = photos.by_hashes([p.sha256 for p in found.photos])
    photo_views = []
    for ref in found.photos:
        exif = stored.get(ref.sha256)
        exif_point = ((exif.exif_lat, exif.exif_lon) if exif is not None
                      and exif.exif_lat is not None and exif.exif_lon is not None else None)
        device_point = ((ref.device_lat, ref.device_lon)
                        if ref.device_lat is not None and ref.device_lon is not None else None)
        taken = rules.exif_instant(exif.exif_taken_at_local, exif.exif_taken_at_offset,
                                   clock.SHANGHAI) if exif is not None else None
        photo_views.append({
            "sha256": ref.sha256, "field": ref.field, "is_uploaded": exif is not None,
            "url": f"/api/photos/{ref.sha256}",
            "thumbnail_url": f"/api/photos/{ref.sha256}/thumbnail",
            "exif_lat": exif_point[0] if exif_point else None,
            "exif_lon": exif_point[1] if exif_point else None,
            "exif_taken_at_local": exif.exif_taken_at_local if exif is not None else None,
            "exif_taken_at": taken,
            "device_lat": ref.device_lat, "device_lon": ref.device_lon,
            "device_captured_at": ref.device_captured_at,
            "distance_from_home_m": rules.distance_m(exif_point or device_point, home),
            "located_by": "exif" if exif_point else "device" if device_point else None,
            "minutes_outside_visit": rules.minutes_outside(
                taken or ref.device_captured_at, current.started_at, current.ended_at)})
    people = auth.staff_cards(
        {a.user_id for a in found.attestations} | {r.author_id for r in found.revisions}
        | {s["user_id"] for s in stamps if s["user_id"]})
    comments = db.session.scalars(select(ReviewComment).where(
        ReviewComment.submission_id == review.submission_id).order_by(
        ReviewComment.created_at, ReviewComment.id)).all()
    audit_rows = audit.events_for("visit_review", review.submission_id)
    people.update(auth.staff_cards({c.author_id for c in comments}
                                   | {e.actor_id for e in audit_rows if e.actor_id}
                                   - set(people)))

    def name(user_id: str | None) -> str | None:
        card = people.get(user_id) if user_id else None
        return card.display_name if card is not None else None

    for stamp in stamps:
        stamp["user_name"] = name(stamp["user_id"])
    return {
        **queue.to_view(review, caller),
        "comments": [{**queue.comment_view(c), "text": privacy_rules.mask_values(c.text, caller),
                      "author_name": name(c.author_id)} for c in comments],
        "form_id": found.form_id, "form_version": found.form_version,
        "answers": found.answers,
        "started_at": current.started_at, "ended_at": current.ended_at,
        "duration_minutes": rules.visit_minutes(current.started_at, current.ended_at),
        "home": {"lat": home[0], "lon": home[1]} if home else None,
        "distance_rings_m": rules.distance_rings(settings["max_home_distance_m"]),
        "stamps": stamps,
        "photos": photo_views,
        "attestations": [{
            "user_id": a.user_id, "name": name(a.user_id),
            "roles": list(people[a.user_id].roles) if a.user_id in people else [],
            "key_id": a.key_id, "device_id": a.device_id, "revision": a.revision,
            "is_current_revision": a.revision == found.current_revision,
            "is_signature_valid": a.is_signature_valid,
            "signed_at": a.signed_at, "received_at": a.received_at}
            for a in found.attestations],
        "flags": [_flag_with_thresholds(flag, settings) for flag in found.flags],
        "timeline": _timeline(found, comments, audit_rows, name),
    }


def _flag_with_thresholds(flag: dict, settings: dict) -> dict:
    kind = flag_catalogue.CATALOGUE.get(flag["code"])
    names = kind.thresholds if kind is not None else ()
    return {"code": flag["code"], "severity": flag["severity"], "revision": flag["revision"],
            "parameters": flag["data"],
            "thresholds": {n: settings[n] for n in names if n in settings},
            "detail_zh": flag["detail_zh"], "detail_en": flag["detail_en"]}


def _timeline(found: visits.VisitEvidence, comments: Sequence[ReviewComment], audit_rows: list,
              name) -> list[dict]:
    entries: list[dict] = []

    def add(at, event: str, actor_id: str | None = None, **extra) -> None:
        if at is not None:
            entries.append({"at": at, "event": event, "actor_id": actor_id,
                            "actor_name": name(actor_id), "revision": None, "state": None,
                            "field": None, **extra})

    first = found.revisions[0]
    add(first.started_at, "started", first.author_id, revision=1)
    add(first.ended_at, "ended", first.author_id, revision=1)
    for r in found.revisions:
        add(r.received_at, "received" if r.revision == 1 else "revised", r.author_id,
            revision=r.revision)
    for a in found.attestations:
        add(a.signed_at or a.received_at, "attested", a.user_id, revision=a.revision)
    for row in audit_rows:
        if row.action in MOVE_ACTIONS:
            add(row.at, "review_moved", row.actor_id, state=MOVE_ACTIONS[row.action],
                revision=(row.after or {}).get("revision"))
    for c in comments:
        add(c.created_at, "commented", c.author_id, revision=c.revision, field=c.field)
    return sorted(entries, key=rules.timeline_key)


def diff(caller: Caller, submission_id: str, from_revision: int | None,
         to_revision: int | None) -> dict:
    """Field by field, what changed between two revisions, masked for the caller."""
    review = queue.get_visible(caller, submission_id)
    facts = visits.facts(submission_id)
    if facts is None:
        raise ProblemError("review-not-found", "The visit is gone.")
    to_revision = to_revision or facts.current_revision
    from_revision = from_revision if from_revision is not None else max(to_revision - 1, 1)
    errors = {name: [f"between 1 and {facts.current_revision}"]
              for name, value in (("from", from_revision), ("to", to_revision))
              if not 1 <= value <= facts.current_revision}
    if errors:
        raise ProblemError("validation-failed", "No such revision of this visit.", errors)
    answers = visits.revision_answers(submission_id, [from_revision, to_revision])
    definition = forms.get_definition(facts.form_id, facts.form_version)
    changes = rules.diff_answers(answers.get(from_revision, {}), answers.get(to_revision, {}))
    return {"submission_id": review.submission_id, "from_revision": from_revision,
            "to_revision": to_revision,
            "changes": [{"field": c.field, "change": c.change,
                         "before": privacy_rules.mask_answer(c.before, _answer_path(c.field),
                                                       definition, caller),
                         "after": privacy_rules.mask_answer(c.after, _answer_path(c.field),
                                                      definition, caller)}
                        for c in changes]}


def _answer_path(field: str) -> str:
    """``members[0].id_number`` as the privacy masker names it: ``members.id_number``."""
    parsed = rules.parse_field(field)
    if parsed is None:
        return ""
    return parsed.name if parsed.member is None else f"{parsed.name}.{parsed.member}"
