"""Review use cases: the queue, one review, moves between states, comments, the diff between
revisions, the review tasks the team pulls, and the reaction to a synced visit.

Visits are read through visits.queries (facts and answers), teams through cases.service; the
review row is created and moved on by the VisitAccepted event, in the push's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Select, and_, func, or_, select

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.dbtypes import new_id, utc_from_iso
from backend.errors import ProblemError
from backend.events import VisitAccepted
from backend.extensions import db
from backend.forms import service as forms
from backend.jurisdictions.scope import within
from backend.reviews import masking, rules
from backend.reviews.models import ReviewComment, VisitReview
from backend.sync import rules as sync_rules
from backend.sync.registry import PullSlice
from backend.visits import queries as visits

READERS = (roles.REVIEWER, roles.APPROVER, roles.COUNTY_SUPERVISOR, roles.ADMIN)
MOVERS = (roles.REVIEWER,)
COMMENTERS = (roles.REVIEWER, roles.COUNTY_SUPERVISOR)


def _listed(values: Iterable[str]) -> str:
    return "," + "".join(f"{v}," for v in sorted(set(values)))


# --- the synced visit ---------------------------------------------------------------------


def on_visit_accepted(event: VisitAccepted) -> None:
    """A first revision starts the review as received; a new revision of a visit that was
    sent back (or decided) makes it resubmitted; a new visit of a case supersedes a
    requested re-visit."""
    now = clock.now()
    received_at = event.received_at or now
    risk = rules.risk_score(severity for _, severity in event.flags)
    team = set(cases.teams([event.case_id]).get(event.case_id, ()))
    if event.author_id:
        team.add(event.author_id)
    review = db.session.get(VisitReview, event.submission_id)
    if review is None:
        review = VisitReview(
            submission_id=event.submission_id, case_id=event.case_id,
            household_id=event.household_id, jurisdiction_code=event.jurisdiction_code,
            state=rules.RECEIVED, revision=event.revision, risk=risk, risk_rank=-risk,
            flag_codes=_listed(code for code, _ in event.flags), team_ids=_listed(team),
            received_at=received_at, updated_at=now)
        db.session.add(review)
        db.session.flush()
        audit.record("review.received", "visit_review", review.submission_id,
                     after={"state": review.state, "revision": review.revision, "risk": risk},
                     jurisdiction_code=review.jurisdiction_code)
        _supersede_revisits(event.case_id, event.submission_id)
        return
    before = review.state
    review.state = rules.after_new_revision(review.state)
    review.revision = event.revision
    review.risk, review.risk_rank = risk, -risk
    review.flag_codes = _listed(code for code, _ in event.flags)
    review.team_ids = _listed(team | set(filter(None, review.team_ids.split(","))))
    review.updated_at = now
    db.session.flush()
    audit.record("review.revised", "visit_review", review.submission_id,
                 before={"state": before}, after={"state": review.state,
                                                  "revision": review.revision, "risk": risk},
                 jurisdiction_code=review.jurisdiction_code)


def _supersede_revisits(case_id: str, new_submission_id: str) -> None:
    for review in db.session.scalars(select(VisitReview).where(
            VisitReview.case_id == case_id, VisitReview.state == rules.REVISIT_REQUESTED,
            VisitReview.submission_id != new_submission_id)):
        review.state = rules.SUPERSEDED
        review.updated_at = clock.now()
        db.session.flush()
        audit.record("review.superseded", "visit_review", review.submission_id,
                     before={"state": rules.REVISIT_REQUESTED},
                     after={"state": rules.SUPERSEDED, "by": new_submission_id},
                     jurisdiction_code=review.jurisdiction_code)


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
    return {**_row_view(review),
            "allowed": rules.targets(review.state, rules.REVIEWER) if may_move else [],
            "comments": [_comment_view(c) for c in comments]}


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
        query = query.where(or_(
            VisitReview.risk_rank > rank,
            and_(VisitReview.risk_rank == rank, or_(
                VisitReview.received_at > received,
                and_(VisitReview.received_at == received,
                     VisitReview.submission_id > last_id)))))
    limit = filters["limit"]
    rows = db.session.scalars(query.order_by(
        VisitReview.risk_rank, VisitReview.received_at, VisitReview.submission_id
    ).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {
        "items": [_row_view(r) for r in rows],
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
                         "before": masking.mask_field(c.field, c.before, definition, caller),
                         "after": masking.mask_field(c.field, c.after, definition, caller)}
                        for c in changes]}


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
