"""Memory per gunicorn worker after warm-up (issue 23: goal <= 100 MB).

    .venv/bin/python bench/bench_memory.py [--workers 2] [--rounds 150]

Seeds the demo into a temporary SQLite file (BENCH_DATABASE_URL for PostgreSQL), then serves
it twice with gunicorn: as a month ago (`backend:create_app()`, every library loaded by every
worker, nothing shared) and as deployed now (`backend.wsgi:app`, the worker app that never
loads Flask-Migrate/Alembic, with `--preload`: the master imports the app once and the forked
workers share those pages). Each run warms every worker with the phone's and the desk's
common reads (sign-in, case list, pull, review queue, dashboard, the OpenAPI document), then
reads each worker's /proc/<pid>/smaps_rollup:

- RSS: every page the worker maps, shared ones counted in full (what `top` shows);
- PSS: shared pages split between the processes that share them (what the machine pays);
- USS: pages only this worker holds (what one more worker costs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from soak import (  # noqa: E402
    free_port,
    prepare_database,
    request,
    sign_in,
    start_gunicorn,
    worker_pids,
)

GOAL_MB = 100
MODES = (("a month ago: backend:create_app(), no preload", "backend:create_app()", ()),
         ("now: backend.wsgi:app --preload", "backend.wsgi:app", ("--preload",)))
READS = {"wenping_fw1": ("/api/cases?assigned_to_me=true&page_size=50", "/api/sync/pull"),
         "wenping_reviewer": ("/api/reviews?page_size=50", "/api/reviews/dashboard",
                              "/api/cases?page_size=50")}


def smaps(pid: int) -> dict[str, float]:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    kb = {key: int(value) for key, value in re.findall(r"^(\w+):\s+(\d+) kB", text, re.M)}
    return {"rss": kb["Rss"] / 1024, "pss": kb["Pss"] / 1024,
            "uss": (kb["Private_Clean"] + kb["Private_Dirty"]) / 1024}


def warm(port: int, rounds: int) -> int:
    """Enough requests that every worker has served every read several times."""
    tokens = {user: sign_in(port, user)["access_token"] for user in READS}
    served = 0
    for _ in range(rounds):
        for user, paths in READS.items():
            for path in (*paths, "/api/openapi.json"):
                status, _ = request(port, "GET", path, None,
                                    {"Authorization": f"Bearer {tokens[user]}"})
                if status >= 500 or status == 0:
                    raise SystemExit(f"GET {path} as {user}: {status}")
                served += 1
    return served


def measure(url: str, photos: str, app: str, extra: tuple[str, ...], workers: int,
            rounds: int) -> tuple[list[dict[str, float]], int]:
    port = free_port()
    log = Path(photos).parent / f"gunicorn-{port}.log"
    server = start_gunicorn(url, photos, port, workers, 1, log, app=app, extra=extra)
    try:
        served = warm(port, rounds)
        time.sleep(1)  # let the last responses finish before reading the pages
        return [smaps(pid) for pid in worker_pids(server.pid)], served
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch}/bench.db"
        photos = f"{scratch}/photos"
        prepare_database(url, photos)
        print(f"memory per gunicorn worker after warm-up, {args.workers} workers, "
              f"{'PostgreSQL' if url.startswith('postgres') else 'SQLite'} (goal <= {GOAL_MB} MB)")
        print(f"{'':48s} {'RSS MB':>8s} {'PSS MB':>8s} {'USS MB':>8s} {'requests':>9s}")
        results = {}
        for label, app, extra in MODES:
            figures, served = measure(url, photos, app, extra, args.workers, args.rounds)
            worst = {key: max(f[key] for f in figures) for key in ("rss", "pss", "uss")}
            results[label] = worst
            print(f"{label:48s} {worst['rss']:8.1f} {worst['pss']:8.1f} {worst['uss']:8.1f} "
                  f"{served:9d}")
        now = results[MODES[1][0]]
        print(json.dumps({"bench": "memory", "goal_mb": GOAL_MB,
                          "now_pss_mb": round(now["pss"], 1), "now_rss_mb": round(now["rss"], 1),
                          "now_uss_mb": round(now["uss"], 1),
                          "meets_goal_pss": now["pss"] <= GOAL_MB}))


if __name__ == "__main__":
    main()
