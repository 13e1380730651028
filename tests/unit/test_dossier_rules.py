"""The watermark says verified facts only (issue 24; 全程留痕, 003): the camera clock in the
photo's bytes with the server's receipt beside it, the EXIF fix with its accuracy and distance
from the registered home, the case number, the assigned investigators, the short hash."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from backend.dossiers import layout, rules

SHA = "ab" * 32


def facts(**changes) -> rules.WatermarkFacts:
    base = rules.WatermarkFacts(
        sha256=SHA, received_at=datetime(2026, 11, 20, 4, 30, tzinfo=UTC),
        camera_taken_at=datetime(2026, 11, 20, 2, 15, 3, tzinfo=UTC), camera_taken_at_local=None,
        lat=26.0712, lon=103.6542, accuracy_m=12.0, distance_from_home_m=1234.4,
        case_no="文屏〔2026〕低保第 0012 号", investigators=("王芳", "李强"))
    return dataclasses.replace(base, **changes)


def test_lines_carry_every_verified_fact_in_beijing_time():
    lines = rules.watermark_lines(facts())
    assert lines[0] == ("拍摄：2026-11-20 10:15:03 北京时间（设备时钟） · "
                        "服务器收到 2026-11-20 12:30:00")
    assert lines[1] == "定位：26.07120, 103.65420 精度±12米 · 距登记住址1,234米"
    assert lines[2] == "案件编号：文屏〔2026〕低保第 0012 号"
    assert lines[3] == "调查人员：王芳、李强"
    assert lines[4] == f"照片指纹：SHA-256 {SHA[:12]}"


def test_missing_facts_are_said_not_filled_in():
    lines = rules.watermark_lines(facts(camera_taken_at=None, lat=None, lon=None,
                                        accuracy_m=None, distance_from_home_m=None,
                                        case_no=None, investigators=()))
    assert lines[0].startswith("拍摄：照片未含拍摄时间")
    assert lines[1] == "定位：照片未含定位"
    assert lines[2] == "案件编号：无" and lines[3] == "调查人员：未指派"


def test_a_camera_time_without_offset_is_printed_as_written():
    lines = rules.watermark_lines(facts(camera_taken_at=None,
                                        camera_taken_at_local="2026-11-20T10:15:02"))
    assert lines[0].startswith("拍摄：2026-11-20 10:15:02（设备时钟）")


def test_no_registered_home_is_said():
    assert rules.watermark_lines(facts(distance_from_home_m=None))[1].endswith("未登记住址")


def test_english_lines():
    lines = rules.watermark_lines(facts(), "en")
    assert lines[0].startswith("Taken: 2026-11-20 10:15:03 Beijing time (device clock)")
    assert "1,234 m from the registered home" in lines[1]
    assert lines[3] == "Investigators: 王芳, 李强"


def test_facts_have_no_field_for_what_the_phone_typed():
    """The type itself keeps the phone's claims out: no device time, place or free text."""
    names = {f.name for f in dataclasses.fields(rules.WatermarkFacts)}
    assert not names & {"device_lat", "device_lon", "device_captured_at", "captured_at",
                        "note", "answers", "field"}


def test_cache_key_follows_original_version_and_words():
    lines = rules.watermark_lines(facts())
    key = rules.watermark_cache_key(SHA, lines)
    assert key.startswith(f"{SHA}.wm{rules.WATERMARK_VERSION}-")
    assert key == rules.watermark_cache_key(SHA, list(lines))
    other = rules.watermark_lines(facts(case_no="文屏〔2026〕低保第 0013 号"))
    assert rules.watermark_cache_key(SHA, other) != key


def test_plot_points_are_metres_from_home():
    home = (26.0, 103.0)
    [start, photo] = rules.plot_points(home, [("start", 26.001, 103.0),
                                              ("photo", 26.0, 103.001), ("lost", None, 1.0)])
    assert start.north_m == pytest.approx(111.3, abs=0.5) and abs(start.east_m) < 1e-6
    assert photo.east_m == pytest.approx(100.05, abs=0.5)
    assert rules.plot_radius_m([start, photo], (250.0, 500.0)) == pytest.approx(575.0)
    assert rules.plot_points(None, []) == []


def test_progress_stays_below_100_until_stored():
    assert rules.progress_percent(0, 10) == 0
    assert rules.progress_percent(10, 10) == 99
    assert rules.progress_percent(3, 0) == 0


def test_dossier_footer_names_who_and_when_with_page_numbers():
    dossier = layout.Dossier("zh-CN", "档案", "X1", "户主", "审批人",
                             datetime(2026, 11, 20, 4, 30, tzinfo=UTC))
    assert dossier.footer(2, 9) == ("由 审批人 于 2026-11-20 12:30（北京时间）生成 · "
                                    "第 2 页 / 共 9 页")
    assert "审批人" in "".join(dossier.text_pieces())


def test_drawn_watermark_keeps_size_and_changes_only_the_foot():
    from backend.dossiers import watermarks

    picture = Image.new("RGB", (1200, 900), (200, 180, 160))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=95)
    marked = Image.open(io.BytesIO(watermarks.draw(buffer.getvalue(),
                                                   rules.watermark_lines(facts()))))
    assert marked.size == (1200, 900)
    top, foot = marked.getpixel((600, 50)), marked.getpixel((1190, 890))
    assert all(abs(a - b) < 8 for a, b in zip(top, (200, 180, 160), strict=True))
    assert sum(foot) < sum(top) / 2  # the dark band behind the words
