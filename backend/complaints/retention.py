"""What complaints hold past its retention (docs/decisions/0022-retention-and-purge.md): a
reporter's name and contact, counted from the reply that closed the report. The report, its
verification, finding and reply stay; only who made it goes, so an informant is not kept on
file longer than the complaint may be reopened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select

from backend.bulk import chunks
from backend.complaints.models import Complaint
from backend.complaints.rules import ANSWERED
from backend.extensions import db
from backend.retention import registry
from backend.retention import rules as retention_rules


def find_reporters(cutoff: datetime) -> list[registry.Purgeable]:
    """Answered reports closed before ``cutoff`` that still name their reporter."""
    rows = db.session.execute(
        select(Complaint.id, Complaint.case_id, Complaint.household_id)
        .where(Complaint.status == ANSWERED, Complaint.replied_at < cutoff,
               or_(Complaint.reporter_name.is_not(None), Complaint.reporter_contact.is_not(None)))
        .order_by(Complaint.id))
    return [registry.Purgeable(complaint_id, case_ids=(case_id,) if case_id else (),
                               household_ids=(household_id,) if household_id else ())
            for complaint_id, case_id, household_id in rows]


def purge_reporters(items: Sequence[registry.Purgeable], _cutoff: datetime) -> None:
    # Through the ORM: a sealed column takes no SQL expression, not even a bulk "= NULL".
    for chunk in chunks([item.subject_id for item in items]):
        for complaint in db.session.scalars(select(Complaint).where(Complaint.id.in_(chunk))):
            complaint.reporter_name = complaint.reporter_contact = None
    db.session.flush()


registry.register_kind(retention_rules.COMPLAINT_REPORTER, find_reporters, purge_reporters)
