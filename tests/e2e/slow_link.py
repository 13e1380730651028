"""A village link for the PWA: emulated 2G (DevTools), a 4× slower CPU, realistic photos.

Shared by tests/e2e/test_slow_network.py and bench/bench_2g.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.visit_factory import submission

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "photos" / "make_fixtures.py"
# DevTools takes bytes per second: 250 kbit/s down, 50 kbit/s up, 300 ms round trips.
TWO_G = {"offline": False, "latency": 300, "downloadThroughput": 250_000 / 8,
         "uploadThroughput": 50_000 / 8}
CPU_SLOWDOWN = 4


def realistic_photos(count: int = 3, size=(4000, 3000), texture: float = 0.04) -> list[bytes]:
    """12-megapixel camera JPEGs with EXIF GPS and time, as a phone takes them.

    `texture` is the sensor grain: 0.04 gives ~1.9 MB files (a cheap phone's camera, the
    e2e test), 0.18 ~5 MB (a good camera, the bench: ~250-300 KB each once downscaled).
    """
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES)
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    return [fixtures.jpeg(fixtures.scene(size, seed=40 + i, texture=texture), quality=90,
                          exif=fixtures.visit_exif(orientation=1)) for i in range(count)]


def slow_down(page, context, offline: bool = False):
    """Put `page` on the 2G link (or cut it) with the CPU slowed; returns the CDP session."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {**TWO_G, "offline": offline})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return cdp


def serve_photos(context, photos: list[bytes]):
    """The camera files, fetched by the page from a test-only URL (never over the 2G link)."""
    def fulfil(route):
        index = int(route.request.url.rsplit("/", 1)[1])
        route.fulfill(status=200, body=photos[index], headers={"Content-Type": "image/jpeg"})
    context.route("**/__camera__/*", fulfil)


def take_photos(page, count: int) -> list[dict]:
    """Run each camera file through the app's own photo step (downscale, EXIF, thumbnail)."""
    return page.evaluate("""async (count) => {
        const { addPhoto } = await import('/static/js/photos.js');
        const metas = [];
        for (let i = 0; i < count; i += 1) {
          const blob = await (await fetch(`/__camera__/${i}`)).blob();
          const file = new File([blob], `IMG_${i}.jpg`,
            { type: 'image/jpeg', lastModified: Date.now() });
          metas.push(await addPhoto(file));
        }
        return metas;
    }""", count)


def photo_sizes(page, hashes: list[str]) -> list[int]:
    return page.evaluate("""async (hashes) => {
        const store = await import('/static/js/store.js');
        return Promise.all(hashes.map(async (sha) => (await store.get('photos', sha)).blob.size));
    }""", hashes)


def queue_visit(page, case: dict, photos: list[dict]) -> dict:
    """A visit with `photos` queued in the outbox the way the survey queues it."""
    record = submission(case, photos=[{k: p[k] for k in ("sha256", "captured_at", "lat", "lon",
                                                           "accuracy_m", "field")} for p in photos])
    page.evaluate("""async (record) => {
        const outbox = await import('/static/js/outbox.js');
        await outbox.enqueue(record);
    }""", record)
    return record


def first_case(page) -> dict:
    return page.evaluate("""async () => {
        const { all } = await import('/static/js/store.js');
        return (await all('cases')).filter((c) => c.household && c.kind === 'dibao')
          .sort((a, b) => a.id.localeCompare(b.id))[0];
    }""")
