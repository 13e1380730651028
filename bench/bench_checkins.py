"""Check-in figures: submissions per second and latency with gunicorn and concurrent clients.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_ck \\
        .venv/bin/python bench/bench_checkins.py [--workers 4] [--clients 16] [--per-recipient 10]

Prepares a fresh database (demo data; every household of 文屏镇 approved, one recipient each,
activated, signed in, with a registered P-256 device key), then starts gunicorn on loopback.
Photos go first through the same content-addressed upload (PUT /api/photos/<sha256>) and are
measured apart; then every client pushes check-ins one per request (POST /api/sync/push with
one signed record): signature, window judgement and every flag are in the figure. The
identity check is queued (Huey on Redis when REDIS_URL is set, else SQLite), not run here.
Compass goal (issue 12): >= 800 submissions/s with p99 <= 50 ms on loopback.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from soak import in_threads, start_gunicorn  # noqa: E402

PASSWORD = "demo-pass-2026"
PIN = "204815"


def prepare(url: str, photo_dir: str, per_recipient: int, extra: dict) -> dict:
    """Recipients with signed check-ins ready to push; also the app and its signed-in test
    client (``app``, ``api``) for the in-process bench (bench/bench_checkin_push.py)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from backend import create_app
    from backend.cases.models import Case
    from backend.demo import seed
    from backend.extensions import db
    from backend.households.models import Household
    from tests.checkin_factory import checkin, photo_bytes
    from tests.conftest import Api, reset_postgres
    from tests.device_keys import registered_key

    if url.startswith("postgres"):
        reset_postgres(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PHOTO_DATA_DIR": photo_dir,
                      "LOGIN_LIMIT_PER_CLIENT": "10000 per minute", **extra})
    with app.app_context():
        upgrade()
        seed(PASSWORD)
        households = list(db.session.scalars(select(Household).where(
            Household.jurisdiction_code.like("530621100%"))))
        for case in db.session.scalars(select(Case).where(
                Case.household_id.in_([h.id for h in households]))):
            case.status = "approved"
        db.session.commit()
        plan = [(h.id, h.members[0].id, h.home_lat or 27.19, h.home_lon or 103.55)
                for h in households]
    api = Api(app.test_client())
    recipients, photos = [], []
    for index, (household_id, member_id, lat, lon) in enumerate(plan):
        phone = f"1380000{index:04d}"
        reference = photo_bytes(10_000 + index)
        sha = hashlib.sha256(reference).hexdigest()
        api.put("wenping_assistant", f"/api/photos/{sha}", data=reference,
                headers={"Content-Type": "image/jpeg"})
        enrolled = api.post("wenping_assistant", "/api/checkins/recipients", json={
            "household_id": household_id, "member_id": member_id, "phone": phone,
            "category": "monthly", "reference_photo_sha256": sha}).get_json()
        api.client.post("/api/checkins/activate",
                        json={"code": enrolled["activation_code"], "pin": PIN})
        login = api.client.post("/api/checkins/login", json={"phone": phone, "pin": PIN})
        name = f"recipient-{phone}"
        api._tokens[name] = login.get_json()
        pair, key_id = registered_key(api, name, f"bench-phone-{index:04d}")
        records = []
        for n in range(per_recipient):
            raw = photo_bytes(index * 100_000 + n)
            photo_sha = hashlib.sha256(raw).hexdigest()
            photos.append((phone, photo_sha, raw))
            records.append(checkin(pair, key_id, photo_sha, at=datetime.now(UTC),
                                   lat=lat, lon=lon))
        recipients.append({"phone": phone, "records": records})
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {"recipients": recipients, "photos": photos, "app": app, "api": api}


def run_clients(port: int, jobs: list[tuple[str, str, str, bytes, dict]], clients: int):
    """Each job: (method, path, token, body, headers). Returns latencies (s), statuses."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    cursor = iter(jobs)

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, seen = [], {}
        while True:
            with lock:
                job = next(cursor, None)
            if job is None:
                break
            method, path, token, body, headers = job
            started = time.perf_counter()
            connection.request(method, path, body=body, headers={
                "Authorization": f"Bearer {token}", **headers})
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            seen[response.status] = seen.get(response.status, 0) + 1
        with lock:
            latencies.extend(mine)
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    return latencies, statuses, in_threads(client, clients)


def report(label: str, latencies: list[float], statuses: dict, seconds: float) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"{label}: {len(ordered)} in {seconds:.1f} s = {len(ordered) / seconds:.0f}/s; "
          f"median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; "
          f"statuses {dict(sorted(statuses.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-recipient", type=int, default=10)
    parser.add_argument("--port", type=int, default=18_712)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url or not url.startswith("postgres"):
        raise SystemExit("set BENCH_DATABASE_URL to a scratch PostgreSQL database (it is reset)")
    workdir = tempfile.mkdtemp(prefix="doorstep-checkin-bench-")
    extra = {"HUEY_NAME": "doorstep-ck-bench"}
    os.environ.setdefault("HUEY_NAME", "doorstep-ck-bench")
    if not os.environ.get("REDIS_URL"):
        os.environ["HUEY_SQLITE_PATH"] = f"{workdir}/huey.sqlite3"
    print("preparing ...", flush=True)
    data = prepare(url, workdir, args.per_recipient, extra)
    os.environ["LOGIN_LIMIT_PER_CLIENT"] = "10000 per minute"
    server = start_gunicorn(url, workdir, args.port, args.workers, args.threads,
                            Path(workdir) / "gunicorn.log")
    try:
        # gunicorn signs tokens with its own secret: sign the recipients in over HTTP.
        tokens = {}
        for recipient in data["recipients"]:
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
            connection.request("POST", "/api/checkins/login", body=json.dumps(
                {"phone": recipient["phone"], "pin": PIN}),
                headers={"Content-Type": "application/json"})
            tokens[recipient["phone"]] = json.loads(connection.getresponse().read())[
                "access_token"]
            recipient["token"] = tokens[recipient["phone"]]
        uploads = [("PUT", f"/api/photos/{sha}", tokens[phone], raw,
                    {"Content-Type": "image/jpeg"}) for phone, sha, raw in data["photos"]]
        report(f"photo uploads ({len(uploads[0][3])} B JPEG each)",
               *run_clients(args.port, uploads, args.clients))
        pushes = []
        for recipient in data["recipients"]:
            for record in recipient["records"]:
                body = json.dumps({"device_id": "bench", "records": [record],
                                   "sent_at": datetime.now(UTC).isoformat()}).encode()
                pushes.append(("POST", "/api/sync/push", recipient["token"], body,
                               {"Content-Type": "application/json"}))
        # Interleave recipients so concurrent clients push for different people.
        per = args.per_recipient
        pushes = [pushes[r * per + n] for n in range(per) for r in range(len(pushes) // per)]
        report(f"check-in pushes (gunicorn {args.workers} workers, {args.clients} clients)",
               *run_clients(args.port, pushes, args.clients))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"workdir {workdir}")


if __name__ == "__main__":
    main()
