"""The panel as held (004: drawn from the pool, members sign; 001: a special case's panel
within 5 working days of intake, never before): pure rules, no app."""

from __future__ import annotations

from datetime import date

from backend.workflow import panel_rules as p
from backend.workflow import rules

DRAWN = [p.DrawnMember("a", "王福", "group_leader"), p.DrawnMember("b", "李明", "township_cadre"),
         p.DrawnMember("c", "赵强", "township_cadre"), p.DrawnMember("d", "张三", "villager")]
SIGNED = {"signature_kind": "scan", "signature_sha256": "f" * 64}


def everyone(**changes: p.Attendance) -> dict[str, p.Attendance]:
    return {**{m.id: p.Attendance("present", **SIGNED) for m in DRAWN}, **changes}


def test_the_pool_digest_is_order_free_and_names_roles_and_names_004():
    digest = p.pool_digest(DRAWN)
    assert digest == p.pool_digest(list(reversed(DRAWN)))
    renamed = [*DRAWN[:3], p.DrawnMember("d", "张四", "villager")]
    assert p.pool_digest(renamed) != digest


def test_every_drawn_member_accounted_for_with_reasons_and_signatures_004():
    assert p.attendance_problems(DRAWN, everyone()) == []
    found = p.attendance_problems(DRAWN, {
        "b": p.Attendance("absent"), "c": p.Attendance("substitute", reason="病", **SIGNED),
        "d": p.Attendance("present"), "zz": p.Attendance("present", **SIGNED)})
    text = "\n".join(found)
    assert "zz" in text and "王福" in text  # not drawn; not accounted for
    assert "李明: 缺席或替换需说明原因" in text
    assert "赵强: 需填写替换人员姓名" in text
    assert "张三: 缺少签名" in text
    # An absent member signs nothing.
    assert p.attendance_problems(DRAWN, everyone(d=p.Attendance("absent", reason="外出"))) == []


def test_counts_are_derived_and_role_seats_need_the_person_004():
    held = date(2026, 12, 1)
    full = p.panel_counts(DRAWN, everyone(), held)
    assert (full.members_present, full.cadres_present, full.is_group_leader_present) == (4, 2, True)
    replaced = p.panel_counts(DRAWN, everyone(
        b=p.Attendance("substitute", reason="病", substitute_name="钱五", **SIGNED),
        a=p.Attendance("absent", reason="外出")), held)
    assert replaced.members_present == 3  # the substitute sits, the absent leader does not
    assert replaced.cadres_present == 1 and replaced.is_group_leader_present is False


def test_only_the_applicants_group_leader_fills_the_leader_seat_004():
    """A second group leader drawn into a villager's seat (the demo pool has two) does not
    stand in for the applicant's own leader, whom the draw seats first."""
    other = [*DRAWN, p.DrawnMember("e", "陈海", "group_leader")]
    counts = p.panel_counts(other, {**{m.id: p.Attendance("present", **SIGNED) for m in other},
                                    "a": p.Attendance("absent", reason="外出")}, date(2026, 12, 1))
    assert counts.is_group_leader_present is False


def test_held_on_after_intake_and_draw_never_in_the_future_001_004():
    applied, drawn, today = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 4)
    assert rules.held_on_problem(date(2026, 12, 3), applied, drawn, today) is None
    assert "受理" in rules.held_on_problem(date(2026, 11, 30), applied, drawn, today)
    assert "抽取" in rules.held_on_problem(date(2026, 12, 1), applied, drawn, today)
    assert "今天" in rules.held_on_problem(date(2026, 12, 5), applied, drawn, today)
