"""Changing a review: moving it between states and commenting, by a reviewer who was not
on the visit's team, against the version the reviewer saw (If-Match)."""

from __future__ import annotations

from sqlalchemy import func, select

from backend import clock, versions
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.dbtypes import new_id
from backend.duties import service as duties
from backend.errors import ProblemError
from backend.extensions import db
from backend.forms import service as forms
from backend.reviews import published, queue, rules
from backend.reviews.models import ReviewComment, VisitReview
from backend.visits import queries as visits


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
    review = queue.get_visible(caller, submission_id)
    queue.require(caller, allowed, what)
    if caller.user_id in queue.team_of(review):
        raise ProblemError("review-own-visit", "You were on this visit's team; another "
                           "reviewer of the township must review it.")
    versions.check_if_match(if_match, review.version, "review")
    return review


def move(caller: Caller, submission_id: str, if_match: str | None, target: str,
         comments: list[dict]) -> VisitReview:
    """Move a review to ``target`` (has issues, approve, reject, request a re-visit), with
    optional comments made in the same step."""
    review = _prepare_change(caller, submission_id, if_match, queue.MOVERS, "review visits")
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
    if target in (rules.APPROVED, rules.REJECTED):
        # Approving or rejecting the visit is the case's preliminary review (初审, 001): the
        # reviewer takes that duty, and one who did its intake may not.
        duties.take(caller, duties.CaseRef(review.case_id, review.household_id,
                                           review.jurisdiction_code), f"visit_review.{target}")
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
    published.visit_reviewed(review, before, caller.user_id)
    return review


def comment(caller: Caller, submission_id: str, if_match: str | None,
            item: dict) -> VisitReview:
    """A comment on the visit or one of its fields (reviewers, county supervisors)."""
    review = _prepare_change(caller, submission_id, if_match, queue.COMMENTERS, "comment on visits")
    made = _new_comments(review, caller, [item])
    review.updated_at = clock.now()  # a new version: the comment changes what others saw
    db.session.flush()
    audit.record("review.commented", "visit_review", review.submission_id,
                 after={"comment": made[0].id, "field": made[0].field,
                        "revision": review.revision},
                 jurisdiction_code=review.jurisdiction_code)
    return review
