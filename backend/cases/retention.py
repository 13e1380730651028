"""Cases a retention purge asks about (docs/decisions/0022-retention-and-purge.md)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select

from backend.cases.models import Case
from backend.extensions import db


def closed_before(statuses: Collection[str], cutoff: datetime) -> list[tuple[str, str]]:
    """(case id, household id) of cases ended in one of ``statuses`` whose last change is
    older than ``cutoff`` (an ended case changes no more, so its last change is its end)."""
    return [(case_id, household_id) for case_id, household_id in db.session.execute(
        select(Case.id, Case.household_id)
        .where(Case.status.in_(sorted(statuses)), Case.updated_at < cutoff)
        .order_by(Case.id))]
