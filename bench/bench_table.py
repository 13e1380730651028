"""Issue 23's throughput table over real HTTP against gunicorn, on SQLite and on PostgreSQL.

    .venv/bin/python bench/bench_table.py [--databases sqlite,postgres] [--workers 4]
        [--soak 60] [--visits 1000] [--photos 20]

For each database (SQLite: a temporary file; PostgreSQL: BENCH_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/bench_table, created if missing, its schema DROPPED
and rebuilt) it seeds the demo and the check-in recipients (bench/bench_checkins.py), starts
gunicorn as deployed (`backend.wsgi:app --preload`, N sync workers) on loopback, and times
only the HTTP requests (records, signatures and bodies are built beforehand):

  figure                                                               goal
  1,000 visits (2 real P-256 attestations each) in one push, twice     <= 0.5 s each
  replay of the first 1,000 (every record `duplicate`)                 <= 0.1 s
  one visit per request, 8 clients x 40 pushes: rate, p99              >= 200/s
  12 MP JPEG ingest (PUT /api/photos/<sha256>), one at a time          >= 25/s per worker
  recipients' check-ins, 16 clients, one per request: rate, median,    >= 800/s, p99 <= 50 ms
    p99; and their replay
  memory per worker after all of the above (PSS / RSS, max of workers) <= 100 MB (PSS)
  case list p99 under bench/soak.py's mixed load, 8 clients, --soak s  p99 <= 200 ms
    (and the median push of 50 visits in the same load)

The visits are 龙头山镇's (its field workers' open cases): the check-in set-up approves every
case of 文屏镇, and a decided case takes no visit.
Every answer is checked (HTTP status, and each pushed record's `accepted` / `duplicate`);
a figure taken with errors says so. Prints one table (figure | SQLite | PostgreSQL | goal),
the exceptions in gunicorn's log, and a JSON line. Job queue: Huey on a SQLite file in the
work dir, never Redis.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import soak  # noqa: E402
from bench_checkins import PIN, prepare  # noqa: E402
from bench_memory import smaps  # noqa: E402
from soak import (  # noqa: E402
    Client,
    Tally,
    free_port,
    in_threads,
    register_keys,
    request,
    server_exceptions,
    sign_in,
    signed_visits,
    start_gunicorn,
    stop_gunicorn,
    worker_pids,
)

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/bench_table"
CASE_LIST = "/api/cases?assigned_to_me=true&page_size=50"
SINGLE_CLIENTS, SINGLE_PUSHES = 8, 40
CHECKIN_CLIENTS = 16
# The demo enrols 20 recipients (the households of 文屏镇): 800 check-ins, about a second of
# pushes at the goal, enough for a steady rate and p99.
CHECKINS_PER_RECIPIENT = 40
MIXED_CLIENTS = 8
MEMORY_GOAL_MB = 100
# prepare() approves every case of 文屏镇 (its recipients need approved cases) and a decided
# case takes no visit: the visits are 龙头山镇's, by its two field workers.
INVESTIGATORS = ("longtoushan_fw1", "longtoushan_fw2")


# --- requests ---------------------------------------------------------------------------

@dataclass
class Job:
    """One timed request and the answer it must get."""
    method: str
    path: str
    token: str
    body: bytes
    content_type: str = "application/json"
    status: int = 200
    record: str | None = None  # the status every record of a push must come back with


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def answer_problems(job: Job, status: int, data: bytes) -> list[str]:
    if status != job.status:
        return [f"HTTP {status}"]
    if job.record is None:
        return []
    return [f"record {result['status']}" for result in json.loads(data)["results"]
            if result["status"] != job.record]


def run_jobs(port: int, jobs: list[Job], clients: int) -> Run:
    """Every job sent once by `clients` threads, each taking the next job when it is free.
    (bench_checkins.run_clients drops the answers; these must be checked.)"""
    run, lock, pending = Run(), threading.Lock(), iter(jobs)

    def client() -> None:
        while True:
            with lock:
                job = next(pending, None)
            if job is None:
                return
            headers = {"Authorization": f"Bearer {job.token}", "Content-Type": job.content_type}
            started = time.perf_counter()
            status, data = request(port, job.method, job.path, job.body, headers)
            seconds = time.perf_counter() - started
            problems = answer_problems(job, status, data)
            with lock:
                run.latencies.append(seconds)
                run.errors.update(problems)

    run.seconds = in_threads(client, clients)
    return run


def push_job(token: str, records: list[dict], expect: str, device_id: str) -> Job:
    body = json.dumps({"device_id": device_id, "records": records,
                       "sent_at": datetime.now(UTC).isoformat()}).encode()
    return Job("POST", "/api/sync/push", token, body, record=expect)


# --- the rows ---------------------------------------------------------------------------

def batch_rows(port: int, token: str, keys: dict, cases: list[dict], count: int) -> dict:
    first, second = signed_visits(keys, cases, count), signed_visits(keys, cases, count)
    jobs = {"push 1": push_job(token, first, "accepted", "bench-table"),
            "push 2": push_job(token, second, "accepted", "bench-table"),
            "replay": push_job(token, first, "duplicate", "bench-table")}
    # The second batch shows whether a push stays flat as the visits table grows.
    return {name: run_jobs(port, [job], 1) for name, job in jobs.items()}


def single_rows(port: int, token: str, keys: dict, cases: list[dict]) -> Run:
    records = signed_visits(keys, cases, SINGLE_CLIENTS * SINGLE_PUSHES)
    jobs = [push_job(token, [record], "accepted", f"bench-single-{index % SINGLE_CLIENTS}")
            for index, record in enumerate(records)]
    return run_jobs(port, jobs, SINGLE_CLIENTS)


def photo_row(port: int, token: str, paths: list[Path]) -> Run:
    jobs = []
    for path in paths:
        raw = path.read_bytes()  # outside the clock, as a request body would be
        jobs.append(Job("PUT", f"/api/photos/{hashlib.sha256(raw).hexdigest()}", token, raw,
                        content_type="image/jpeg", status=201))
    return run_jobs(port, jobs, 1)


def checkin_rows(port: int, data: dict) -> dict:
    # gunicorn signs tokens with its own secret: the recipients sign in again over HTTP.
    tokens = {}
    for recipient in data["recipients"]:
        status, body = request(port, "POST", "/api/checkins/login",
                               json.dumps({"phone": recipient["phone"], "pin": PIN}).encode(),
                               {"Content-Type": "application/json"})
        if status != 200:
            raise SystemExit(f"recipient sign-in failed: {status} {body[:200]!r}")
        tokens[recipient["phone"]] = json.loads(body)["access_token"]
    uploads = [Job("PUT", f"/api/photos/{sha}", tokens[phone], raw, content_type="image/jpeg",
                   status=201) for phone, sha, raw in data["photos"]]
    pushes = [[push_job(tokens[r["phone"]], [record], expect, f"bench-phone-{r['phone']}")
               for r in data["recipients"] for record in r["records"]]
              for expect in ("accepted", "duplicate")]
    # Round-robin over recipients, so concurrent clients push for different people.
    per = len(data["recipients"][0]["records"])
    pushes = [[jobs[r * per + n] for n in range(per) for r in range(len(jobs) // per)]
              for jobs in pushes]
    return {"uploads": run_jobs(port, uploads, CHECKIN_CLIENTS),
            "push": run_jobs(port, pushes[0], CHECKIN_CLIENTS),
            "replay": run_jobs(port, pushes[1], CHECKIN_CLIENTS)}


class MixedClient(Client):
    """soak's client, with the case list timed apart from the one case read after it."""

    def do_case_read(self) -> None:
        status, data = self.call("case list", "GET", CASE_LIST)
        items = json.loads(data)["items"] if status == 200 else []
        if items:
            self.call("case read", "GET", f"/api/cases/{self.rng.choice(items)['id']}")


