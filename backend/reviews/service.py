"""Review use cases: the queue, one review, moves between states, comments, the diff between
revisions, the review tasks the team pulls, and the reaction to a synced visit.

Visits are read through visits.queries (facts and answers), teams through cases.service; the
review row is created and moved on by the VisitAccepted event, in the push's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.selectable import TableValuedAlias

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.dbtypes import UtcDateTime, new_id, utc_from_iso
from backend.errors import ProblemError
from backend.events import VisitAccepted, VisitFlagsChanged
from backend.evidence import service as photos
from backend.extensions import db
from backend.forms import service as forms
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.privacy import rules as privacy_rules
from backend.privacy import service as privacy
from backend.reviews import charts, export_rules, rules
from backend.reviews import dashboard_rules as board
from backend.reviews.models import ReviewComment, VisitReview
from backend.sync import rules as sync_rules
from backend.sync.registry import PullSlice
from backend.visits import flags as flag_catalogue
from backend.visits import queries as visits

READERS = (roles.REVIEWER, roles.APPROVER, roles.COUNTY_SUPERVISOR, roles.ADMIN)
MOVERS = (roles.REVIEWER,)
COMMENTERS = (roles.REVIEWER, roles.COUNTY_SUPERVISOR)


def _listed(values: Iterable[str]) -> str:
    return "," + "".join(f"{v}," for v in sorted(set(values)))


# --- the synced visit ---------------------------------------------------------------------


def on_visits_accepted(accepted: list[VisitAccepted]) -> None:
    """A first revision starts the review as received; a new revision of a visit that was
    sent back (or decided) makes it resubmitted; a new visit of a case supersedes a
    requested re-visit. One batch of synced visits is a few queries, whatever its size."""
    now = clock.now()
    ids = {event.submission_id for event in accepted}
    reviews = {review.submission_id: review for review in db.session.scalars(
        select(VisitReview).where(VisitReview.submission_id.in_(ids)))}
    teams = cases.teams(sorted({event.case_id for event in accepted}))
    trail: list[dict] = []
    first_new_visit_of_case: dict[str, str] = {}
    for event in accepted:
        risk = rules.risk_score(severity for _, severity in event.flags)
        team = set(teams.get(event.case_id, ()))
        if event.author_id:
            team.add(event.author_id)
        review = reviews.get(event.submission_id)
        if review is None:
            review = reviews[event.submission_id] = VisitReview(
                submission_id=event.submission_id, case_id=event.case_id,
                household_id=event.household_id, jurisdiction_code=event.jurisdiction_code,
                state=rules.RECEIVED, revision=event.revision, risk=risk, risk_rank=-risk,
                flag_codes=_listed(code for code, _ in event.flags), team_ids=_listed(team),
                received_at=event.received_at or now, updated_at=now,
                started_at=event.started_at, ended_at=event.ended_at, sent_back_count=0)
            db.session.add(review)
            first_new_visit_of_case.setdefault(event.case_id, event.submission_id)
            trail.append(_trail("review.received", review, None,
                                {"state": review.state, "revision": review.revision,
                                 "risk": risk}))
            continue
        before = review.state
        review.state = rules.after_new_revision(review.state)
        review.revision = event.revision
        review.risk, review.risk_rank = risk, -risk
        review.flag_codes = _listed(code for code, _ in event.flags)
        review.team_ids = _listed(team | set(filter(None, review.team_ids.split(","))))
        review.updated_at = now
        review.started_at, review.ended_at = event.started_at, event.ended_at
        trail.append(_trail("review.revised", review, {"state": before},
                            {"state": review.state, "revision": review.revision,
                             "risk": risk}))
    trail += _supersede_revisits(first_new_visit_of_case, now)
    db.session.flush()
    audit.record_many(trail)


def on_visit_flags_changed(event: VisitFlagsChanged) -> None:
    """A late photo changed the flags of a visit's reviewed revision: its risk, and so its
    place in the queue, follows (an older revision's flags do not rank the visit)."""
    review = db.session.scalar(select(VisitReview).where(
        VisitReview.submission_id == event.submission_id))
    if review is None or review.revision != event.revision:
        return
    risk = rules.risk_score(severity for _, severity in event.flags)
    flag_codes = _listed(code for code, _ in event.flags)
    if (risk, flag_codes) == (review.risk, review.flag_codes):
        return
    before = {"risk": review.risk, "flags": [c for c in review.flag_codes.split(",") if c]}
    review.risk, review.risk_rank, review.flag_codes = risk, -risk, flag_codes
    review.updated_at = clock.now()
    db.session.flush()
    audit.record_many([_trail("review.rescored", review, before, {
        "risk": risk, "flags": [c for c in flag_codes.split(",") if c],
        "revision": review.revision})])


def _trail(action: str, review: VisitReview, before: dict | None, after: dict) -> dict:
    return {"action": action, "object_type": "visit_review", "object_id": review.submission_id,
            "before": before, "after": after, "jurisdiction_code": review.jurisdiction_code}


def _supersede_revisits(new_visit_of_case: dict[str, str], now) -> list[dict]:
    """A new visit of a case closes the re-visits requested on its earlier visits."""
    if not new_visit_of_case:
        return []
    trail = []
    for review in db.session.scalars(select(VisitReview).where(
            VisitReview.case_id.in_(new_visit_of_case),
            VisitReview.state == rules.REVISIT_REQUESTED,
            VisitReview.submission_id.not_in(new_visit_of_case.values()))):
        review.state = rules.SUPERSEDED
        review.updated_at = now
        trail.append(_trail("review.superseded", review, {"state": rules.REVISIT_REQUESTED},
                            {"state": rules.SUPERSEDED,
                             "by": new_visit_of_case[review.case_id]}))
    return trail


# --- reading ------------------------------------------------------------------------------


def _require(caller: Caller, allowed: tuple[str, ...], what: str) -> None:
    if not caller.has(*allowed):
        raise ProblemError("forbidden", f"Your role does not allow you to {what}.")


def _visible(caller: Caller) -> Select:
    return select(VisitReview).where(within(VisitReview.jurisdiction_code, caller))


def get_visible(caller: Caller, submission_id: str) -> VisitReview:
    """The review of a visit in the caller's area; 403 for roles that never see the queue,
    404 (not 403) for a visit elsewhere: it must not even be confirmed to exist."""
    _require(caller, READERS, "see the review queue")
    review = db.session.scalar(_visible(caller).where(VisitReview.submission_id == submission_id))
    if review is None:
        raise ProblemError("review-not-found", "No visit with that id to review in your area.")
    return review


def _team_of(review: VisitReview) -> set[str]:
    team = set(filter(None, review.team_ids.split(",")))
    team |= set(cases.teams([review.case_id]).get(review.case_id, ()))
    facts = visits.facts(review.submission_id)
    if facts is not None:
        team |= facts.author_ids
    return team


def to_view(review: VisitReview, caller: Caller) -> dict:
    comments = db.session.scalars(select(ReviewComment).where(
        ReviewComment.submission_id == review.submission_id).order_by(
        ReviewComment.created_at, ReviewComment.id)).all()
    may_move = caller.has(*MOVERS) and caller.user_id not in _team_of(review)
    return {**_row_views([review], caller)[0],
            "allowed": rules.targets(review.state, rules.REVIEWER) if may_move else [],
            "comments": [_comment_view(c) for c in comments]}


def _row_views(reviews: Sequence[VisitReview], caller: Caller) -> list[dict]:
    """Queue rows with the words a screen shows: the household head's name (as the caller
    may see it), the village's and the team's names."""
    places = jurisdictions.names({r.jurisdiction_code for r in reviews})
    people = auth.display_names({u for r in reviews for u in r.team_ids.split(",") if u})
    heads = households.head_names({r.household_id for r in reviews}, caller)
    return [{**_row_view(r), "village_name": places.get(r.jurisdiction_code),
             "head_name": heads.get(r.household_id),
             "team_names": [people.get(u) or u for u in r.team_ids.split(",") if u]}
            for r in reviews]


def _row_view(review: VisitReview) -> dict:
    now = clock.now()
    return {
        "submission_id": review.submission_id, "case_id": review.case_id,
        "household_id": review.household_id, "jurisdiction_code": review.jurisdiction_code,
        "state": review.state, "revision": review.revision, "risk": review.risk,
        "flag_codes": [c for c in review.flag_codes.split(",") if c],
        "team": [u for u in review.team_ids.split(",") if u],
        "received_at": review.received_at, "updated_at": review.updated_at,
        "age_days": (now - review.received_at).days, "version": review.version,
    }


def _comment_view(comment: ReviewComment) -> dict:
    return {"id": comment.id, "revision": comment.revision, "field": comment.field,
            "text": comment.text, "author_id": comment.author_id,
            "created_at": comment.created_at}


def _filtered(caller: Caller, filters: dict) -> Select:
    query = _visible(caller)
    if filters.get("village"):
        query = query.where(within(VisitReview.jurisdiction_code, filters["village"]))
    if filters.get("member"):
        query = query.where(VisitReview.team_ids.contains(f",{filters['member']},",
                                                          autoescape=True))
    if filters.get("flag"):
        query = query.where(VisitReview.flag_codes.contains(f",{filters['flag']},",
                                                            autoescape=True))
    now = clock.now()
    if filters.get("min_age_days") is not None:
        query = query.where(VisitReview.received_at <= now - timedelta(
            days=filters["min_age_days"]))
    if filters.get("max_age_days") is not None:
        query = query.where(VisitReview.received_at > now - timedelta(
            days=filters["max_age_days"] + 1))
    return query


def _after(rank: int, received: datetime, last_id: str) -> ColumnElement[bool]:
    """Rows after (rank, received, id) in the queue's order (keyset paging): one row-value
    comparison, which PostgreSQL answers with a range scan of the queue's index at any depth
    (the equivalent OR of ANDs made it filter row by row)."""
    return tuple_(VisitReview.risk_rank, VisitReview.received_at, VisitReview.submission_id
                  ) > tuple_(literal(rank), literal(received, UtcDateTime()), literal(last_id))


QUEUE_ORDER = (VisitReview.risk_rank, VisitReview.received_at, VisitReview.submission_id)


def queue(caller: Caller, filters: dict) -> dict:
    """A page of the review queue, riskiest first then oldest, with counts per state
    (under the same filters, any state). Keyset paging: ``cursor`` is the last row's key."""
    _require(caller, READERS, "see the review queue")
    query = _filtered(caller, filters)
    counts = dict(db.session.execute(
        query.with_only_columns(VisitReview.state, func.count()).group_by(VisitReview.state)
    ).all())
    if filters.get("state"):
        query = query.where(VisitReview.state == filters["state"])
    if filters.get("cursor"):
        key = rules.decode_page_cursor(filters["cursor"])
        if key is None:
            raise ProblemError("validation-failed", "The page cursor is not one this server "
                               "gave; start from the first page.", {"cursor": ["unreadable"]})
        rank, received_text, last_id = key
        try:
            received = utc_from_iso(received_text)
        except ValueError as bad:
            raise ProblemError("validation-failed", "The page cursor is not readable.",
                               {"cursor": ["unreadable"]}) from bad
        query = query.where(_after(rank, received, last_id))
    limit = filters["limit"]
    rows = db.session.scalars(query.order_by(*QUEUE_ORDER).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {
        "items": _row_views(rows, caller),
        "counts": {state: counts.get(state, 0) for state in rules.STATES},
        "next_cursor": rules.encode_page_cursor(
            last.risk_rank, last.received_at.isoformat(), last.submission_id)
        if more and last is not None else None,
    }


# --- changing -----------------------------------------------------------------------------


def _check_version(review: VisitReview, if_match: str | None) -> None:
    if not if_match:
        raise ProblemError("precondition-required",
                           "Send If-Match with the review's version (from its ETag).",
                           extra={"current_version": review.version})
    wanted = if_match.strip().removeprefix("W/").strip('"')
    if wanted != str(review.version):
        raise ProblemError("stale-version",
                           "Someone changed this review after you opened it. Reload it, "
                           "check their change, then apply yours again.",
                           extra={"current_version": review.version})


def _answers_and_definition(review: VisitReview) -> tuple[dict, dict]:
    facts = visits.facts(review.submission_id)
    if facts is None:
        raise ProblemError("review-not-found", "The visit is gone.")
    definition = forms.get_definition(facts.form_id, facts.form_version)
    answers = visits.revision_answers(review.submission_id, [review.revision])
    return answers.get(review.revision, {}), definition


def _new_comments(review: VisitReview, caller: Caller, items: list[dict]) -> list[ReviewComment]:
    if not items:
        return []
    answers, definition = _answers_and_definition(review)
    errors = {}
    for index, item in enumerate(items):
        if item.get("field"):
            problem = rules.field_problem(item["field"], definition, answers)
            if problem:
                errors[f"comments.{index}.field"] = [problem]
    if errors:
        raise ProblemError("review-field-unknown", "A comment names a field the visit's form "
                           "does not have.", errors)
    now = clock.now()
    made = [ReviewComment(id=new_id(), submission_id=review.submission_id,
                          revision=review.revision, field=item.get("field") or None,
                          text=item["text"], author_id=caller.user_id, created_at=now)
            for item in items]
    db.session.add_all(made)
    return made


def _prepare_change(caller: Caller, submission_id: str, if_match: str | None,
                    allowed: tuple[str, ...], what: str) -> VisitReview:
    review = get_visible(caller, submission_id)
    _require(caller, allowed, what)
    if caller.user_id in _team_of(review):
        raise ProblemError("review-own-visit", "You were on this visit's team; another "
                           "reviewer of the township must review it.")
    _check_version(review, if_match)
    return review


def move(caller: Caller, submission_id: str, if_match: str | None, target: str,
         comments: list[dict]) -> VisitReview:
    """Move a review to ``target`` (has issues, approve, reject, request a re-visit), with
    optional comments made in the same step."""
    review = _prepare_change(caller, submission_id, if_match, MOVERS, "review visits")
    before = review.state
    if not rules.may_move(before, target, rules.REVIEWER):
        raise ProblemError("review-transition-not-allowed",
                           f"A review that is {before} cannot become {target}.",
                           extra={"from_state": before, "to_state": target})
    made = _new_comments(review, caller, comments)
    if target == rules.HAS_ISSUES and not made and not db.session.scalar(
            select(func.count()).select_from(ReviewComment).where(
                ReviewComment.submission_id == review.submission_id,
                ReviewComment.revision == review.revision)):
        raise ProblemError("review-comment-required", "Say what the team must fix: add at "
                           "least one comment.", {"comments": ["at least one comment"]})
    review.state = target
    review.updated_at = clock.now()
    if target in (rules.APPROVED, rules.REJECTED):
        review.decided_by_id = caller.user_id
    if target == rules.HAS_ISSUES:
        review.sent_back_count += 1
    db.session.flush()
    audit.record(f"review.{target}", "visit_review", review.submission_id,
                 before={"state": before},
                 after={"state": target, "revision": review.revision,
                        "comments": [c.id for c in made]},
                 jurisdiction_code=review.jurisdiction_code)
    return review


def comment(caller: Caller, submission_id: str, if_match: str | None,
            item: dict) -> VisitReview:
    """A comment on the visit or one of its fields (reviewers, county supervisors)."""
    review = _prepare_change(caller, submission_id, if_match, COMMENTERS, "comment on visits")
    made = _new_comments(review, caller, [item])
    review.updated_at = clock.now()  # a new version: the comment changes what others saw
    db.session.flush()
    audit.record("review.commented", "visit_review", review.submission_id,
                 after={"comment": made[0].id, "field": made[0].field,
                        "revision": review.revision},
                 jurisdiction_code=review.jurisdiction_code)
    return review


# --- the evidence -------------------------------------------------------------------------

MOVE_ACTIONS = {f"review.{state}": state for state in (
    rules.HAS_ISSUES, rules.APPROVED, rules.REJECTED, rules.REVISIT_REQUESTED,
    rules.SUPERSEDED)}


def evidence(caller: Caller, submission_id: str) -> dict:
    """Everything a reviewer weighs for one visit, masked for the caller: answers, stamps and
    photos against the registered home, attestations, flags and a timeline."""
    review = get_visible(caller, submission_id)
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
        **to_view(review, caller),
        "comments": [{**_comment_view(c), "text": privacy_rules.mask_values(c.text, caller),
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


# --- the supervisors' dashboard ----------------------------------------------------------


def _dashboard_scope(caller: Caller, village: str | None) -> str | None:
    """The jurisdiction the dashboard covers: the caller's, or a place inside it; None for a
    place outside it (an empty dashboard, as the queue answers)."""
    mine = caller.jurisdiction_code
    if not village or mine.startswith(village):
        return mine
    return village if village.startswith(mine) else None


def _dashboard_visits(caller: Caller, filters: dict
                      ) -> tuple[str | None, list[ColumnElement[bool]]]:
    """The dashboard's scope and the conditions picking its review rows."""
    _require(caller, READERS, "see the supervisors' dashboard")
    scope = _dashboard_scope(caller, filters.get("village"))
    if scope is None:
        return None, []
    where = [within(VisitReview.jurisdiction_code, scope)]
    if filters.get("days") is not None:
        where.append(VisitReview.received_at > clock.now() - timedelta(days=filters["days"]))
    return scope, where


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _flag_count() -> ColumnElement[int]:
    """The kinds of flag in ",code,code,": its commas less one (none in ",")."""
    commas = func.length(VisitReview.flag_codes) - func.length(
        func.replace(VisitReview.flag_codes, ",", ""))
    return case((commas > 1, commas - 1), else_=0)


def _duration_minutes() -> ColumnElement[float]:
    """End − start of the latest revision in minutes; NULL (left out of the median) when a
    stamp is missing or the visit ends before it starts."""
    started, ended = VisitReview.started_at, VisitReview.ended_at
    if _is_postgresql():
        minutes = cast(func.extract("epoch", ended - started), Float) / 60.0
    else:
        # SQLite keeps times as text: julianday's float, rounded to the millisecond so the
        # minutes are those Python computed from the same times.
        minutes = func.round((func.julianday(ended) - func.julianday(started)) * 86400.0,
                             3) / 60.0
    return case((and_(started.is_not(None), ended.is_not(None), ended >= started), minutes))


def _team_members() -> TableValuedAlias:
    """One row per user id of a review row's team (",a,b," holds a few UUIDs), column
    ``member_id``; empty ids come from the outer commas."""
    if _is_postgresql():
        return func.unnest(func.string_to_array(VisitReview.team_ids, ",")).table_valued(
            "member_id").render_derived()
    # SQLite has no string splitting; its JSON reader splits a list made of the text (user
    # ids are UUIDs: nothing to escape). json_each names its column "value".
    return func.json_each(literal('["') + func.replace(VisitReview.team_ids, ",", '","')
                          + literal('"]')).table_valued("value")


TOTAL = ""  # the key of all the dashboard's visits among the per-village totals


def _visit_totals(where: list[ColumnElement[bool]], group: str
                  ) -> dict[str, board.VisitTotals]:
    """The visits added up in the database, per ``group``: "village" (with the key TOTAL for
    all of them), "member" (a visit counts for each of its team) or "all" (TOTAL only).
    PostgreSQL takes the medians with percentile_cont in the same pass, and the villages and
    the total in one (GROUPING SETS); SQLite, which has neither, ranks the durations."""
    postgresql = _is_postgresql()
    if group == "village" and not postgresql:
        return _visit_totals(where, "all") | _visit_totals(where, "village-only")
    rows = select(VisitReview.jurisdiction_code).select_from(VisitReview)
    key: ColumnElement[str] | InstrumentedAttribute[str]
    if group == "member":
        members = _team_members()
        key = members.c[0]
        rows = rows.join(members, true())
        where = [*where, key != ""]
    else:
        key = literal(TOTAL) if group == "all" else VisitReview.jurisdiction_code
    minutes = _duration_minutes()
    totals = rows.with_only_columns(
        key, func.count(), func.sum(_flag_count()),
        func.sum(case((VisitReview.sent_back_count > 0, 1), else_=0)),
        func.percentile_cont(0.5).within_group(minutes) if postgresql else literal(None)
    ).where(*where)
    if group == "village":  # PostgreSQL: the total is the row of the empty grouping set
        totals = totals.group_by(func.grouping_sets(tuple_(key), tuple_()))
    elif group != "all":
        totals = totals.group_by(key)
    medians: dict[str, float] = {}
    if not postgresql:
        ranked = rows.with_only_columns(
            key.label("key"), minutes.label("minutes"),
            func.row_number().over(partition_by=key, order_by=minutes).label("rank"),
            func.count().over(partition_by=key).label("size")
        ).where(*where, minutes.is_not(None)).subquery()
        middle = ((ranked.c.size + 1) // 2, (ranked.c.size + 2) // 2)  # one or two in the middle
        medians = dict(db.session.execute(
            select(ranked.c.key, func.avg(ranked.c.minutes))
            .where(ranked.c.rank.in_(middle)).group_by(ranked.c.key)).all())
    found = {}
    for group_key, count, flags, sent_back, median in db.session.execute(totals):
        if count:  # the total of no visits is one row of zero
            found[TOTAL if group_key is None else group_key] = board.VisitTotals(
                count, int(flags), int(sent_back),
                median if postgresql else medians.get(group_key))
    return found


def _dashboard_cases(scope: str) -> list[board.CaseFacts]:
    last_review = dict(db.session.execute(select(
        VisitReview.case_id, func.max(VisitReview.updated_at)).where(
        within(VisitReview.jurisdiction_code, scope)).group_by(VisitReview.case_id)).all())
    case_facts = []
    for open_case in cases.open_case_facts(scope):
        reviewed = last_review.get(open_case.id)
        touched = (max(open_case.updated_at, reviewed) if reviewed is not None
                   else open_case.updated_at)
        case_facts.append(board.CaseFacts(open_case.jurisdiction_code, open_case.team,
                                          open_case.is_overdue, touched))
    return case_facts


def _metrics_view(metrics: board.Metrics) -> dict:
    return dict(metrics.__dict__)


def dashboard(caller: Caller, filters: dict) -> dict:
    """Per village and per field worker: visits, median duration, flags per 100 visits, the
    has-issues rate, overdue and untouched open cases (dashboard_rules has the arithmetic)."""
    scope, where = _dashboard_visits(caller, filters)
    now = clock.now()
    if scope is None:
        totals, villages, members = board.metrics(board.NO_VISITS, [], now), {}, {}
    else:
        case_facts = _dashboard_cases(scope)
        visits = _visit_totals(where, "village")
        totals = board.metrics(visits.pop(TOTAL, board.NO_VISITS), case_facts, now)
        villages = board.by_village(visits, case_facts, now)
        members = board.by_team_member(_visit_totals(where, "member"), case_facts, now)
    place_names = jurisdictions.names(set(villages) | ({scope} if scope else set()))
    people = auth.staff_cards(members)
    return {
        "scope_code": scope, "scope_name": place_names.get(scope) if scope else None,
        "generated_at": now, "received_within_days": filters.get("days"),
        "totals": _metrics_view(totals),
        "villages": [{"code": code, "name": place_names.get(code, code),
                      **_metrics_view(m)} for code, m in villages.items()],
        "field_workers": sorted(
            ({"user_id": uid, "name": people[uid].display_name if uid in people else None,
              **_metrics_view(m)} for uid, m in members.items()),
            key=lambda row: (row["name"] or "", row["user_id"])),
        "charts": [{"metric": metric, "title_zh": board.WORDS["zh-CN"][metric],
                    "title_en": board.WORDS["en"][metric],
                    "url": f"/api/reviews/dashboard/charts/{metric}.svg"}
                   for metric in board.CHARTS],
    }


def dashboard_chart(caller: Caller, metric: str, language: str, filters: dict) -> str:
    """One dashboard chart, per village, as an SVG document in ``language``."""
    if metric not in board.CHARTS:
        raise ProblemError("not-found", "No such chart; the dashboard lists its charts.")
    scope, where = _dashboard_visits(caller, filters)
    visits = _visit_totals(where, "village") if scope is not None else {}
    visits.pop(TOTAL, None)
    villages = board.by_village(visits, _dashboard_cases(scope), clock.now()
                                ) if scope is not None else {}
    place_names = jurisdictions.names(set(villages))
    words = board.WORDS[language]
    fields, unit = board.CHARTS[metric]
    return charts.bar_chart(
        words[metric], words[f"desc_{metric}"],
        [place_names.get(code, code) for code in villages],
        [charts.Series(words[field] if len(fields) > 1 else words[metric],
                       [getattr(m, field) for m in villages.values()]) for field in fields],
        unit=unit, no_data=words["no_data"], language=language)


# --- exports ----------------------------------------------------------------------------

EXPORT_BATCH = 500


def export_visits(caller: Caller, filters: dict) -> Iterator[export_rules.ExportVisit]:
    """The visits the queue's filters select, in the queue's order, masked for the caller,
    read in keyset batches of EXPORT_BATCH so memory stays flat however many there are.
    The role is checked now; the rows are read as the iterator is consumed."""
    _require(caller, READERS, "export visits")
    query = _filtered(caller, filters)
    if filters.get("state"):
        query = query.where(VisitReview.state == filters["state"])
    query = query.with_only_columns(
        VisitReview.submission_id, VisitReview.case_id, VisitReview.household_id,
        VisitReview.jurisdiction_code, VisitReview.state, VisitReview.revision,
        VisitReview.risk, VisitReview.risk_rank, VisitReview.flag_codes, VisitReview.team_ids,
        VisitReview.received_at, VisitReview.started_at, VisitReview.ended_at,
        VisitReview.sent_back_count).order_by(*QUEUE_ORDER).limit(EXPORT_BATCH)

    def batches() -> Iterator[export_rules.ExportVisit]:
        place_names: dict[str, str] = {}
        people: dict[str, str] = {}
        after = None
        while True:
            rows = db.session.execute(query if after is None
                                      else query.where(_after(*after))).all()
            if not rows:
                return
            answers = visits.current_answers([r.submission_id for r in rows])
            place_names.update(jurisdictions.names(
                {r.jurisdiction_code for r in rows} - set(place_names)))
            team_ids = {u for r in rows for u in r.team_ids.split(",") if u}
            people.update(auth.display_names(team_ids - set(people)))
            for r in rows:
                found = answers.get(r.submission_id)
                masked = privacy.survey_answers(caller, found.form_id, found.form_version,
                                                found.data) if found else {}
                yield export_rules.ExportVisit(
                    r.submission_id, r.case_id, r.household_id, r.jurisdiction_code,
                    place_names.get(r.jurisdiction_code, r.jurisdiction_code), r.state,
                    r.revision, r.risk, [c for c in r.flag_codes.split(",") if c],
                    [people.get(u, u) for u in r.team_ids.split(",") if u], r.received_at,
                    r.started_at, r.ended_at, r.sent_back_count,
                    masked if isinstance(masked, dict) else {},
                    privacy_rules.mask_values(found.computed, caller) if found else {})
            last = rows[-1]
            after = (last.risk_rank, last.received_at, last.submission_id)
            db.session.expire_all()

    return batches()


def record_export(caller: Caller, kind: str, filters: dict) -> None:
    """Exports of personal data leave a trace (全程留痕, 003): who, when, which filters."""
    audit.record("reviews.exported", "review_export", new_id(),
                 after={"format": kind, "filters": {k: v for k, v in filters.items()
                                                    if v is not None}},
                 jurisdiction_code=caller.jurisdiction_code)


# --- the diff -----------------------------------------------------------------------------


def diff(caller: Caller, submission_id: str, from_revision: int | None,
         to_revision: int | None) -> dict:
    """Field by field, what changed between two revisions, masked for the caller."""
    review = get_visible(caller, submission_id)
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


# --- the team's phones --------------------------------------------------------------------


def pull_tasks(caller: Caller, state: dict[str, str], _page_size: int) -> PullSlice:
    """The pull's slice of review tasks: every visit of the caller's cases that a reviewer
    sent back (has issues) or asked to visit again, with the comments on the reviewed
    revision; the whole list whenever it changed (the device replaces what it holds)."""
    reviews = db.session.scalars(select(VisitReview).where(
        VisitReview.case_id.in_(cases.assigned_case_ids(caller)),
        VisitReview.state.in_(rules.TASK_STATES)).order_by(
        VisitReview.received_at, VisitReview.submission_id)).all()
    by_visit: dict[str, list[dict]] = {r.submission_id: [] for r in reviews}
    revision_of = {r.submission_id: r.revision for r in reviews}
    if reviews:
        for c in db.session.scalars(select(ReviewComment).where(
                ReviewComment.submission_id.in_(list(by_visit))).order_by(
                ReviewComment.created_at, ReviewComment.id)):
            if c.revision == revision_of[c.submission_id]:
                by_visit[c.submission_id].append(
                    {"field": c.field, "text": c.text, "created_at": c.created_at.isoformat()})
    tasks = [{"submission_id": r.submission_id, "case_id": r.case_id, "state": r.state,
              "revision": r.revision, "comments": by_visit[r.submission_id]}
             for r in reviews]
    fingerprint = sync_rules.fingerprint(tasks)
    changed = fingerprint != state["review_tasks"] and (tasks or state["review_tasks"])
    answer = {"review_tasks": tasks} if changed else {}
    return PullSlice(answer, {"review_tasks": fingerprint})


def states_of(submission_ids: Iterable[str]) -> dict[str, str]:
    """The review state of each visit that has a review (the workflow asks: approved?)."""
    ids = list(submission_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(VisitReview.submission_id, VisitReview.state).where(
        VisitReview.submission_id.in_(ids))).all())
