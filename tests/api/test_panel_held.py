"""The panel as it was held (issue 19; 004: ≥ 9 drawn from a pool of ≥ 30, 2 township cadres,
the group leader, members sign; 001: a special case's panel within 5 working days of
intake, a discipline officer present): the record only on its step, only for a drawn panel,
attendance per drawn member with signatures, counts derived, the pool frozen by the draw,
a redraw with a reason, and the date within its window."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend import clock
from backend.audit.models import AuditEvent
from tests.api.test_workflow import (
    SIGNED,
    complete_visit,
    economic_check,
    held,
    investigating,
    move,
    ok,
    pool_members,
    problem,
    wf,
)

INCOME = {"per_capita_income_yuan": "300"}


def at_panel(api, db_session, **body):
    case = investigating(api, db_session, **body)
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(move(api, case["id"], "panel_review", "wenping_reviewer"))
    return case


def draw(api, case_id, **body):
    version = wf(api, case_id)["version"]
    return api.post("wenping_reviewer", f"/api/cases/{case_id}/panel-draw", json=body,
                    headers={"If-Match": f'"{version}"'})


def test_a_panel_record_outside_its_step_is_409_004(api, db_session):
    """Today's walkaround: investigating → reviewing with a panel of 1 member, 0 cadres and
    no group leader passed."""
    case = investigating(api, db_session)
    complete_visit(api, case)
    economic_check(api, case["id"])
    tiny = {"held_on": clock.today_in_china().isoformat(), "attendance": {
        "x": {"status": "present", "signature": SIGNED}}}
    body = problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=tiny,
                        proposal=INCOME), 409, "panel-outside-step")
    assert body["from"] == "investigating"
    assert wf(api, case["id"])["panel"]["record"] is None


def test_typed_counts_are_refused_the_counts_are_derived_004(api, db_session):
    case = at_panel(api, db_session)
    typed = {"held_on": clock.today_in_china().isoformat(), "members_present": 9,
             "cadres_present": 2, "is_group_leader_present": True, "attendance": {}}
    problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=typed,
                 proposal=INCOME), 422, "validation-failed")


def test_a_panel_without_a_draw_is_422_004(api, db_session):
    case = at_panel(api, db_session)
    record = {"held_on": clock.today_in_china().isoformat(), "attendance": {}}
    body = problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=record,
                        proposal=INCOME), 422, "panel-not-drawn")
    assert body["sources"]["panel-not-drawn"] == "004"


def test_attendance_per_drawn_member_with_reasons_and_signatures_004(api, db_session):
    case = at_panel(api, db_session)
    record = held(api, case["id"])
    members = list(record["attendance"])
    # A member left out, an absence without a reason, a substitute without a name, a
    # present member without a signature, and someone who was not drawn.
    broken = {**record, "attendance": {
        **{m: record["attendance"][m] for m in members[1:]},
        members[1]: {"status": "absent"},
        members[2]: {"status": "substitute", "reason": "生病", "signature": SIGNED},
        members[3]: {"status": "present"},
        "not-drawn": {"status": "present", "signature": SIGNED}}}
    body = problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=broken,
                        proposal=INCOME), 422, "panel-attendance-invalid")
    detail = body["detail"]
    for words in ("未登记出席情况", "缺席或替换需说明原因", "替换人员姓名", "缺少签名",
                  "不是抽取的评议人员"):
        assert words in detail
    # A substitute with a name, a reason and a signature takes the seat of a villager.
    drawn = ok(api.get("wenping_reviewer", f"/api/cases/{case['id']}/panel-draw"))["members"]
    villager = next(m for m in drawn if m["role"] == "villager")
    record["attendance"][villager["id"]] = {
        "status": "substitute", "reason": "外出", "substitute_name": "李四",
        "signature": {"kind": "scan", "sha256": "d" * 64}}
    view = ok(move(api, case["id"], "reviewing", "wenping_reviewer", panel=record,
                   proposal=INCOME))
    stored = view["panel"]["record"]
    # 9 sat; the cadres' seats count the cadres drawn (2 or more), all present in person.
    assert stored["members_present"] == 9
    assert stored["cadres_present"] == sum(m["role"] == "township_cadre" for m in drawn) >= 2
    assert stored["is_group_leader_present"] is True
    assert stored["attendance"][villager["id"]]["substitute_name"] == "李四"


def test_the_draw_freezes_the_pool_and_a_redraw_needs_a_reason_004(api, db_session):
    case = at_panel(api, db_session)
    village = case["jurisdiction_code"]
    ok(api.put("wenping_intake", f"/api/villages/{village}/panel-pool",
               json={"members": pool_members()}))
    first = ok(draw(api, case["id"]), 201)
    assert first["pool_sha256"] and first["pool_matches"] is True
    # Replacing the pool never makes the stored draw unverifiable.
    ok(api.put("wenping_intake", f"/api/villages/{village}/panel-pool",
               json={"members": pool_members(villagers=40)}))
    again = ok(api.get("county_supervisor", f"/api/cases/{case['id']}/panel-draw"))
    assert again["redraw_matches"] is True and again["pool_matches"] is True
    assert again["members"] == first["members"]
    problem(draw(api, case["id"]), 422, "panel-redraw-reason-missing")
    second = ok(draw(api, case["id"], reason="组长回避, 重新抽取"), 201)
    assert second["seed"] != first["seed"]
    row = db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == case["id"], AuditEvent.action == "case.panel_redrawn")).one()
    assert row.before["seed"] == first["seed"] and row.after["reason"] == "组长回避, 重新抽取"


def test_held_on_lies_within_its_window_001_004(api, db_session):
    case = at_panel(api, db_session)
    today = clock.today_in_china()
    for day in (today + timedelta(days=1), today - timedelta(days=30)):
        record = held(api, case["id"], held_on=day.isoformat())
        problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=record,
                     proposal=INCOME), 422, "panel-held-on-outside-window")


def test_a_special_case_panel_within_5_working_days_of_intake_001(api, db_session):
    case = at_panel(api, db_session, kind="special_case")
    clock.freeze(clock.now() + timedelta(days=14))
    try:
        record = held(api, case["id"])
        body = problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=record,
                            proposal=INCOME), 422, "panel-too-late")
        assert body["sources"]["panel-too-late"] == "001"
    finally:
        clock.freeze(None)


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x00\xff" * 4 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 2, 8, 4, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_a_signature_on_screen_keeps_its_image_and_its_digest_004(api, db_session):
    import base64
    import hashlib

    case = at_panel(api, db_session)
    record = held(api, case["id"])
    first = next(iter(record["attendance"]))
    png = _png()
    record["attendance"][first] = {"status": "present", "signature": {
        "kind": "on_screen", "image_png_base64": base64.b64encode(png).decode()}}
    for bad in ({"kind": "on_screen"}, {"kind": "on_screen", "image_png_base64": "bm90IGEgcG5n"},
                {"kind": "on_screen", "image_png_base64": base64.b64encode(png).decode(),
                 "sha256": "0" * 64}, {"kind": "scan"}):
        broken = {**record, "attendance": {**record["attendance"],
                                           first: {"status": "present", "signature": bad}}}
        problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=broken,
                     proposal=INCOME), 422, "validation-failed")
    view = ok(move(api, case["id"], "reviewing", "wenping_reviewer", panel=record,
                   proposal=INCOME))
    kept = view["panel"]["record"]["attendance"][first]["signature"]
    assert kept["sha256"] == hashlib.sha256(png).hexdigest()
    assert base64.b64decode(kept["image_png_base64"]) == png
