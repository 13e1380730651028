"""Household file figures (issue 24): a dossier of 10 visits with 60 photos, time to build
(goal ≤ 10 s) and size (goal ≤ 8 MB).

    BENCH_DATABASE_URL=postgresql://… .venv/bin/python bench/bench_dossier.py [--visits 10]
        [--photos-per-visit 6] [--keep path.pdf]

Without BENCH_DATABASE_URL it runs on a fresh SQLite file. A field worker uploads distinct
2,000 × 1,500 JPEG photos with EXIF GPS and time, then pushes the visits of one case; the
approver asks for the household's file. The job kernel runs the build in the request here
(immediate mode), so the request's wall time is the build's: gathering (masked reads),
watermarking every photo (Pillow) and drawing the PDF (ReportLab, table of contents, embedded
CJK subset). Built twice: cold (no watermarked copy cached, the font's glyphs not yet
converted in this process) and warm (copies cached).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

GOAL_SECONDS = 10.0
GOAL_BYTES = 8_000_000


def photo_bytes(seed: int) -> bytes:
    from tests.data.photos.make_fixtures import scene, visit_exif

    buffer = io.BytesIO()
    scene((2000, 1500), seed).save(buffer, "JPEG", quality=85, exif=visit_exif(orientation=1))
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=10)
    parser.add_argument("--photos-per-visit", type=int, default=6)
    parser.add_argument("--keep", help="write the PDF here")
    args = parser.parse_args()

    from pypdf import PdfReader
    from scratch import database_name, fresh_app

    from tests.conftest import Api
    from tests.visit_factory import submission

    app, url, _workdir = fresh_app("doorstep-bench-dossier-", {"HUEY_IMMEDIATE": True})
    api = Api(app.test_client())
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    case = next(c for c in items["items"] if c["household"]["home_lat"] is not None
                and c["kind"] != "extreme_poverty")
    started = datetime.now(UTC) - timedelta(days=args.visits + 1)
    records = []
    seed = 1000
    for number in range(args.visits):
        refs = []
        for _ in range(args.photos_per_visit):
            raw = photo_bytes(seed)
            seed += 1
            sha = hashlib.sha256(raw).hexdigest()
            response = api.put("wenping_fw1", f"/api/photos/{sha}", data=raw,
                               content_type="image/jpeg")
            assert response.status_code in (200, 201), response.get_json()
            refs.append({"sha256": sha, "field": "house_photo"})
        records.append(submission(case, start=started + timedelta(days=number), photos=refs,
                                  submission_id=str(uuid.uuid4())))
    response = api.post("wenping_fw1", "/api/sync/push",
                        json={"device_id": "device-aaaaaaaa", "records": records})
    assert all(r["status"] == "accepted" for r in response.get_json()["results"])
    household = case["household"]["id"]
    print(f"database: {database_name(url)}; one household, {args.visits} visits, "
          f"{args.visits * args.photos_per_visit} photos of 2000×1500; approver (full IDs)")
    api.tokens("wenping_approver")
    for label in ("cold", "warm"):
        began = time.perf_counter()
        job = api.post("wenping_approver", f"/api/households/{household}/dossiers",
                       json={"lang": "zh-CN"}).get_json()
        seconds = time.perf_counter() - began
        status = api.get("wenping_approver", f"/api/dossiers/{job['id']}").get_json()
        assert status["state"] == "done", status
        pdf = api.get("wenping_approver", status["file_url"]).data
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"build ({label}): {seconds:.2f} s (goal ≤ {GOAL_SECONDS:.0f} s) "
              f"{'OK' if seconds <= GOAL_SECONDS else 'OVER'}; size {len(pdf) / 1e6:.2f} MB "
              f"(goal ≤ {GOAL_BYTES / 1e6:.0f} MB) "
              f"{'OK' if len(pdf) <= GOAL_BYTES else 'OVER'}; {pages} pages")
        if args.keep:
            Path(args.keep).write_bytes(pdf)


if __name__ == "__main__":
    main()
