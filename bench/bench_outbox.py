"""The outbox's lag: from a state change's commit to a local HTTP receiver's 2xx, with one
worker, at a steady rate of state changes.

    .venv/bin/python bench/bench_outbox.py [--rate 100] [--seconds 10]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_outbox ... (schema RESET)
    BENCH_REDIS_URL=redis://127.0.0.1:6379/5 ...   (RedisHuey; else SqliteHuey in a temp dir)

A state change is what a workflow move writes: the case's status (its version bumps), its
audit row (the chain head's lock) and its outbox event (the outbox's lock), one commit.
``--producers`` threads (as web workers would) make ``--rate`` of them per second between
them, each round-robin over its own share of the demo's cases. One
`flask worker` (a separate process, `jobs.run_worker` with one thread) relays them; its
subscriber POSTs each event to a receiver in this process, which notes the arrival and
answers 204. Lag = arrival - commit, wall clock, same host.

The webhooks sender (Standard Webhooks, signing, retries) is not in this branch: the
subscriber here is a plain POST, so the figure is commit -> subscriber handled -> receiver
2xx, without the signing and delivery log a webhook adds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratch import database_name, fresh_app  # noqa: E402

SUBSCRIBER = "bench-receiver"
STATUSES = ("investigating", "accepted")


def worker_main(receiver: str) -> None:
    """The worker process: the app, a subscriber POSTing to the receiver, the consumer."""
    from backend import create_app, jobs, outbox

    app = create_app()

    def post(event) -> None:
        body = json.dumps({"id": event.id}).encode()
        request = urllib.request.Request(receiver, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            if not 200 <= answer.status < 300:
                raise RuntimeError(f"receiver answered {answer.status}")

    outbox.subscribe(SUBSCRIBER, post, types=["case.state_changed"])
    jobs.run_worker(app, 1)


class Receiver(BaseHTTPRequestHandler):
    arrivals: dict[str, float] = {}

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        event_id = json.loads(self.rfile.read(length))["id"]
        Receiver.arrivals.setdefault(event_id, time.time())
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args):
        pass


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100.0, help="state changes per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--producers", type=int, default=None,
                        help="threads making the changes, as web workers would (default 4 "
                             "on PostgreSQL, 1 on SQLite, whose writers queue anyway)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # the receiver's URL
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver = f"http://127.0.0.1:{server.server_address[1]}/"

    redis_url = os.environ.get("BENCH_REDIS_URL")
    if args.producers is None:
        args.producers = 4 if (os.environ.get("BENCH_DATABASE_URL") or "").startswith(
            "postgres") else 1
    huey_name = f"doorstep-outbox-bench-{os.getpid()}"
    config = {"HUEY_NAME": huey_name, "HUEY_BACKEND": "redis" if redis_url else "sqlite",
              "REDIS_URL": redis_url}
    print("preparing (migrate, seed) ...", flush=True)
    app, url, workdir = fresh_app("doorstep-outbox-bench-", {
        **config, "HUEY_SQLITE_PATH": f"{workdir_hint()}/huey.sqlite3"})
    huey_path = app.config["HUEY_SQLITE_PATH"]

    from sqlalchemy import select

    from backend import outbox
    from backend.audit import service as audit
    from backend.cases import service as cases
    from backend.cases.models import Case
    from backend.extensions import db
    from backend.outbox.service import waiting

    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": app.config["SECRET_KEY"],
           "PHOTO_DATA_DIR": workdir, "HUEY_NAME": huey_name, "HUEY_SQLITE_PATH": huey_path,
           "HUEY_BACKEND": config["HUEY_BACKEND"], "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    worker = subprocess.Popen([sys.executable, __file__, "--worker", receiver], cwd=ROOT,
                              env=env, start_new_session=True)
    committed: dict[str, float] = {}
    failures: list[str] = []
    lock = threading.Lock()
    try:
        with app.app_context():
            if redis_url:
                from backend import jobs

                jobs.current_huey().flush()
            case_ids = list(db.session.scalars(select(Case.id).order_by(Case.id)))

        def change(my_cases: list[str], index: int) -> None:
            case = db.session.get(Case, my_cases[index % len(my_cases)])
            before = case.status
            cases.set_status(case, STATUSES[index // len(my_cases) % 2])
            audit.record("case.transition", "case", case.id,
                         jurisdiction_code=case.jurisdiction_code,
                         before={"status": before}, after={"status": case.status})
            ids = [row["id"] for row in waiting() if row["type"] == "case.state_changed"]
            db.session.commit()
            at = time.time()
            with lock:
                for event_id in ids:
                    committed[event_id] = at

        with app.app_context():  # warm up: the worker is up once a first event arrives
            change(case_ids, 0)
        deadline = time.time() + 120
        while not Receiver.arrivals and time.time() < deadline:
            time.sleep(0.05)
        if not Receiver.arrivals:
            raise SystemExit("the worker relayed nothing within 120 s")
        committed.clear()
        Receiver.arrivals.clear()

        # Several producers, as several web workers would be, each on its own cases.
        total = int(args.rate * args.seconds)
        start = time.time()

        def produce(slot: int) -> None:
            mine = case_ids[slot::args.producers]
            with app.app_context():
                for index in range(slot, total, args.producers):
                    pause = start + index / args.rate - time.time()
                    if pause > 0:
                        time.sleep(pause)
                    try:
                        change(mine, index // args.producers)
                    except Exception as error:  # noqa: BLE001 - counted and shown
                        db.session.rollback()
                        failures.append(type(error).__name__)

        producers = [threading.Thread(target=produce, args=(slot,))
                     for slot in range(args.producers)]
        for thread in producers:
            thread.start()
        for thread in producers:
            thread.join()
        produced_in = time.time() - start
        deadline = time.time() + 60
        while (len(set(committed) & set(Receiver.arrivals)) < len(committed)
               and time.time() < deadline):
            time.sleep(0.05)
        outbox.unsubscribe(SUBSCRIBER)
    finally:
        os.killpg(worker.pid, signal.SIGINT)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        server.shutdown()

    lags = [Receiver.arrivals[i] - at for i, at in committed.items() if i in Receiver.arrivals]
    lost = len(committed) - len(lags)
    print(f"\noutbox lag, commit -> local receiver 2xx ({database_name(url)}, "
          f"{'RedisHuey' if redis_url else 'SqliteHuey'}, one worker, one thread; "
          f"{args.producers} producer threads)")
    print("  subscriber: a plain HTTP POST (the webhooks sender is not in this branch: "
          "commit -> subscriber handled -> receiver 2xx)")
    print(f"  state changes: {len(committed)} in {produced_in:.1f} s "
          f"({len(committed) / produced_in:.0f}/s asked {args.rate:.0f}/s)")
    if lags:
        print(f"  lag p50 {statistics.median(lags) * 1000:.0f} ms   "
              f"p90 {percentile(lags, 0.90) * 1000:.0f} ms   "
              f"p99 {percentile(lags, 0.99) * 1000:.0f} ms   max {max(lags) * 1000:.0f} ms"
              f"   (goal p99 <= 1000 ms)")
    print(f"  not arrived within 60 s: {lost}")
    if failures:
        print(f"  state changes that failed to commit: {len(failures)} "
              f"({', '.join(sorted(set(failures)))})")
    print("  (a shared, loaded 2-core machine: other processes run beside this bench)")


def workdir_hint() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="doorstep-outbox-huey-")


if __name__ == "__main__":
    main()
