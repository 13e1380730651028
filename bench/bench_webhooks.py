"""Webhook deliveries per second to a fast local receiver, with one worker.

    .venv/bin/python bench/bench_webhooks.py [--events 2000] [--cases-for-order 20]

A fresh demo app (SQLite, or BENCH_DATABASE_URL), one subscription to a receiver on
127.0.0.1 running in its own process (http.server, HTTP/1.1, answers 204), and ``--events``
events handed to the webhooks as the outbox relay hands them (``delivery.fan_out``). Then
the worker's delivery task runs once, in this process (``delivery.deliver_due``: batches
claimed in short transactions, sent by its small thread pool, results written back), until
nothing is due. Printed: deliveries per second, for events of distinct cases (no ordering
wait) and for the same number of events on only ``--cases-for-order`` cases (each case's
events strictly in order: one of each case per batch). Goal: >= 200/s with one worker.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratch import database_name, fresh_app  # noqa: E402


@dataclass(frozen=True)
class Event:
    type: str
    aggregate_id: str
    sequence: int
    payload: dict[str, Any]
    jurisdiction_code: str = "530621101201"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: int = 1
    aggregate_type: str = "case"
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _serve(port_out, received) -> None:
    from tests.webhook_receiver import Receiver

    class Counting(Receiver):
        def _handler(self):
            base = super()._handler()

            class Handler(base):
                def do_POST(self):  # noqa: N802
                    length = int(self.headers.get("content-length") or 0)
                    self.rfile.read(length)
                    with received.get_lock():
                        received.value += 1
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            return Handler

    receiver = Counting().start()
    port_out.value = receiver.port
    while True:
        time.sleep(3600)


def run(app, events: list[Event], received) -> tuple[float, int]:
    from backend.extensions import db
    from backend.webhooks import delivery

    with app.app_context():
        for event in events:
            delivery.fan_out(event)
        db.session.commit()
        before = received.value
        started = time.perf_counter()
        total = 0
        while True:
            report = delivery.deliver_due(batch_size=100, max_batches=1000)
            total += report.delivered
            if not report.more_due:
                break
        took = time.perf_counter() - started
        db.session.remove()
    assert received.value - before == len(events), (received.value - before, len(events))
    return took, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--cases-for-order", type=int, default=20)
    args = parser.parse_args()

    port = multiprocessing.Value("i", 0)
    received = multiprocessing.Value("i", 0)
    sink = multiprocessing.Process(target=_serve, args=(port, received), daemon=True)
    sink.start()
    while not port.value:
        time.sleep(0.05)
    os.environ.setdefault("HUEY_NAME", "doorstep-webhooks-bench")
    app, url, _workdir = fresh_app("doorstep-webhooks-", {
        "WEBHOOK_ALLOW_HTTP_LOOPBACK": True, "HUEY_NAME": os.environ["HUEY_NAME"],
        "HUEY_BACKEND": "memory"})
    from tests.conftest import Api

    api = Api(app.test_client())
    response = api.post("county_admin", "/api/webhooks/subscriptions", json={
        "url": f"http://127.0.0.1:{port.value}/hook", "purpose": "reporting",
        "event_types": ["case.decided", "case.state_changed"]})
    assert response.status_code == 201, response.get_json()

    payload = {"case_id": "", "decision": "approve", "amount_yuan": "1350.00",
               "applicant_name": "罗德明", "id_number": "530621196203090317"}
    distinct = [Event("case.decided", str(uuid.uuid4()), n, payload)
                for n in range(1, args.events + 1)]
    cases = [str(uuid.uuid4()) for _ in range(args.cases_for_order)]
    ordered = [Event("case.state_changed", cases[n % len(cases)], args.events + n, payload)
               for n in range(1, args.events + 1)]

    print(f"webhook deliveries, one worker, {database_name(url)}, receiver on 127.0.0.1 "
          f"(machine shared with other jobs: figures vary with its load)")
    for label, events in ((f"{args.events} events, each its own case", distinct),
                          (f"{args.events} events on {len(cases)} cases, in order per case",
                           ordered)):
        took, delivered = run(app, events, received)
        print(f"  {label}: {delivered} delivered in {took:.2f} s = "
              f"{delivered / took:.0f} deliveries/s (goal >= 200/s)")
    sink.terminate()


if __name__ == "__main__":
    main()
