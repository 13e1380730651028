"""Issue 24 end to end in real Chromium on a desk viewport: a reviewer opens a visit photo
watermarked with its verified facts; an approver builds the household's file (一户一档) as a
job, watches it finish and downloads the PDF, whose text (pypdf) and page count are checked.
Every screen passes axe-core with no violations.

Seeded through the API (the phone's side has its own e2e tests): fw1 uploads a photo with
EXIF time and GPS and pushes a visit of a Wenping case naming it.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pypdf
import pytest

from tests.conftest import Api
from tests.e2e.accessibility import assert_accessible, assert_no_slugs
from tests.visit_factory import submission

pytestmark = pytest.mark.e2e

PHOTO = Path(__file__).resolve().parents[1] / "data" / "photos" / "visit_gps.jpg"


@pytest.fixture(scope="module")
def visit(live_server):
    api = Api(live_server.app.test_client())
    raw = PHOTO.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    assert api.put("wenping_fw1", f"/api/photos/{sha}", data=raw,
                   content_type="image/jpeg").status_code in (200, 201)
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    case = next(c for c in items["items"] if c["household"]["home_lat"] is not None
                and c["kind"] != "extreme_poverty")
    record = submission(case, photos=[{"sha256": sha, "field": "house_photo"}])
    pushed = api.post("wenping_fw1", "/api/sync/push",
                      json={"device_id": "device-aaaaaaaa", "records": [record]})
    assert pushed.get_json()["results"][0]["status"] == "accepted", pushed.get_json()
    return {"case": case, "record": record, "sha": sha}


def test_reviewer_opens_a_watermarked_photo(desk, visit):
    page = desk("wenping_reviewer")
    page.goto(f"/#/review/{visit['record']['id']}")
    page.wait_for_selector("#main[data-view=review][data-ready=true]")
    thumb = page.locator(f"#photo-list button.photo-thumb[data-sha='{visit['sha']}']")
    thumb.locator("img").wait_for()
    thumb.click()
    page.wait_for_selector("#photo-dialog[data-version=plain][data-loaded=true]")
    plain_width = page.evaluate("() => document.querySelector('#photo-dialog img').naturalWidth")
    page.check("#photo-watermarked")
    page.wait_for_selector("#photo-dialog[data-version=watermarked][data-loaded=true]")
    marked = page.evaluate("""() => {
        const img = document.querySelector('#photo-dialog img');
        return {width: img.naturalWidth, height: img.naturalHeight, src: img.src};
    }""")
    assert marked["width"] > 0 and marked["height"] > 0 and marked["src"].startswith("blob:")
    assert plain_width > 0
    assert page.is_checked("#photo-watermarked") and not page.is_checked("#photo-plain")
    assert_accessible(page, "watermarked photo")
    assert_no_slugs(page, "watermarked photo", "#photo-dialog")
    page.click("#photo-close")


def test_approver_builds_and_downloads_the_household_file(desk, visit):
    page = desk("wenping_approver")
    page.goto(f"/#/work-case/{visit['case']['id']}")
    page.wait_for_selector("#main[data-ready=true] #dossier[data-dossier-state=none]")
    assert_accessible(page, "case with its household file panel")
    page.click("#dossier-build")
    page.wait_for_selector("#dossier[data-dossier-state=done] #dossier-download")
    assert page.evaluate("() => document.querySelector('#dossier-progress').value") == 100
    assert_accessible(page, "household file built")
    assert_no_slugs(page, "household file built", "#dossier")
    with page.expect_download() as download:
        page.click("#dossier-download")
    pdf = Path(download.value.path()).read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    pages = len(reader.pages)
    button = page.locator("#dossier-download").inner_text()
    assert f"{pages} 页" in button
    assert pages >= 8
    for words in ("一户一档", "目录", "入户调查", "现场照片", "审批决定", "办理留痕",
                  visit["case"]["case_no"], f"第 1 页 / 共 {pages} 页", "文屏镇审批人"):
        assert words in text, words