def mixed_load(port: int, keys: dict, cases: list[dict], seconds: float) -> Tally:
    tally, rng = Tally(), random.Random(20261126)
    clients = [MixedClient(port, INVESTIGATORS[index % len(INVESTIGATORS)], tally, keys, cases,
                           random.Random(rng.random())) for index in range(MIXED_CLIENTS)]
    stop = threading.Event()

    def loop(client: MixedClient) -> None:
        while not stop.is_set():
            client.step()

    threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=180)
    return tally


def memory(master: int) -> dict[str, float]:
    figures = [smaps(pid) for pid in worker_pids(master)]
    return {key: max(figure[key] for figure in figures) for key in ("pss", "rss")}


# --- set-up ---------------------------------------------------------------------------

class Photos:
    """12 MP JPEGs written by bench_photos in a child process (its memory stays there) while
    the first database is seeded: both outside every clock."""

    def __init__(self, count: int):
        self.directory = Path(tempfile.mkdtemp(prefix="doorstep-bench-table-photos-"))
        self.child = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bench_photos.py"),
                                       "--generate", str(self.directory), "--photos", str(count)])

    def paths(self) -> list[Path]:
        if self.child.wait() != 0:
            raise SystemExit(f"generating the photos failed ({self.child.returncode})")
        return sorted(self.directory.glob("*.jpg"))

    def remove(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_url() -> tuple[str | None, str]:
    """(the scratch PostgreSQL URL, created if missing; or None and why it can't be used)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from backend.config import sqlalchemy_url

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRES
    if not url.startswith("postgres"):
        return None, "BENCH_DATABASE_URL is not a PostgreSQL URL"
    target = make_url(sqlalchemy_url(url))
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                     {"name": target.database}):
                quoted = connection.dialect.identifier_preparer.quote(target.database)
                connection.execute(text(f"CREATE DATABASE {quoted}"))
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return None, f"{make_url(url).render_as_string(hide_password=True)}: {reason}"
    finally:
        engine.dispose()
    return url, ""


# --- one database -----------------------------------------------------------------------

def measure(url: str | None, args: argparse.Namespace, photos: Photos) -> dict:
    """Every figure on one database (None: a new SQLite file): seed, serve, time; gunicorn
    stops and the work dir goes whatever happens."""
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-bench-table-"))
    url = url or f"sqlite:///{workdir}/bench.sqlite3"
    try:
        # A queue of its own in the work dir: the check-ins enqueue identity checks, and
        # nothing may reach a Redis or another run's queue.
        queue = {"HUEY_BACKEND": "sqlite", "HUEY_NAME": f"bench-table-{uuid.uuid4().hex[:8]}",
                 "HUEY_SQLITE_PATH": str(workdir / "huey.sqlite3")}
        os.environ.update(queue)
        started = time.monotonic()
        data = prepare(url, str(workdir), CHECKINS_PER_RECIPIENT, queue)
        print(f"  seeded in {time.monotonic() - started:.0f} s: {len(data['recipients'])} "
              f"recipients, {len(data['photos'])} check-ins", flush=True)
        paths = photos.paths()
        port, log = free_port(), workdir / "gunicorn.log"
        server = start_gunicorn(url, str(workdir), port, args.workers, 1, log,
                                app="backend.wsgi:app", extra=("--preload",))
        try:
            figures = serve_and_time(port, server.pid, data, args, paths)
        finally:
            stop_gunicorn(server)
        figures["exceptions"] = dict(server_exceptions(log))
        figures["database_errors"] = database_errors(log)
        return figures
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def database_errors(log: Path) -> dict[str, int]:
    """The database errors the app answered 503 for: it logs them without a traceback, so
    soak.server_exceptions does not see them (e.g. SQLite's "database is locked")."""
    found: collections.Counter = collections.Counter()
    # Flask's handler writes to wsgi.errors (gunicorn's log), other loggers to stderr.
    text = "".join(path.read_text(errors="replace") for path in
                   (log, log.with_suffix(".stderr")) if path.exists())
    for match in re.finditer(r"database error: (.{0,120})", text):
        found[match.group(1).split("\n")[0]] += 1
    return dict(found)


def investigators(port: int) -> tuple[dict, list[dict]]:
    """soak.register_keys for INVESTIGATORS: their device keys, and their open cases."""
    from backend.cases.rules import OPEN_STATUSES

    with mock.patch.object(soak, "USERS", INVESTIGATORS):
        keys, cases = register_keys(port)
    cases = [case for case in cases if case["status"] in OPEN_STATUSES]
    if not cases:
        raise SystemExit(f"{INVESTIGATORS[0]} has no open case to visit")
    return keys, cases


def serve_and_time(port: int, master: int, data: dict, args: argparse.Namespace,
                   photos: list[Path]) -> dict:
    keys, cases = investigators(port)
    token = sign_in(port, INVESTIGATORS[0])["access_token"]
    figures: dict = {}
    step(f"{args.visits:,}-visit pushes")
    figures["batch"] = batch_rows(port, token, keys, cases, args.visits)
    step("one visit per request")
    figures["single"] = single_rows(port, token, keys, cases)
    step("12 MP photos")
    figures["photos"] = photo_row(port, token, photos)
    step("check-ins")
    figures["checkins"] = checkin_rows(port, data)
    step(f"mixed load, {args.soak:.0f} s")
    figures["mixed"] = mixed_load(port, keys, cases, args.soak)
    figures["memory"] = memory(master)  # warm: every worker has served all of the above
    return figures


def step(name: str) -> None:
    print(f"  {name} ...", flush=True)


# --- the table --------------------------------------------------------------------------

def summarise(figures: dict) -> tuple[dict[str, float | None], dict[str, int]]:
    """The table's numbers, and the errors behind each, by the same key."""
    batch, single, photos = figures["batch"], figures["single"], figures["photos"]
    checkins, tally = figures["checkins"], figures["mixed"]
    samples = tally.samples

    def soak_errors(*operations: str) -> int:
        return (sum(n for (op, _), n in tally.unexpected.items() if op in operations)
                + sum(n for (op, *_), n in tally.record_problems.items() if op in operations))

    numbers = {
        "push_1_s": batch["push 1"].seconds, "push_2_s": batch["push 2"].seconds,
        "replay_s": batch["replay"].seconds,
        "single_per_s": single.rate, "single_p99_ms": percentile(single.latencies, 0.99) * 1000,
        "photos_per_s": photos.rate,
        "checkin_uploads_per_s": checkins["uploads"].rate,
        "checkins_per_s": checkins["push"].rate,
        "checkin_median_ms": statistics.median(checkins["push"].latencies) * 1000,
        "checkin_p99_ms": percentile(checkins["push"].latencies, 0.99) * 1000,
        "checkin_replays_per_s": checkins["replay"].rate,
        "worker_pss_mb": figures["memory"]["pss"], "worker_rss_mb": figures["memory"]["rss"],
        "case_list_p99_ms": (percentile(samples["case list"], 0.99) * 1000
                             if samples["case list"] else None),
        "mixed_push_median_ms": (statistics.median(samples["push"]) * 1000
                                 if samples["push"] else None),
        "mixed_requests": tally.requests,
    }
    runs = [*batch.values(), single, photos, *checkins.values()]
    errors = {
        "total": (sum(run.error_count for run in runs) + tally.errors
                  + sum(tally.record_problems.values())),
        "push_1_s": batch["push 1"].error_count, "push_2_s": batch["push 2"].error_count,
        "replay_s": batch["replay"].error_count,
        "single_per_s": single.error_count, "photos_per_s": photos.error_count,
        "checkin_uploads_per_s": checkins["uploads"].error_count,
        "checkins_per_s": checkins["push"].error_count,
        "checkin_replays_per_s": checkins["replay"].error_count,
        "case_list_p99_ms": soak_errors("case list"), "mixed_push_median_ms": soak_errors("push"),
        "mixed_requests": tally.errors + sum(tally.record_problems.values()),
    }
    return numbers, errors


def rows(args: argparse.Namespace) -> list[tuple[str, str, str, str, float | None, str]]:
    """(figure, goal, key, format, the goal's bound, "max" or "min"); no bound: no goal."""
    soak = f"mixed load, {MIXED_CLIENTS} clients, {args.soak:.0f} s"
    # The batch goals are for 1,000 visits: a smaller batch is printed, not judged.
    judged = args.visits == 1000
    push_goal, push_bound = ("<= 0.5 s", 0.5) if judged else ("", None)
    return [
        (f"{args.visits:,} visits in one push, 1st batch", push_goal, "push_1_s", "{:.2f} s",
         push_bound, "max"),
        (f"{args.visits:,} visits in one push, 2nd batch", push_goal, "push_2_s", "{:.2f} s",
         push_bound, "max"),
        ("replay of the 1st batch (all duplicate)", "<= 0.1 s" if judged else "", "replay_s",
         "{:.3f} s", 0.1 if judged else None, "max"),
        (f"one visit per request, {SINGLE_CLIENTS} clients x {SINGLE_PUSHES}", ">= 200/s",
         "single_per_s", "{:.0f}/s", 200, "min"),
        ("  p99 of those", "", "single_p99_ms", "{:.0f} ms", None, ""),
        ("12 MP photo ingest, one at a time", ">= 25/s per worker", "photos_per_s",
         "{:.1f}/s", 25, "min"),
        (f"check-in photo uploads, {CHECKIN_CLIENTS} clients", "", "checkin_uploads_per_s",
         "{:.0f}/s", None, ""),
        (f"check-ins, {CHECKIN_CLIENTS} clients, one per request", ">= 800/s",
         "checkins_per_s", "{:.0f}/s", 800, "min"),
        ("  median of those", "", "checkin_median_ms", "{:.1f} ms", None, ""),
        ("  p99 of those", "<= 50 ms", "checkin_p99_ms", "{:.1f} ms", 50, "max"),
        ("check-in replay (all duplicate)", ">= 800/s", "checkin_replays_per_s", "{:.0f}/s",
         800, "min"),
        (f"memory per worker, PSS (max of {args.workers})", "<= 100 MB", "worker_pss_mb",
         "{:.0f} MB", MEMORY_GOAL_MB, "max"),
        ("  RSS (shared pages counted in full)", "", "worker_rss_mb", "{:.0f} MB", None, ""),
        (f"case list p99, {soak}", "<= 200 ms", "case_list_p99_ms", "{:.0f} ms", 200, "max"),
        ("  push of 50 visits, median, same load", "", "mixed_push_median_ms", "{:.0f} ms",
         None, ""),
        ("  requests in that load", "", "mixed_requests", "{:.0f}", None, ""),
    ]


def cell(number: float | None, errors: int, fmt: str, bound: float | None, sense: str) -> str:
    if number is None:
        return "no samples"
    text = fmt.format(number) + (f" ({errors} error{'s' * (errors > 1)})" if errors else "")
    if bound is None:
        return text
    meets = number <= bound if sense == "max" else number >= bound
    return f"{text}  {'ok' if meets and not errors else '—'}"


def print_table(args: argparse.Namespace, results: dict[str, dict]) -> None:
    header = ["figure", *(name for name in results), "goal"]
    lines = [header]
    for label, goal, key, fmt, bound, sense in rows(args):
        cells = []
        for result in results.values():
            if "skipped" in result:
                cells.append("skipped")
            else:
                cells.append(cell(result["numbers"][key], result["errors"].get(key, 0), fmt,
                                  bound, sense))
        lines.append([label, *cells, goal])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        print(" | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def print_problems(name: str, figures: dict) -> None:
    """Every unexpected answer and server exception behind the table's error counts."""
    runs = {**{f"visits {k}": v for k, v in figures["batch"].items()},
            "one visit per request": figures["single"], "photos": figures["photos"],
            **{f"check-in {k}": v for k, v in figures["checkins"].items()}}
    for label, run in runs.items():
        if run.errors:
            print(f"{name} {label}: " + ", ".join(f"{k}: {n}" for k, n in run.errors.items()))
    tally = figures["mixed"]
    for (operation, status), n in sorted(tally.unexpected.items()):
        print(f"{name} mixed load {operation} {status}: {n}, e.g. "
              f"{tally.examples[(operation, status)]!r}")
    for (operation, status, kind), n in sorted(tally.record_problems.items()):
        print(f"{name} mixed load {operation} {status} {kind}: {n}")
    print(f"{name} server exceptions in gunicorn's log: " + (", ".join(
        f"{kind}: {n}" for kind, n in figures["exceptions"].items()) or "none"))
    for message, n in figures["database_errors"].items():
        print(f"{name} database error logged (answered 503): {n} x {message}")


# --- main -------------------------------------------------------------------------------

def git_commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgres",
                        help="comma-separated: sqlite, postgres")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--soak", type=float, default=60, help="seconds of mixed load")
    parser.add_argument("--visits", type=int, default=1000, help="visits in one push")
    parser.add_argument("--photos", type=int, default=20, help="12 MP photos to ingest")
    args = parser.parse_args()
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if unknown := set(databases) - {"sqlite", "postgres"}:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    if not (os.environ.get("DOORSTEP_DATA_KEY") and os.environ.get("DOORSTEP_INDEX_KEY")):
        raise SystemExit("set DOORSTEP_DATA_KEY and DOORSTEP_INDEX_KEY (make bench does)")
    # Nothing reaches a Redis: rate-limit counters in memory, the queue on SQLite (measure).
    for name in ("REDIS_URL", "RATELIMIT_STORAGE_URI"):
        os.environ.pop(name, None)
    os.environ["LOGIN_LIMIT_PER_CLIENT"] = "10000 per minute"
    load, commit = os.getloadavg(), git_commit()
    print(f"bench table: commit {commit}, {os.cpu_count()} CPUs, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; gunicorn backend.wsgi:app --preload, "
          f"{args.workers} sync workers", flush=True)

    results: dict[str, dict] = {}
    photos = Photos(args.photos)
    try:
        for name in databases:
            label = "SQLite" if name == "sqlite" else "PostgreSQL"
            url = None
            if name == "postgres":
                url, reason = postgres_url()
                if url is None:
                    print(f"PostgreSQL column skipped: {reason}", flush=True)
                    results[label] = {"skipped": reason}
                    continue
            print(f"{label}:", flush=True)
            figures = measure(url, args, photos)
            numbers, errors = summarise(figures)
            results[label] = {"figures": figures, "numbers": numbers, "errors": errors}
    finally:
        photos.remove()

    print()
    print_table(args, results)
    print()
    for label, result in results.items():
        if "figures" in result:
            print_problems(label, result["figures"])
    print(json.dumps({
        "bench": "table", "commit": commit, "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in load], "workers": args.workers,
        "soak_s": args.soak, "visits": args.visits, "photos": args.photos,
        **{label.lower(): ({"skipped": result["skipped"]} if "skipped" in result else {
            **{key: None if value is None else round(value, 3)
               for key, value in result["numbers"].items()},
            "errors": result["errors"]["total"],
            "server_exceptions": result["figures"]["exceptions"],
            "database_errors": result["figures"]["database_errors"]})
           for label, result in results.items()}}))


if __name__ == "__main__":
    main()
