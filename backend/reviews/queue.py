"""The review queue and one review: who reads, the rows and their words, keyset paging;
the review state of visits (the case workflow asks).

Review use cases are in the modules beside this one: moves (state changes, comments),
visit_evidence (the evidence and the diff), dashboard, exports and synced_visits (the
reaction to a synced visit, the review tasks the team pulls). Visits are read through
visits.queries (facts and answers), teams through cases.service.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select

from backend import clock
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.dbtypes import utc_from_iso
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.reviews import queries, rules
from backend.reviews.models import ReviewComment, VisitReview
from backend.visits import queries as visits

READERS = (roles.REVIEWER, roles.APPROVER, roles.COUNTY_SUPERVISOR, roles.ADMIN)
MOVERS = (roles.REVIEWER,)
COMMENTERS = (roles.REVIEWER, roles.COUNTY_SUPERVISOR)


def require(caller: Caller, allowed: tuple[str, ...], what: str) -> None:
    if not caller.has(*allowed):
        raise ProblemError("forbidden", f"Your role does not allow you to {what}.")


def get_visible(caller: Caller, submission_id: str) -> VisitReview:
    """The review of a visit in the caller's area; 403 for roles that never see the queue,
    404 (not 403) for a visit elsewhere: it must not even be confirmed to exist."""
    require(caller, READERS, "see the review queue")
    review = db.session.scalar(queries.visible(caller).where(
        VisitReview.submission_id == submission_id))
    if review is None:
        raise ProblemError("review-not-found", "No visit with that id to review in your area.")
    return review


def team_of(review: VisitReview) -> set[str]:
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
    may_move = caller.has(*MOVERS) and caller.user_id not in team_of(review)
    return {**_row_views([review], caller)[0],
            "allowed": rules.targets(review.state, rules.REVIEWER) if may_move else [],
            "comments": [comment_view(c) for c in comments]}


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


def comment_view(comment: ReviewComment) -> dict:
    return {"id": comment.id, "revision": comment.revision, "field": comment.field,
            "text": comment.text, "author_id": comment.author_id,
            "created_at": comment.created_at}


def queue(caller: Caller, filters: dict) -> dict:
    """A page of the review queue, riskiest first then oldest, with counts per state
    (under the same filters, any state). Keyset paging: ``cursor`` is the last row's key."""
    require(caller, READERS, "see the review queue")
    query = queries.filtered(caller, filters)
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
        query = query.where(queries.after_key(rank, received, last_id))
    limit = filters["limit"]
    rows = db.session.scalars(query.order_by(*queries.QUEUE_ORDER).limit(limit + 1)).all()
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


def states_of(submission_ids: Iterable[str]) -> dict[str, str]:
    """The review state of each visit that has a review (the workflow asks: approved?)."""
    ids = list(submission_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(VisitReview.submission_id, VisitReview.state).where(
        VisitReview.submission_id.in_(ids))).all())
