"""Workflow figures for a county of N cases: the monthly spot-check draw and the payment list.

    BENCH_DATABASE_URL=postgresql://… .venv/bin/python bench/bench_workflow.py [--cases 20000]

Without BENCH_DATABASE_URL it runs on a fresh SQLite file. The demo is seeded, then N households
(1-4 members) and their cases are bulk-inserted in the demo county's four villages, all
applied this month (the draw's population: dibao, extreme poverty, special cases and
temporary aid, 1 in 50 a relative of staff); 70% of them also carry an approved workflow
record paying from this month (the payment list's rows). Through the real app's test client
(no network, so the times are the server's) it prints the seconds for
- the county supervisor's draw of the month (POST /api/spot-checks/draws), its sample size;
- the auditor's redraw from the stored seed (GET /api/spot-checks/draws/<id>?redraw=true);
- the month's payment list for the county as JSON, CSV and XLSX (GET /api/payments);
- 200 days on (every approved household due by its tier): the county's periodic-review due
  list (GET /api/periodic-reviews/due) and the nightly job opening every due review.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VILLAGES = ["530621100201", "530621100202", "530621101201", "530621101202"]
KINDS = [("dibao", None)] * 6 + [("extreme_poverty", None)] * 2 + [
    ("special_case", None), ("temporary", "expenditure"), ("temporary", "emergency")]


def seed_county(app, count: int) -> None:
    from sqlalchemy import insert, text

    from backend import clock
    from backend.cases.models import Case
    from backend.extensions import db
    from backend.households.models import Household, Member
    from backend.workflow.models import CaseWorkflow

    rng = random.Random(11)
    now = clock.now()
    first = clock.today_in_china().replace(day=1)
    with app.app_context():
        chunk = 5000
        for start in range(0, count, chunk):
            homes, members, cases, records = [], [], [], []
            for i in range(start, min(start + chunk, count)):
                home_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                village = VILLAGES[i % 4]
                homes.append({"id": home_id, "jurisdiction_code": village,
                              "address": f"{i % 12 + 1}组{i % 80 + 1}号",
                              "is_relative_of_staff": i % 50 == 0, "version": 1,
                              "created_at": now, "updated_at": now})
                for position in range(1 + rng.randrange(4)):
                    members.append({"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                    "household_id": home_id, "position": position,
                                    "name": f"居民{i}-{position}",
                                    "relation": "head" if position == 0 else "child",
                                    "id_number": None,
                                    "birth_on": date(1950 + rng.randrange(50), 1, 1)})
                kind, subtype = KINDS[i % len(KINDS)]
                applied = now - timedelta(hours=rng.randrange(1, 24))
                approved = i % 10 < 7
                cases.append({"id": case_id, "household_id": home_id,
                              "jurisdiction_code": village, "kind": kind,
                              "temporary_subtype": subtype,
                              "status": "approved" if approved else "investigating",
                              "channel": "window", "applied_at": applied,
                              "deadline_on": first + timedelta(days=40), "deadline_at": None,
                              "is_economic_check_authorized": True,
                              "has_honesty_pledge": True, "version": 1, "created_at": now,
                              "updated_at": now})
                if approved and kind != "temporary":
                    records.append({
                        "case_id": case_id, "jurisdiction_code": village,
                        "pledge_scan_sha256s": [], "authorization_scan_sha256s": [],
                        "missing_documents": [], "reasons": [], "needs_panel": False,
                        "notice_round": 1, "category": kind,
                        "monthly_amount_yuan": Decimal(100 + rng.randrange(900)),
                        "payment_starts_on": first, "decided_at": now,
                        "bank_account": f"62220202{i:011d}", "updated_at": now})
            db.session.execute(insert(Household), homes)
            db.session.execute(insert(Member), members)
            db.session.execute(insert(Case), cases)
            if records:
                db.session.execute(insert(CaseWorkflow), records)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def timed(label: str, call):
    start = time.perf_counter()
    response = call()
    seconds = time.perf_counter() - start
    assert response.status_code in (200, 201), (label, response.get_json())
    print(f"{label:<48} {seconds:7.2f} s")
    return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20000)
    args = parser.parse_args()

    from scratch import fresh_app

    from backend import clock
    from tests.conftest import Api

    app, url, _workdir = fresh_app("bench-workflow-")
    started = time.perf_counter()
    seed_county(app, args.cases)
    print(f"{'database':<48} {url.split('://')[0]}")
    print(f"{'seeded cases (bulk insert)':<48} {args.cases} in "
          f"{time.perf_counter() - started:.1f} s")
    api = Api(app.test_client())
    month = clock.today_in_china().strftime("%Y-%m")
    draw = timed(f"draw {month} (county supervisor)", lambda: api.post(
        "county_supervisor", "/api/spot-checks/draws", json={"month": month})).get_json()
    print(f"{'  population / sampled':<48} {draw['population_count']} / "
          f"{draw['sampled_count']}")
    redraw = timed("redraw from the stored seed", lambda: api.get(
        "county_supervisor", f"/api/spot-checks/draws/{draw['id']}?redraw=true")).get_json()
    print(f"{'  redraw matches':<48} {redraw['redraw']}")
    for fmt in ("json", "csv", "xlsx"):
        response = timed(f"payment list {month} ({fmt})", lambda fmt=fmt: api.get(
            "county_supervisor", f"/api/payments?month={month}&format={fmt}"))
        if fmt == "json":
            print(f"{'  rows':<48} {len(response.get_json()['items'])}")
        else:
            print(f"{'  bytes':<48} {len(response.data)}")
    periodic_reviews(app, api)


def periodic_reviews(app, api) -> None:
    from backend import clock
    from backend.extensions import db
    from backend.workflow import periodic_reviews

    clock.freeze(clock.now() + timedelta(days=200))
    try:
        due = timed("periodic reviews due (county, 200 days on)", lambda: api.get(
            "county_supervisor", "/api/periodic-reviews/due")).get_json()
        print(f"{'  rows':<48} {len(due['items'])}")
        with app.app_context():
            start = time.perf_counter()
            opened = periodic_reviews.open_due_reviews(None)
            db.session.commit()
            print(f"{'nightly job: open every due review':<48} "
                  f"{time.perf_counter() - start:7.2f} s")
            print(f"{'  opened':<48} {len(opened)}")
    finally:
        clock.freeze(None)


if __name__ == "__main__":
    main()
