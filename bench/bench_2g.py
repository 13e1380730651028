"""One home visit with three photos over an emulated 2G link on a 4× slower CPU.

    .venv/bin/python bench/bench_2g.py [texture]   (camera grain; 0.18 by default)

Chromium's DevTools emulate the village link (250 kbit/s down, 50 kbit/s up, 300 ms
latency) and slow the CPU 4×. The phone takes three 12-megapixel camera photos (through the
app's own photo step: EXIF read, downscaled to ≤ 1600 px, JPEG q 0.8), queues the visit and
drains the outbox. Printed: the bytes the server received (request bodies) and sent
(response bodies) for that visit, the requests, and the seconds from queueing to "accepted".

Goal (issue 13): ≤ 1.2 MB up for a visit with three photos, synced in under a minute.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_pwa import ARGS, CHROMIUM, PASSWORD, start_server  # noqa: E402

from tests.e2e.slow_link import (  # noqa: E402
    first_case,
    photo_sizes,
    queue_visit,
    realistic_photos,
    serve_photos,
    slow_down,
    take_photos,
)


class Meter:
    """WSGI middleware counting request and response body bytes while `on`."""

    def __init__(self, app):
        self.app, self.on, self.up, self.down, self.requests = app, False, 0, 0, 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if not self.on:
            return self.app(environ, start_response)
        with self.lock:
            self.up += int(environ.get("CONTENT_LENGTH") or 0)
            self.requests += 1
        body = self.app(environ, start_response)
        chunks = list(body)
        if hasattr(body, "close"):
            body.close()
        with self.lock:
            self.down += sum(len(c) for c in chunks)
        return chunks


def main() -> None:
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    camera = realistic_photos(3, texture=float(sys.argv[1]) if len(sys.argv) > 1 else 0.18)
    with tempfile.TemporaryDirectory() as tmp:
        app, server, base = start_server(Path(tmp) / "bench-2g.sqlite3")
        meter = Meter(app.wsgi_app)
        app.wsgi_app = meter
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base)
            page = context.new_page()
            page.goto("/")
            page.fill("#username", "wenping_fw1")
            page.fill("#password", PASSWORD)
            page.click("form button[type=submit]")
            page.fill("#pin-1", "246810")
            page.fill("#pin-2", "246810")
            page.click("#pin-save")
            page.wait_for_selector("#case-list .case-row", timeout=30_000)
            serve_photos(context, camera)
            photos = take_photos(page, 3)
            sizes = photo_sizes(page, [p["sha256"] for p in photos])
            page.goto("/#/outbox")
            page.wait_for_selector("#main[data-view=outbox][data-ready=true]")
            case = first_case(page)
            slow_down(page, context)
            meter.on = True
            started = time.monotonic()
            record = queue_visit(page, case, photos)
            accepted = f"#outbox-list li[data-id='{record['id']}'][data-status=accepted]"
            page.wait_for_selector(accepted, timeout=600_000)
            seconds = time.monotonic() - started
            meter.on = False
            browser.close()
        server.shutdown()
    print(f"camera photos: {', '.join(f'{len(b) / 1e6:.1f} MB' for b in camera)} (12 MP JPEG q90)")
    print(f"uploaded photos: {', '.join(f'{s / 1e3:.0f} KB' for s in sizes)} (≤ 1600 px, q 0.8)")
    print(f"2G visit sync (250/50 kbit/s, 300 ms, CPU ×4): up {meter.up / 1e6:.2f} MB, "
          f"down {meter.down / 1e3:.1f} KB, {meter.requests} requests, {seconds:.1f} s "
          f"(goal ≤ 1.2 MB up, < 60 s)")


if __name__ == "__main__":
    main()
