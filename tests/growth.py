"""Seed many stored visits set-wise (Core executemany), for the flatness test and the growth
bench: rows as a push would have stored them, without going through a push."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from backend.bulk import insert_rows
from backend.visits.models import VisitFlag, VisitRevision, VisitSubmission

ROWS_PER_STATEMENT = 2000


def seed_visits(count: int, cases: list[dict], author_id: str, *, label: str = "seed") -> int:
    """``count`` stored visits (one revision each, one flag each) spread over ``cases``
    (``{"id", "household": {"id"}}`` dicts, as the case list answers them)."""
    now = datetime.now(UTC)
    for start in range(0, count, ROWS_PER_STATEMENT):
        submissions, revisions, flags = [], [], []
        for number in range(start, min(count, start + ROWS_PER_STATEMENT)):
            case = cases[number % len(cases)]
            visit_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"doorstep:{label}:{number}"))
            submissions.append({
                "id": visit_id, "case_id": case["id"], "household_id": case["household"]["id"],
                "form_id": "household_survey", "form_version": 1, "current_revision": 1,
                "is_complete": False, "submitted_by_id": author_id, "received_at": now,
                "updated_at": now})
            revisions.append({
                "submission_id": visit_id, "revision": 1,
                "digest": hashlib.sha256(visit_id.encode()).hexdigest(),
                "content": {"id": visit_id, "case_id": case["id"], "data": {}},
                "computed": {}, "author_id": author_id, "device_id": "seed-device",
                "started_at": now, "ended_at": now, "captured_at": now, "sent_at": now,
                "received_at": now})
            flags.append({"submission_id": visit_id, "revision": 1,
                          "code": "missing-start-stamp", "severity": "warning", "data": {},
                          "raised_at": now})
        insert_rows(VisitSubmission, submissions)
        insert_rows(VisitRevision, revisions)
        insert_rows(VisitFlag, flags)
    return count


def seed_cases(count: int, jurisdiction_code: str, team_user_ids: list[str], *,
               label: str = "seed", status: str = "investigating") -> list[dict]:
    """``count`` households with one case each in ``jurisdiction_code``, on the visit team
    ``team_user_ids``; returned as ``{"id", "household": {"id"}}`` for ``seed_visits``."""
    from backend.cases.models import Case, CaseTeamMember
    from backend.households.models import Household

    now = datetime.now(UTC)
    seeded = []
    for start in range(0, count, ROWS_PER_STATEMENT):
        households, cases, members = [], [], []
        for number in range(start, min(count, start + ROWS_PER_STATEMENT)):
            household_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"doorstep:{label}:h{number}"))
            case_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"doorstep:{label}:c{number}"))
            households.append({
                "id": household_id, "jurisdiction_code": jurisdiction_code,
                "address": f"{label} {number}", "home_lat": 27.19, "home_lon": 103.56,
                "is_relative_of_staff": False, "version": 1, "created_at": now,
                "updated_at": now})
            cases.append({
                "id": case_id, "household_id": household_id,
                "jurisdiction_code": jurisdiction_code, "kind": "dibao", "status": status,
                "channel": "window", "applied_at": now, "is_economic_check_authorized": True,
                "has_honesty_pledge": True, "version": 1, "created_at": now, "updated_at": now})
            members += [{"case_id": case_id, "user_id": user_id, "assigned_at": now}
                        for user_id in team_user_ids]
            seeded.append({"id": case_id, "household": {"id": household_id}})
        insert_rows(Household, households)
        insert_rows(Case, cases)
        insert_rows(CaseTeamMember, members)
    return seeded
