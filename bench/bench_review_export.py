"""Review export figures: CSV and XLSX of N visits (default 10,000), time and peak memory.

    BENCH_DATABASE_URL=postgresql://… .venv/bin/python bench/bench_review_export.py [--visits 10000]

Without BENCH_DATABASE_URL it runs on a fresh SQLite file. The demo data is seeded and N visits
bulk-inserted (bench_review_queue.seed_visits); the county supervisor (masked IDs and
phones: the masker runs on every row) then downloads GET /api/reviews/export.csv and
/export.xlsx through the app's test client, reading the streamed body chunk by chunk. Each
export runs twice: once for the wall time, once under tracemalloc for the peak of Python
memory allocated while it runs (an export that held every visit would need a multiple of
the output's size; a streamed one stays near one batch of 500 visits).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def download(api, path: str) -> tuple[int, int]:
    """(bytes, rows) of a streamed download, read chunk by chunk."""
    response = api.get("county_supervisor", path, buffered=False)
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.response:
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        size += len(data)
        lines += data.count(b"\n")
    response.close()
    return size, lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=10_000)
    args = parser.parse_args()

    from bench_review_queue import seed_visits
    from scratch import fresh_app

    from tests.conftest import Api

    app, url, _workdir = fresh_app()
    is_postgres = url.startswith("postgres")
    seed_visits(app, args.visits)
    api = Api(app.test_client())
    api.tokens("county_supervisor")
    print(f"database: {'PostgreSQL' if is_postgres else 'SQLite'}; {args.visits} visits "
          f"(plus the demo's); county supervisor (masked)")
    for label, path in (("CSV, visits", "/api/reviews/export.csv"),
                        ("CSV, members", "/api/reviews/export.csv?sheet=members"),
                        ("XLSX, visits + members", "/api/reviews/export.xlsx")):
        started = time.perf_counter()
        size, lines = download(api, path)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        download(api, path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows = f", {lines - 1} rows" if path.find("xlsx") < 0 else ""
        print(f"{label}: {seconds:.2f} s, {size / 1e6:.1f} MB out{rows}; "
              f"peak Python memory during the export {peak / 1e6:.1f} MB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (seeding included): {rss:.0f} MB")


if __name__ == "__main__":
    main()
