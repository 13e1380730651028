"""Sign-in records past their retention (docs/decisions/0022-retention-and-purge.md): the
sessions (who signed in, when, on which device) and the failure counters of the throttle.

A retention of at least six months (Cybersecurity Law Art. 21) is far longer than any
sign-in lives (REFRESH_TOKEN_DAYS, SESSION_MAX_DAYS), so a session this old is over."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select

from backend.auth.models import AuthSession, LoginThrottle
from backend.bulk import chunks
from backend.extensions import db


def _last_used():
    # An ended sign-in was last used when it ended, a live one when it was last refreshed.
    return func.coalesce(AuthSession.revoked_at, AuthSession.refreshed_at,
                         AuthSession.created_at)


def sign_ins_before(cutoff: datetime) -> list[str]:
    """Ids of the sign-ins last used (refreshed or ended) before ``cutoff``."""
    return list(db.session.scalars(select(AuthSession.id).where(_last_used() < cutoff)
        .order_by(AuthSession.id)))


def forget_sign_ins(session_ids: Sequence[str], cutoff: datetime) -> None:
    """Delete these sign-ins, and failure counters last touched before ``cutoff``."""
    for chunk in chunks(session_ids):
        db.session.execute(delete(AuthSession).where(AuthSession.id.in_(chunk)))
    db.session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failed_at < cutoff,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < cutoff)))
