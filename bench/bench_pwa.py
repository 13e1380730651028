"""PWA figures: gzipped size of the precached app shell, and time until the assignment list
is usable offline on a 4× CPU-throttled Chromium (a low-end phone).

    .venv/bin/python bench/bench_pwa.py

Targets: shell ≤ 100 KB gzipped (tests/unit/js/shell.test.mjs enforces it); offline list
usable ≤ 1.5 s.
"""

from __future__ import annotations

import gzip
import logging
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PASSWORD = "demo-pass-2026"


def shell_assets() -> list[str]:
    sw = (ROOT / "pwa/static/sw.js").read_text()
    block = re.search(r"const SHELL_ASSETS = \[(.*?)\];", sw, re.S).group(1)
    return re.findall(r"'([^']+)'", block)


def start_server(db_file: Path):
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from backend import create_app
    from backend.demo import seed
    from backend.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}"})
    with app.app_context():
        upgrade()
        seed(PASSWORD)
        db.session.commit()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{port}"


def shell_gzip_bytes(app) -> tuple[int, int]:
    client = app.test_client()
    raw = gz = 0
    for url in shell_assets():
        body = client.get(url).data
        raw += len(body)
        gz += len(gzip.compress(body, 9))
    return raw, gz


def offline_list_seconds(base: str, runs: int = 3) -> float:
    from playwright.sync_api import sync_playwright

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
        page.wait_for_selector("#case-list .case-row")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
        context.set_offline(True)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            page.reload()
            page.wait_for_selector("#main[data-view=cases][data-ready=true] #case-list .case-row")
            timings.append(time.perf_counter() - start)
        browser.close()
    return sorted(timings)[len(timings) // 2]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        app, server, base = start_server(Path(tmp) / "bench.sqlite3")
        try:
            raw, gz = shell_gzip_bytes(app)
            print(f"app shell: {len(shell_assets())} assets, {raw / 1024:.1f} KB raw, "
                  f"{gz / 1024:.1f} KB gzipped (target ≤ 100 KB)")
            if Path(CHROMIUM).exists():
                seconds = offline_list_seconds(base)
                print(f"offline assignment list usable (CPU ×4, median of 3): {seconds:.2f} s "
                      f"(target ≤ 1.5 s)")
            else:
                print("offline timing skipped: no Chromium at /usr/bin/chromium")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
