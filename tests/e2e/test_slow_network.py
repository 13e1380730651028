"""A visit with three photos syncs on an emulated 2G link with a 4× slower CPU; the link is
cut mid-upload and restored: the upload resumes where it was, with a progress bar that moves
(issue 13, "Slow networks and old phones")."""

from __future__ import annotations

import time

import pytest

from tests.e2e.slow_link import (
    first_case,
    photo_sizes,
    queue_visit,
    realistic_photos,
    serve_photos,
    slow_down,
    take_photos,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def camera_files():
    return realistic_photos(3)


def test_three_photo_visit_syncs_on_2g_through_a_cut(page, context, sign_in, camera_files):
    sign_in(page, "wenping_fw1")
    page.wait_for_selector("#case-list .case-row")
    serve_photos(context, camera_files)
    photos = take_photos(page, 3)
    hashes = [p["sha256"] for p in photos]
    sizes = photo_sizes(page, hashes)
    assert all(size < 400_000 for size in sizes), sizes  # downscaled on the phone
    assert all(p["lat"] and p["captured_at"].startswith("2026-11-20") for p in photos)  # EXIF kept

    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url.rsplit("/", 1)[1])
            if r.method == "PUT" and "/api/photos/" in r.url else None)
    page.goto("/#/outbox")
    page.wait_for_selector("#main[data-view=outbox][data-ready=true]")
    # Watch the bar the worker sees: every value it shows, in order.
    page.evaluate("""() => {
        window.__bar = [];
        const bar = document.querySelector('#upload-progress');
        new MutationObserver(() => window.__bar.push(Number(bar.getAttribute('aria-valuenow'))))
          .observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
    }""")
    cdp = slow_down(page, context)
    started = time.monotonic()
    record = queue_visit(page, first_case(page), photos)

    # Mid-upload of the second photo: cut the link.
    page.wait_for_function("() => window.__bar.some((v) => v > 40 && v < 60)", timeout=90_000)
    cdp.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                  "downloadThroughput": -1, "uploadThroughput": -1})
    context.set_offline(True)
    page.wait_for_selector("#outbox-list li[data-status=waiting]")
    page.wait_for_function("() => document.querySelector('#upload-progress').hidden")
    before_cut = page.evaluate("() => window.__bar.length")
    assert page.locator("#upload-progress").get_attribute("role") == "progressbar"

    # The signal comes back: the app drains on `online` by itself, still on 2G.
    from tests.e2e.slow_link import TWO_G
    cdp.send("Network.emulateNetworkConditions", TWO_G)
    context.set_offline(False)
    page.wait_for_selector(f"#outbox-list li[data-id='{record['id']}'][data-status=accepted]",
                           timeout=100_000)
    elapsed = time.monotonic() - started
    bar = page.evaluate("() => window.__bar")
    after = bar[before_cut:]
    # The bar moved within a photo (bytes, not only whole photos) and resumed past the cut.
    assert any(0 < v % 33.3 < 30 for v in bar), bar
    assert after and max(after) == 100 and min(after) >= 33, after
    # Resumed, not restarted: the first photo went once; only the cut one went again.
    assert puts.count(hashes[0]) == 1, puts
    assert puts.count(hashes[2]) == 1, puts
    assert elapsed < 110, elapsed
