from __future__ import annotations

from sqlalchemy import and_, or_, select

from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.cases.models import Case, CaseTeamMember
from backend.errors import ProblemError
from backend.extensions import db
from backend.forms import service as forms
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.sync import rules


def _assigned_case_ids(caller: Caller) -> list[str]:
    return sorted(db.session.scalars(
        select(CaseTeamMember.case_id).join(Case, Case.id == CaseTeamMember.case_id).where(
            CaseTeamMember.user_id == caller.user_id,
            within(Case.jurisdiction_code, caller))))


def pull(caller: Caller, cursor_text: str | None, page_size: int) -> dict:
    """What the device needs offline, changed since the cursor, one page at a time."""
    cursor = rules.decode(cursor_text)
    if cursor is None:
        raise ProblemError("validation-failed", "The sync cursor is not one this server gave; "
                           "clear it and pull again.", {"cursor": ["unreadable"]})
    assigned = _assigned_case_ids(caller)
    answer: dict = {}
    assignments_fp = rules.fingerprint(assigned)
    if assignments_fp != cursor.assignments:
        # The device deletes any case it holds that is not in this list.
        answer["case_ids"] = assigned
    query = (select(Case).join(CaseTeamMember, CaseTeamMember.case_id == Case.id)
             .where(CaseTeamMember.user_id == caller.user_id,
                    within(Case.jurisdiction_code, caller)))
    if cursor.updated_at:
        from backend.dbtypes import utc_from_iso

        since = utc_from_iso(cursor.updated_at)
        query = query.where(or_(Case.updated_at > since,
                                and_(Case.updated_at == since, Case.id > cursor.last_id)))
    rows = db.session.scalars(query.order_by(Case.updated_at, Case.id).limit(page_size + 1)).all()
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if rows:
        views = [cases.to_view(case, caller) for case in rows]
        answer["cases"] = views
        answer["households"] = [view["household"] for view in views]
        updated_at, last_id = rows[-1].updated_at.isoformat(), rows[-1].id
    else:
        updated_at, last_id = cursor.updated_at, cursor.last_id
    forms_fp = forms.published_fingerprint()
    if forms_fp != cursor.forms:
        answer["forms"] = forms.published()
    villages = sorted(set(db.session.scalars(select(Case.jurisdiction_code).where(
        Case.id.in_(assigned)))) if assigned else set())
    settings = {code: jurisdictions.effective_settings(code) for code in villages}
    settings_fp = rules.fingerprint(settings)
    if settings_fp != cursor.settings:
        answer["settings"] = settings
    next_cursor = rules.Cursor(updated_at, last_id, assignments_fp, forms_fp, settings_fp)
    return {"cursor": rules.encode(next_cursor), "has_more": has_more, **answer}
