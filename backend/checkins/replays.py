"""Check-ins sent again: answered ``duplicate`` from the id index alone, before anything is
parsed, verified or judged (issue 23: a phone that lost the answer resends its queue)."""

from __future__ import annotations

import functools
import uuid

from sqlalchemy import Select, select

from backend.bulk import any_of, chunks
from backend.checkins.models import CheckIn, CheckInFlag
from backend.checkins.pushed_checkins import checkin_digest
from backend.extensions import db
from backend.sync.registry import PushBatch


def replayed_checkins(batch: PushBatch, records: list[tuple[int, dict]]) -> dict[int, dict]:
    """The ``checkin`` records this caller already stored with the same signed content:
    one statement finds the known ids with their flags. Anything else (an unknown id, another
    submitter's id, changed content, an unsignable record) goes on to ``push_checkins``,
    which answers it as before, a conflict included."""
    by_index = {index: record_id for index, raw in records
                if (record_id := _stored_form(raw.get("id"))) is not None}
    ids = list(set(by_index.values()))
    stored: dict[str, tuple[str, str, list[str]]] = {}
    for chunk in chunks(ids):
        for checkin_id, submitter, digest, code in db.session.execute(
                _stored_with_flags(), {"ids": chunk}):
            codes = stored.setdefault(checkin_id, (submitter, digest, []))[2]
            if code is not None:
                codes.append(code)
    batch.looked_up["checkin"] = set(stored)  # the handler reads only those again
    answers: dict[int, dict] = {}
    for index, raw in records:
        known = stored.get(by_index.get(index, ""))
        if known is None or known[0] != batch.caller.user_id:
            continue
        try:
            if checkin_digest(raw) != known[1]:
                continue
        except ValueError:  # unsignable: the handler says why
            continue
        answers[index] = {"id": by_index[index], "status": "duplicate", "flags": [
            {"code": code, "severity": "warning"} for code in known[2]]}
    return answers


@functools.cache
def _stored_with_flags() -> Select:
    """Built once (a replay's whole cost is this statement; building it took a quarter)."""
    return (select(CheckIn.id, CheckIn.submitted_by_id, CheckIn.digest, CheckInFlag.code)
            .outerjoin(CheckInFlag, CheckInFlag.checkin_id == CheckIn.id)
            .where(any_of(CheckIn.id))
            .order_by(CheckIn.id, CheckInFlag.id))


def _stored_form(value: object) -> str | None:
    """The id as the handler stores it (the schema's UUID, lower case with hyphens)."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
