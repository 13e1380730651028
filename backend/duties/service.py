"""The duty history of cases and the one check every path makes before it takes a duty
(001/003/004; the rule is ``duties.rules.conflict``).

``take`` checks the caller against the case's whole history and the household's declared
relatives, then adds the caller's entry, in the request's transaction: a refused step (422
``separation-of-duties``) leaves nothing behind. ``take_many`` does the same for a step over
many cases at once (the county's spot-check draw)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from backend import clock
from backend.auth.rules import Caller
from backend.bulk import chunks, insert_rows
from backend.duties import rules
from backend.duties.models import CaseDuty
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households


@dataclass(frozen=True)
class CaseRef:
    """The case a duty is taken on: its id, household (for declared relatives) and place."""

    id: str
    household_id: str
    jurisdiction_code: str


def histories(case_ids: Iterable[str]) -> dict[str, list[rules.DutyTaken]]:
    """Each case's duty history, oldest first."""
    found: dict[str, list[rules.DutyTaken]] = {}
    for chunk in chunks(case_ids):
        for row in db.session.scalars(select(CaseDuty).where(CaseDuty.case_id.in_(chunk))
                                      .order_by(CaseDuty.id)):
            found.setdefault(row.case_id, []).append(rules.DutyTaken(
                row.user_id, row.duty, row.path, row.at, tuple(row.roles or ())))
    return found


def history(case_id: str) -> list[rules.DutyTaken]:
    return histories([case_id]).get(case_id, [])


def problem(found: rules.Conflict, caller: Caller) -> ProblemError:
    earlier = found.earlier
    return ProblemError(
        "separation-of-duties", rules.message(found),
        extra={"rule": found.source, "duty": found.duty, "path": found.path,
               "roles": sorted(caller.roles),
               "done": earlier.duty if earlier else None,
               "is_relative": found.is_relative,
               "earlier": {"duty": earlier.duty, "path": earlier.path,
                           "roles": list(earlier.roles),
                           "at": earlier.at.isoformat() if earlier.at else None}
               if earlier else None})


def check(caller: Caller, case: CaseRef, path: str) -> str | None:
    """Raise 422 when the caller may not take the path's duty on the case; return the
    duty (None: the path takes none)."""
    duty = rules.duty_of_path(path)
    if duty is None:
        return None
    found = rules.conflict(history(case.id), caller.user_id, duty, path,
                           households.staff_relative_ids(case.household_id))
    if found is not None:
        raise problem(found, caller)
    return duty


def take(caller: Caller, case: CaseRef, path: str) -> None:
    """Check, then add the caller's entry to the case's duty history."""
    duty = check(caller, case, path)
    if duty is not None:
        db.session.add(CaseDuty(case_id=case.id,
                                jurisdiction_code=case.jurisdiction_code, duty=duty,
                                user_id=caller.user_id, path=path,
                                roles=sorted(caller.roles), at=clock.now()))


def take_many(caller: Caller, refs: list[CaseRef], path: str) -> None:
    """``take`` over many cases: every one is checked before any entry is added, so one
    conflict refuses the whole step."""
    duty = rules.duty_of_path(path)
    if duty is None or not refs:
        return
    found_histories = histories(r.id for r in refs)
    relatives = households.staff_relative_ids_by_household(r.household_id for r in refs)
    for ref in refs:
        found = rules.conflict(found_histories.get(ref.id, []), caller.user_id, duty, path,
                               relatives.get(ref.household_id, set()))
        if found is not None:
            raise problem(found, caller)
    now, held = clock.now(), sorted(caller.roles)
    insert_rows(CaseDuty, [{"case_id": r.id,
                            "jurisdiction_code": r.jurisdiction_code, "duty": duty,
                            "user_id": caller.user_id, "path": path, "roles": held, "at": now}
                           for r in refs])


def view(case_id: str, names: dict[str, str]) -> list[dict]:
    """The case's duty history for the screens and the auditor."""
    return [{"duty": e.duty, "path": e.path, "user_id": e.user_id,
             "display_name": names.get(e.user_id), "roles": list(e.roles),
             "at": e.at.isoformat() if e.at else None} for e in history(case_id)]


def user_ids(case_id: str) -> set[str]:
    return {e.user_id for e in history(case_id)}
