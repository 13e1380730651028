"""Feeds for other departments, read with service tokens: the county's administrators issue
and revoke tokens; a token reads its one feed within its one jurisdiction, page by page
after an opaque signed cursor, masked for its purpose. Every issue, revocation, read and
refusal of a known token is audited."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db
from backend.feeds import rules
from backend.feeds.models import FeedToken
from backend.jurisdictions import rules as places
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.outbox import service as outbox

PAGE_SIZE = 100


def _require_county_admin(caller: Caller) -> None:
    if not caller.has(roles.ADMIN):
        raise ProblemError("forbidden", "Only administrators issue and revoke feed tokens.")
    if places.level_of(caller.jurisdiction_code) != "county":
        raise ProblemError("county-level-only",
                           "Feed tokens let data leave the county, so only county-level "
                           "administrators issue and revoke them.")


def _audit(action: str, token: FeedToken, after: dict[str, Any] | None = None,
           actor_id: str | None = None) -> None:
    audit.record(action, "feed_token", token.id, jurisdiction_code=token.jurisdiction_code,
                 actor_id=actor_id, after={"feed": token.feed, "purpose": token.purpose,
                                           "label": token.label, **(after or {})})


def create_token(caller: Caller, body: dict) -> tuple[FeedToken, str]:
    """Issue a token; returns it and its text, which is shown this once and never again."""
    _require_county_admin(caller)
    code = body["jurisdiction_code"]
    if not code.startswith(caller.jurisdiction_code):
        raise ProblemError("outside-jurisdiction", "The token's area must be within yours.",
                           {"jurisdiction_code": ["outside your jurisdiction"]})
    jurisdictions.require(code)
    secret = rules.new_secret()
    token = FeedToken(id=new_id(), feed=body["feed"], jurisdiction_code=code,
                      purpose=body["purpose"], label=body["label"].strip(),
                      secret_sha256=rules.digest(secret), created_by_id=caller.user_id,
                      created_at=clock.now())
    db.session.add(token)
    db.session.flush()
    _audit("feed_token.issued", token, {"jurisdiction_code": code})
    return token, rules.token_text(token.id, secret)


def list_tokens(caller: Caller) -> list[FeedToken]:
    _require_county_admin(caller)
    return list(db.session.scalars(
        select(FeedToken).where(within(FeedToken.jurisdiction_code, caller))
        .order_by(FeedToken.created_at.desc(), FeedToken.id)))


def revoke_token(caller: Caller, token_id: str) -> FeedToken:
    _require_county_admin(caller)
    token = db.session.get(FeedToken, token_id)
    if token is None or not token.jurisdiction_code.startswith(caller.jurisdiction_code):
        raise ProblemError("feed-token-not-found", "No such feed token in your area.")
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by_id = clock.now(), caller.user_id
        db.session.flush()
        _audit("feed_token.revoked", token)
    return token


# --- reading a feed ----------------------------------------------------------------------------


def authenticate(authorization: str | None, feed: str) -> FeedToken:
    """The live token presented as ``Authorization: Bearer dsf_…`` for ``feed``; 401 when
    there is none or it is unknown, wrong or revoked, 403 for another feed's token."""
    presented = authorization[7:].strip() if authorization and \
        authorization[:7].lower() == "bearer " else None
    parsed = rules.parse_token(presented)
    token = db.session.get(FeedToken, parsed[0]) if parsed else None
    if token is None or parsed is None or not rules.secret_matches(parsed[1],
                                                                   token.secret_sha256):
        raise ProblemError("feed-token-invalid", "Send a feed token issued by the county: "
                           "Authorization: Bearer dsf_….")
    if token.revoked_at is not None:
        _audit("feed.refused", token, {"reason": "revoked"})
        raise ProblemError("feed-token-invalid", "This feed token was revoked.",
                           keep_changes=True)
    if token.feed != feed:
        _audit("feed.refused", token, {"reason": "another feed", "asked": feed})
        raise ProblemError("forbidden", f"This token reads the {token.feed} feed only.",
                           keep_changes=True)
    return token


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


def _cursor_after(token: FeedToken, text: str | None) -> int:
    if not text:
        return 0
    cursor = rules.decode_cursor(current_app.config["SECRET_KEY"], text)
    if cursor is None or cursor.feed != token.feed:
        raise ProblemError("feed-cursor-invalid", "The cursor was not given by this feed; "
                           "start without one, or send the next_cursor of the last page.",
                           {"cursor": ["not a cursor of this feed"]})
    if cursor.jurisdiction_code != token.jurisdiction_code:
        _audit("feed.refused", token, {"reason": "cursor of another jurisdiction",
                                       "cursor_jurisdiction": cursor.jurisdiction_code})
        raise ProblemError("feed-cursor-other-jurisdiction",
                           "This cursor belongs to another jurisdiction's token.",
                           {"cursor": ["issued for another jurisdiction"]}, keep_changes=True)
    return cursor.sequence


def read(token: FeedToken, cursor: str | None, limit: int) -> Page:
    """The next page of the token's feed after ``cursor``, masked for its purpose."""
    after = _cursor_after(token, cursor)
    purpose = rules.PURPOSES[token.purpose]
    events = outbox.events_after(after, rules.FEEDS[token.feed],
                                 lambda column: within(column, token.jurisdiction_code),
                                 limit + 1)
    has_more = len(events) > limit
    events = events[:limit]
    items = [rules.decision_item(asdict(event), purpose) for event in events]
    last = events[-1].sequence if events else after
    next_cursor = rules.encode_cursor(current_app.config["SECRET_KEY"], rules.Cursor(
        token.feed, token.jurisdiction_code, last))
    token.last_used_at = clock.now()
    _audit("feed.read", token, {
        "after_sequence": after, "last_sequence": last, "count": len(items),
        "full_id_disclosed": rules.discloses_full_id(items, purpose),
        "cases": [item["case_id"] for item in items]})
    return Page(items, next_cursor, has_more)
