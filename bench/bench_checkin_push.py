"""One check-in push, in process: SQL statements and time per push, and where the time goes.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_perf \\
        .venv/bin/python bench/bench_checkin_push.py [--per-recipient 5]
        [--statements] [--profile 25]

The same preparation as bench/bench_checkins.py (demo data, recipients activated with a
registered device key, photos uploaded first through PUT /api/photos/<sha256>), then every
check-in is pushed alone (POST /api/sync/push with one signed record) through the Flask test
client: no network and no gunicorn, so the figures move with the code rather than with the
other processes on a shared machine. The statement count is exact; times are medians, and
"app CPU" (this process's CPU time per push, not the database's) varies least with load.
Then a replay of every push (each answers ``duplicate``).

--statements prints the statements of one push (each with its median time in the driver),
of the push that sent most, and of one replay; --profile N prints
cProfile's N costliest functions (--sort cumulative or tottime) over all the pushes, or over
all the replays with --profile-phase replay.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_checkins import prepare  # noqa: E402
from scratch import database_name, scratch_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-recipient", type=int, default=5)
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"))
    parser.add_argument("--profile-phase", default="push", choices=("push", "replay"),
                        help="what --profile covers: the pushes or their replays")
    args = parser.parse_args()

    from sqlalchemy import event

    from backend.extensions import db

    workdir = tempfile.mkdtemp(prefix="doorstep-checkin-push-")
    url = scratch_url(workdir)
    os.environ.setdefault("HUEY_NAME", "doorstep-ck-push-bench")
    extra = {"HUEY_NAME": os.environ["HUEY_NAME"],
             "HUEY_SQLITE_PATH": f"{workdir}/huey.sqlite3"}
    print("preparing ...", flush=True)
    data = prepare(url, workdir, args.per_recipient, extra)
    app, api = data["app"], data["api"]
    for phone, sha, raw in data["photos"]:
        response = api.put(f"recipient-{phone}", f"/api/photos/{sha}", data=raw,
                           headers={"Content-Type": "image/jpeg"})
        assert response.status_code in (200, 201), response.get_json()

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    # Each statement's time in the driver (sent, run, answered), by its text: a round trip
    # and the database's work, which the app CPU figure leaves out.
    driver_times: dict[str, list[float]] = {}

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)
        _conn.info["bench_sent_at"] = time.perf_counter()

    def answered(_conn, _cursor, statement, _parameters, _context, _executemany):
        driver_times.setdefault(statement, []).append(
            time.perf_counter() - _conn.info.pop("bench_sent_at"))

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "after_cursor_execute", answered)
    by_recipient = [(f"recipient-{r['phone']}", r["records"]) for r in data["recipients"]]
    # Interleaved as in the gunicorn bench: each recipient's n-th check-in in turn.
    pushes = [(name, records[n]) for n in range(args.per_recipient)
              for name, records in by_recipient]

    most: dict[str, list[str]] = {}  # by phase: the statements of its push that sent most

    def push_all(expected: str) -> tuple[list[float], list[float], list[int], list[str]]:
        times, cpu, counts, sample = [], [], [], []
        most[expected] = []
        for name, record in pushes:
            body = {"device_id": "bench", "records": [record],
                    "sent_at": datetime.now(UTC).isoformat()}
            statements.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = api.post(name, "/api/sync/push", json=body)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            counts.append(len(statements))
            result = response.get_json()["results"][0]
            assert result["status"] == expected, result
            if len(counts) == len(pushes) // 2:
                sample = list(statements)
            if len(statements) > len(most[expected]):
                most[expected] = list(statements)
        return times, cpu, counts, sample

    profiler = cProfile.Profile() if args.profile else None

    def run(expected: str, phase: str) -> tuple[list[float], list[float], list[int], list[str]]:
        profiled = profiler is not None and args.profile_phase == phase
        if profiled:
            profiler.enable()
        try:
            return push_all(expected)
        finally:
            if profiled:
                profiler.disable()

    times, cpu, counts, sample = run("accepted", "push")
    replay_times, replay_cpu, replay_counts, replay_sample = run("duplicate", "replay")
    event.remove(engine, "before_cursor_execute", count)
    event.remove(engine, "after_cursor_execute", answered)

    def figures(values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        return (f"median {statistics.median(ordered) * 1000:.1f} ms, "
                f"p90 {ordered[int(0.9 * len(ordered))] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")

    print(f"database: {database_name(url)}; load average {os.getloadavg()[0]:.2f}")
    print(f"check-in push, one record per request, {len(pushes)} pushes in process: "
          f"{figures(times)}; app CPU median {statistics.median(cpu) * 1000:.1f} ms; "
          f"SQL statements per push median {statistics.median(counts):.0f} "
          f"(min {min(counts)}, max {max(counts)})")
    print(f"replay (duplicate): {figures(replay_times)}; app CPU median "
          f"{statistics.median(replay_cpu) * 1000:.1f} ms; SQL statements per push median "
          f"{statistics.median(replay_counts):.0f}")
    if args.statements:
        print("statements of one push, each with its median time in the driver:")
        for statement in sample:
            median = statistics.median(driver_times[statement]) * 1000
            print(f"  {median:5.2f} ms  " + " ".join(statement.split())[:140])
        print(f"statements of the push that sent most ({len(most['accepted'])}):")
        for statement in most["accepted"]:
            print("  " + " ".join(statement.split())[:160])
        print("statements of one replay:")
        for statement in replay_sample:
            print("  " + " ".join(statement.split())[:160])
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.profile)
        print(out.getvalue())


if __name__ == "__main__":
    main()
