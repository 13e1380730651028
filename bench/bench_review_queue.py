"""Review queue figures: the queue's first page, a deep keyset page and one visit's evidence
with N visits.

    BENCH_DATABASE_URL=postgresql://… .venv/bin/python bench/bench_review_queue.py [--visits 100000]
        [--repeats 50]

Without BENCH_DATABASE_URL it runs on a fresh SQLite file (default 10,000 visits there). The demo
data is seeded, then N visits of the demo's cases are bulk-inserted (one revision each,
a third with integrity flags, their review rows as reviews.on_visit_accepted writes them),
the statistics are refreshed (ANALYZE), and the real app is asked through its test client
(no network, so the time is the server's): median and p95 of
- the first page of the queue (50 rows, riskiest first, counts per state) for a township
  reviewer and for the county supervisor, and filtered by state and by flag;
- the second page (keyset cursor), and a deep page (the cursor of the row at 80 % of the
  county's queue: keyset paging costs the same at any depth);
- one visit's review (GET /api/reviews/<id>), the evidence viewer's call
  (GET /api/reviews/<id>/evidence) and the visit detail (GET /api/visits/<id>);
- the supervisors' dashboard of a township (GET /api/reviews/dashboard).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FLAG_MIX = [("stamp-far-from-home", "alert", {"distance_m": 820.0, "threshold_m": 500}),
            ("visit-too-short", "warning", {"minutes": 4.0, "threshold_minutes": 10}),
            ("photo-no-exif-location", "info", {})]
STATES = ["received"] * 6 + ["has_issues", "resubmitted", "approved", "rejected"]


def seed_visits(app, count: int) -> None:
    from sqlalchemy import insert, select, text

    from backend import clock
    from backend.attestation.canonical import ATTESTED_KEYS
    from backend.auth.models import User
    from backend.cases.models import Case, CaseTeamMember
    from backend.extensions import db
    from backend.reviews.models import VisitReview
    from backend.reviews.rules import risk_score
    from backend.visits.models import VisitFlag, VisitRevision, VisitSubmission
    from tests.visit_factory import survey_answers

    # The digest only ties attestations to a revision (there are none here): a hash of the id
    # stands in for the canonical JSON's, which would take most of the seeding time.
    rng = random.Random(10)
    with app.app_context():
        cases = db.session.execute(select(Case.id, Case.household_id,
                                          Case.jurisdiction_code)).all()
        teams: dict[str, list[str]] = {}
        for case_id, user_id in db.session.execute(select(CaseTeamMember.case_id,
                                                          CaseTeamMember.user_id)):
            teams.setdefault(case_id, []).append(user_id)
        cases = [c for c in cases if c.id in teams]
        author = {c.id: teams[c.id][0] for c in cases}
        fallback = db.session.scalar(select(User.id).where(User.username == "wenping_fw1"))
        now = clock.now()
        data = survey_answers()
        chunk = 5000
        for start in range(0, count, chunk):
            submissions, revisions, flags, reviews = [], [], [], []
            for i in range(start, min(start + chunk, count)):
                case = cases[i % len(cases)]
                sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                received = now - timedelta(days=rng.randint(0, 150), minutes=rng.randint(0, 1440))
                started = received - timedelta(minutes=rng.randint(5, 60))
                ended = started + timedelta(minutes=rng.randint(3, 50))
                stamps = [{"kind": kind, "lat": 27.19 + rng.random() / 100,
                           "lon": 103.55 + rng.random() / 100, "accuracy_m": 12,
                           "captured_at": at.isoformat(), "user_id": None}
                          for kind, at in (("start", started), ("end", ended))]
                record = {"id": sid, "case_id": case.id, "form_id": "household_survey",
                          "form_version": 1, "data": data, "stamps": stamps, "photos": []}
                submissions.append({
                    "id": sid, "case_id": case.id, "household_id": case.household_id,
                    "form_id": "household_survey", "form_version": 1, "current_revision": 1,
                    "is_complete": True, "submitted_by_id": author.get(case.id, fallback),
                    "received_at": received, "updated_at": received})
                revisions.append({
                    "submission_id": sid, "revision": 1,
                    "digest": hashlib.sha256(sid.encode()).hexdigest(),
                    "content": {k: record.get(k) for k in ATTESTED_KEYS if k in record},
                    "computed": {}, "author_id": author.get(case.id, fallback),
                    "started_at": started, "ended_at": ended, "received_at": received})
                raised = [f for f in FLAG_MIX if rng.random() < 0.12]
                flags += [{"submission_id": sid, "revision": 1, "code": code,
                           "severity": severity, "data": params, "raised_at": received}
                          for code, severity, params in raised]
                risk = risk_score(severity for _, severity, _ in raised)
                reviews.append({
                    "submission_id": sid, "case_id": case.id, "household_id": case.household_id,
                    "jurisdiction_code": case.jurisdiction_code, "state": rng.choice(STATES),
                    "revision": 1, "risk": risk, "risk_rank": -risk,
                    "flag_codes": "," + "".join(f"{code}," for code, _, _ in raised),
                    "team_ids": "," + "".join(f"{u}," for u in sorted(teams[case.id])),
                    "received_at": received, "updated_at": received, "version": 1,
                    "started_at": started, "ended_at": ended,
                    "sent_back_count": 1 if rng.random() < 0.1 else 0})
            db.session.execute(insert(VisitSubmission), submissions)
            db.session.execute(insert(VisitRevision), revisions)
            if flags:
                db.session.execute(insert(VisitFlag), flags)
            db.session.execute(insert(VisitReview), reviews)
            db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def timed(api, username: str, path: str, repeats: int) -> tuple[float, float, dict]:
    times = []
    body: dict = {}
    for _ in range(repeats):
        started = time.perf_counter()
        response = api.get(username, path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.get_json())
        body = response.get_json()
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    from scratch import fresh_app, scratch_url

    from tests.conftest import Api

    is_postgres = scratch_url("").startswith("postgres")
    visits = args.visits or (100_000 if is_postgres else 10_000)
    app, url, _workdir = fresh_app()
    started = time.perf_counter()
    seed_visits(app, visits)
    seeded = time.perf_counter() - started
    api = Api(app.test_client())
    print(f"database: {'PostgreSQL' if is_postgres else 'SQLite'}; {visits} visits "
          f"(bulk-inserted in {seeded:.1f} s); {args.repeats} requests each")
    rows = [("queue, first page, township reviewer", "wenping_reviewer", "/api/reviews"),
            ("queue, first page, county supervisor", "county_supervisor", "/api/reviews"),
            ("queue, state=received", "wenping_reviewer", "/api/reviews?state=received"),
            ("queue, flag=stamp-far-from-home", "wenping_reviewer",
             "/api/reviews?flag=stamp-far-from-home")]
    first = None
    for label, user, path in rows:
        median, p95, body = timed(api, user, path, args.repeats)
        first = first or body
        print(f"{label}: median {median:.1f} ms, p95 {p95:.1f} ms")
    assert first is not None and first["next_cursor"]
    median, p95, _ = timed(api, "wenping_reviewer",
                           f"/api/reviews?cursor={first['next_cursor']}", args.repeats)
    print(f"queue, second page (keyset cursor): median {median:.1f} ms, p95 {p95:.1f} ms")
    deep, depth = deep_cursor(app, 0.8)
    median, p95, body = timed(api, "county_supervisor", f"/api/reviews?cursor={deep}",
                              args.repeats)
    assert body["items"], "the deep page is empty"
    print(f"queue, deep page (keyset cursor after row {depth}), county supervisor: "
          f"median {median:.1f} ms, p95 {p95:.1f} ms")
    visit_id = first["items"][0]["submission_id"]
    for label, path in (("one visit's review", f"/api/reviews/{visit_id}"),
                        ("evidence view", f"/api/reviews/{visit_id}/evidence"),
                        ("visit detail", f"/api/visits/{visit_id}")):
        median, p95, _ = timed(api, "wenping_reviewer", path, args.repeats)
        print(f"{label}: median {median:.1f} ms, p95 {p95:.1f} ms")
    for label, user in (("one township", "wenping_reviewer"),
                        ("the county", "county_supervisor")):
        median, p95, _ = timed(api, user, "/api/reviews/dashboard", max(3, args.repeats // 5))
        print(f"dashboard, {label}: median {median:.1f} ms, p95 {p95:.1f} ms")


def deep_cursor(app, fraction: float) -> tuple[str, int]:
    """The queue cursor of the row at ``fraction`` of the whole county's queue."""
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.reviews.models import VisitReview
    from backend.reviews.rules import encode_page_cursor

    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(VisitReview)) or 0
        depth = int(total * fraction)
        row = db.session.execute(select(
            VisitReview.risk_rank, VisitReview.received_at, VisitReview.submission_id).order_by(
            VisitReview.risk_rank, VisitReview.received_at, VisitReview.submission_id).offset(
            depth).limit(1)).one()
        return encode_page_cursor(row[0], row[1].isoformat(), row[2]), depth


if __name__ == "__main__":
    main()
