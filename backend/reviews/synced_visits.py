"""The review side of sync: a synced visit starts or moves on its review (the
VisitAccepted event, in the push's transaction), a late photo re-ranks it, and the team's
phones pull the review tasks sent back to them."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import Select, bindparam, insert, select

from backend import clock
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.bulk import any_of
from backend.cases import service as cases
from backend.events import VisitAccepted, VisitFlagsChanged
from backend.extensions import db
from backend.reviews import rules
from backend.reviews.models import ReviewComment, VisitReview
from backend.sync import rules as sync_rules
from backend.sync.registry import PullSlice


def _listed(values: Iterable[str]) -> str:
    return "," + "".join(f"{v}," for v in sorted(set(values)))


@functools.cache
def _reviews_of() -> Select:
    """Built once, run with ``ids`` (backend/bulk.py: every push of a revision reads them)."""
    return select(VisitReview).where(
        any_of(VisitReview.submission_id))


@functools.cache
def _revisits_requested() -> Select:
    """The re-visits requested on the cases ``case_ids``, other than the visits ``new_ids``."""
    return select(VisitReview).where(
        any_of(VisitReview.case_id, "case_ids"),
        VisitReview.state == rules.REVISIT_REQUESTED,
        VisitReview.submission_id.not_in(bindparam("new_ids", expanding=True)))


def on_visits_accepted(accepted: list[VisitAccepted]) -> None:
    """A first revision starts the review as received; a new revision of a visit that was
    sent back (or decided) makes it resubmitted; a new visit of a case supersedes a
    requested re-visit. One batch of synced visits is a few queries, whatever its size."""
    now = clock.now()
    # A first revision has no review yet, and the push read each case's team already: a
    # push of new visits asks neither again (issue 23: the fixed cost of one visit).
    revised = {event.submission_id for event in accepted if event.revision > 1}
    reviews = {review.submission_id: review for review in db.session.scalars(
        _reviews_of(), {"ids": list(revised)})} if revised else {}
    teams = {event.case_id: event.team for event in accepted if event.team is not None}
    unknown = {event.case_id for event in accepted} - set(teams)
    if unknown:
        teams.update(cases.teams(sorted(unknown)))
    trail: list[dict] = []
    # The reviews this batch starts, as rows for one INSERT: a thousand ORM objects and
    # their unit-of-work flush were a tenth of a 1,000-visit push (issue 23). A push stores
    # at most one revision of a visit (visits.service answers a repeat), so each visit here
    # either starts its review or moves a stored one on.
    started: list[dict] = []
    first_new_visit_of_case: dict[str, str] = {}
    for event in accepted:
        risk = rules.risk_score(severity for _, severity in event.flags)
        flag_codes = _listed(code for code, _ in event.flags)
        team = set(teams.get(event.case_id, ()))
        if event.author_id:
            team.add(event.author_id)
        review = reviews.get(event.submission_id)
        if review is None:
            started.append({
                "submission_id": event.submission_id, "case_id": event.case_id,
                "household_id": event.household_id,
                "jurisdiction_code": event.jurisdiction_code, "state": rules.RECEIVED,
                "revision": event.revision, "risk": risk, "risk_rank": -risk,
                "flag_codes": flag_codes, "team_ids": _listed(team),
                "received_at": event.received_at or now, "updated_at": now,
                "started_at": event.started_at, "ended_at": event.ended_at,
                "sent_back_count": 0, "version": 1})
            first_new_visit_of_case.setdefault(event.case_id, event.submission_id)
            trail.append(_trail("review.received", event, None,
                                {"state": rules.RECEIVED, "revision": event.revision,
                                 "risk": risk}))
            continue
        before = review.state
        review.state = rules.after_new_revision(review.state)
        review.revision = event.revision
        review.risk, review.risk_rank = risk, -risk
        review.flag_codes = flag_codes
        review.team_ids = _listed(team | set(filter(None, review.team_ids.split(","))))
        review.updated_at = now
        review.started_at, review.ended_at = event.started_at, event.ended_at
        trail.append(_trail("review.revised", review, {"state": before},
                            {"state": review.state, "revision": review.revision,
                             "risk": risk}))
    if started:
        db.session.execute(insert(VisitReview), started)
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


def _trail(action: str, review: VisitReview | VisitAccepted, before: dict | None,
           after: dict) -> dict:
    return {"action": action, "object_type": "visit_review", "object_id": review.submission_id,
            "before": before, "after": after, "jurisdiction_code": review.jurisdiction_code}


def _supersede_revisits(new_visit_of_case: dict[str, str], now) -> list[dict]:
    """A new visit of a case closes the re-visits requested on its earlier visits."""
    if not new_visit_of_case:
        return []
    trail = []
    for review in db.session.scalars(_revisits_requested(), {
            "case_ids": list(new_visit_of_case), "new_ids": list(new_visit_of_case.values())}):
        review.state = rules.SUPERSEDED
        review.updated_at = now
        trail.append(_trail("review.superseded", review, {"state": rules.REVISIT_REQUESTED},
                            {"state": rules.SUPERSEDED,
                             "by": new_visit_of_case[review.case_id]}))
    return trail


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
