"""Growth bench (issue 23): the same requests on the demo database and after seeding 20,000
cases and 100,000 visits set-wise; prints each figure, empty vs grown, and the ratio.

    .venv/bin/python bench/bench_growth.py [--cases 20000] [--visits 100000] [--records 200]

Runs the real app (test client, no network) on a fresh SQLite file, or on BENCH_DATABASE_URL
(bench/scratch.py: its schema is dropped and rebuilt). Measured: a push of --records visits
(2 signatures each), its replay, a no-change pull and a full pull, the review queue's first
page and the township dashboard. Figures are medians of wall time with the process's CPU time
beside them (the machine may be shared: CPU time is the steadier of the two). Goal: flat
(a ratio near 1) as the database grows. The seeded cases belong to other investigators, so
fw1's pull should not grow; the queue and dashboard see every seeded visit.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(call, repeats: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of ``call()``."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from bench_review_queue import seed_visits
    from scratch import database_name, fresh_app
    from sqlalchemy import text

    from backend.extensions import db
    from tests.conftest import Api
    from tests.device_keys import registered_key
    from tests.growth import seed_cases
    from tests.visit_factory import attest, submission

    app, url, _ = fresh_app("doorstep-growth-")
    api = Api(app.test_client())
    signers = []
    for user, device in (("wenping_fw1", "growth-device-1"), ("wenping_fw2", "growth-device-2")):
        pair, key_id = registered_key(api, user, device)
        signers.append((api.user_id(user), key_id, pair))
    cases = [c for c in api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100")
             .get_json()["items"] if c["kind"] != "extreme_poverty"]
    village = cases[0]["jurisdiction_code"]

    def batch() -> list[dict]:
        records = []
        for i in range(args.records):
            record = submission(cases[i % len(cases)])
            for user_id, key_id, pair in signers:
                attest(record, user_id, key_id, pair)
            records.append(record)
        return records

    def post(records):
        response = api.post("wenping_fw1", "/api/sync/push",
                            json={"device_id": "growth-device-1", "records": records})
        assert response.status_code == 200, response.get_json()
        return response

    def full_pull():
        cursor = ""
        while True:
            page = api.get("wenping_fw1", f"/api/sync/pull?cursor={cursor}").get_json()
            cursor = page["cursor"]
            if not page["has_more"]:
                return cursor

    def measure() -> dict[str, tuple[float, float]]:
        figures = {}
        pushed: list[list[dict]] = []

        def push():
            records = batch()
            pushed.append(records)
            post(records)
        figures[f"push of {args.records} visits"] = timed(push, args.repeats)
        figures[f"replay of those {args.records}"] = timed(
            lambda: post(copy.deepcopy(pushed[-1])), args.repeats)
        cursor = full_pull()
        figures["no-change pull"] = timed(
            lambda: api.get("wenping_fw1", f"/api/sync/pull?cursor={cursor}"), args.repeats * 3)
        figures["full pull (every page)"] = timed(full_pull, args.repeats)
        figures["review queue, first page"] = timed(
            lambda: api.get("wenping_reviewer", "/api/reviews"), args.repeats * 3)
        figures["township dashboard"] = timed(
            lambda: api.get("wenping_reviewer", "/api/reviews/dashboard"), args.repeats)
        return figures

    empty = measure()
    started = time.perf_counter()
    with app.app_context():
        others = [api.user_id("wenping_fw2"), api.user_id("wenping_fw3")]
        seed_cases(args.cases, village, others, label="growth")
        db.session.commit()
    seed_visits(app, args.visits)
    with app.app_context():
        if database_name(url) == "PostgreSQL":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    seeded_in = time.perf_counter() - started
    grown = measure()

    print(f"database: {database_name(url)}; seeded {args.cases:,} cases and {args.visits:,} "
          f"visits in {seeded_in:.0f} s; load average {os.getloadavg()[0]:.2f} "
          "(a shared machine: read CPU time)")
    print(f"{'figure':<30} {'empty wall/CPU ms':>20} {'grown wall/CPU ms':>20} "
          f"{'growth (wall, CPU)':>20}   goal")
    for label, (wall, cpu) in empty.items():
        grown_wall, grown_cpu = grown[label]
        print(f"{label:<30} {wall * 1000:>9.1f}/{cpu * 1000:<9.1f} "
              f"{grown_wall * 1000:>9.1f}/{grown_cpu * 1000:<9.1f} "
              f"{grown_wall / wall:>9.2f}x {grown_cpu / max(cpu, 1e-9):>7.2f}x   flat (~1x)")


if __name__ == "__main__":
    main()
