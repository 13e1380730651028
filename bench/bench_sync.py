"""Sync figures: a 1,000-record push, a replay of it, a no-change pull, queries per pull page.

    .venv/bin/python bench/bench_sync.py [--records 1000] [--repeats 3]
        [--profile {push,replay,single} --top 40 [--callers REGEX]] [--statements]

Runs the real app (test client, no network) on a fresh SQLite file, or on BENCH_DATABASE_URL
(bench/scratch.py: its schema is dropped and rebuilt).
Every record is a full household survey with start/end GPS stamps and two real P-256
attestations, so validation, integrity flags and signature checks are all in the figure.
Targets (2 cores, issue 23): push <= 0.5 s; replay <= 0.1 s; one visit per request >= 200/s;
no-change pull <= 512 bytes; push peak memory < 200 MB. Each figure is printed with the
process's CPU time beside the wall time: on a shared machine CPU time is the steadier one.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", choices=("push", "replay", "single"),
                        help="print cProfile's costliest functions of that step, last repeat")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"),
                        help="the order of --profile's functions")
    parser.add_argument("--callers", help="also print who calls the functions matching this")
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements of the last one-visit request")
    args = parser.parse_args()
    profiles = {step: cProfile.Profile() for step in ("push", "replay", "single")}

    def profiled(step: str, request):
        if args.profile != step:
            return request()
        return profiles[step].runcall(request)

    from scratch import database_name, fresh_app
    from soak import signed_visits

    from backend.extensions import db
    from tests.conftest import Api
    from tests.device_keys import registered_key

    app, url, _workdir = fresh_app()
    api = Api(app.test_client())
    keys = {}
    for user, device in (("wenping_fw1", "bench-device-1"), ("wenping_fw2", "bench-device-2")):
        pair, key_id = registered_key(api, user, device)
        keys[user] = (api.user_id(user), key_id, pair)
    cases = [c for c in api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100")
             .get_json()["items"] if c["kind"] != "extreme_poverty"]

    def batch(n):
        return signed_visits(keys, cases, n)

    def push(body: bytes):
        """POST a body encoded before the clock starts: a phone's bytes arrive encoded, and
        the test client's own JSON encoding (sorted keys, ASCII escapes: 30-40 ms for a
        thousand visits on this machine) is the sender's work, not the server's."""
        return api.post("wenping_fw1", "/api/sync/push", data=body,
                        content_type="application/json")

    def encoded(records: list) -> bytes:
        return json.dumps({"device_id": "bench-device-1", "records": records},
                          ensure_ascii=False).encode()

    from sqlalchemy import event

    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    push_times, replay_times, push_statements, replay_statements = [], [], [], []
    push_cpu, replay_cpu = [], []
    before = rss_mb()
    for _ in range(args.repeats):
        records = batch(args.records)
        body = encoded(records)
        statements.clear()
        started, cpu = time.perf_counter(), time.process_time()
        response = profiled("push", lambda body=body: push(body))
        push_times.append(time.perf_counter() - started)
        push_cpu.append(time.process_time() - cpu)
        push_statements.append(len(statements))
        statuses = {r["status"] for r in response.get_json()["results"]}
        assert statuses == {"accepted"}, statuses
        replay = encoded(records)
        statements.clear()
        started, cpu = time.perf_counter(), time.process_time()
        response = profiled("replay", lambda replay=replay: push(replay))
        replay_times.append(time.perf_counter() - started)
        replay_cpu.append(time.process_time() - cpu)
        replay_statements.append(len(statements))
        assert {r["status"] for r in response.get_json()["results"]} == {"duplicate"}
    peak = rss_mb()

    singles = [encoded([record]) for record in batch(200)]
    statements.clear()
    started, cpu = time.perf_counter(), time.process_time()
    for record in singles:
        before_this = len(statements)
        response = profiled("single", lambda record=record: push(record))
        assert response.get_json()["results"][0]["status"] == "accepted"
    one_wall = (time.perf_counter() - started) / len(singles)
    one_cpu = (time.process_time() - cpu) / len(singles)
    one_statements = len(statements) / len(singles)
    last_single = statements[before_this:]
    event.remove(engine, "before_cursor_execute", count)

    cursor = api.get("wenping_fw1", "/api/sync/pull").get_json()["cursor"]
    pulls, size = [], 0
    for _ in range(20):
        started = time.perf_counter()
        response = api.get("wenping_fw1", f"/api/sync/pull?cursor={cursor}")
        pulls.append(time.perf_counter() - started)
        size = len(response.data)

    event.listen(engine, "before_cursor_execute", count)
    page_queries, page_sizes, next_cursor = [], [], None
    while True:
        statements.clear()
        suffix = f"?cursor={next_cursor}" if next_cursor else ""
        page = api.get("wenping_fw1", f"/api/sync/pull{suffix}").get_json()
        page_queries.append(len(statements))
        page_sizes.append(len(page.get("cases", [])))
        next_cursor = page["cursor"]
        if not page["has_more"]:
            break
    event.remove(engine, "before_cursor_execute", count)

    database = database_name(url)
    print(f"database: {database}")
    print(f"push {args.records} records (validated, flagged, 2 signatures each): "
          f"median {statistics.median(push_times):.3f} s "
          f"(CPU {statistics.median(push_cpu):.3f} s; "
          f"{args.records / statistics.median(push_times):.0f} records/s) goal <= 0.5 s; "
          f"SQL statements {push_statements}")
    print("replay of the same batch (all duplicates): "
          f"median {statistics.median(replay_times):.3f} s "
          f"(CPU {statistics.median(replay_cpu):.3f} s) goal <= 0.1 s; "
          f"SQL statements {replay_statements}")
    print(f"one visit per request, in process, one after another: {1 / one_wall:.0f}/s "
          f"({one_wall * 1000:.1f} ms each, CPU {one_cpu * 1000:.1f} ms; "
          f"{one_statements:.0f} SQL statements) goal >= 200/s")
    if args.statements:
        print("statements of the last one-visit request:")
        for statement in last_single:
            print("  " + " ".join(statement.split())[:150])
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"no-change pull: {size} bytes (target <= 512), median "
          f"{statistics.median(pulls) * 1000:.1f} ms")
    print(f"full pull: {len(page_queries)} page(s) of {page_sizes} cases, "
          f"SQL statements per page {page_queries}")
    print(f"peak resident memory of the process: {peak:.0f} MB "
          f"(before pushes {before:.0f} MB; target < 200 MB)")
    if args.profile:
        print(f"-- profile of the {args.profile} step ({args.sort})")
        stats = pstats.Stats(profiles[args.profile]).sort_stats(args.sort)
        stats.print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)


if __name__ == "__main__":
    main()
