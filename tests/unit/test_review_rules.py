"""The review rules (issue 10): the transition table, risk, field paths, the diff and the
evidence view's distances, times and timeline."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.forms.definition import load_definition
from backend.reviews import rules
from backend.reviews.rules import FieldChange

DEFINITION = load_definition("household_survey", 1)


def test_transition_table_is_exactly_the_documented_one():
    reviewer = {(frm, to) for (frm, to), who in rules.TRANSITIONS.items() if who == "reviewer"}
    system = {(frm, to) for (frm, to), who in rules.TRANSITIONS.items() if who == "system"}
    decisions = {"has_issues", "approved", "rejected", "revisit_requested"}
    assert reviewer == ({("received", to) for to in decisions}
                        | {("resubmitted", to) for to in decisions}
                        | {("has_issues", "revisit_requested")})
    assert system == {("has_issues", "resubmitted"), ("approved", "resubmitted"),
                      ("rejected", "resubmitted"), ("revisit_requested", "resubmitted"),
                      ("revisit_requested", "superseded")}
    assert {s for pair in rules.TRANSITIONS for s in pair} == set(rules.STATES)


@pytest.mark.parametrize(("state", "target", "actor", "allowed"), [
    ("received", "approved", "reviewer", True),
    ("received", "resubmitted", "reviewer", False),   # only a new revision resubmits
    ("received", "resubmitted", "system", False),     # nothing was sent back
    ("has_issues", "approved", "reviewer", False),    # not before the team's fix
    ("has_issues", "resubmitted", "system", True),
    ("approved", "rejected", "reviewer", False),      # a decision is not reversed by hand
    ("superseded", "approved", "reviewer", False),
    ("received", "approved", "system", False),        # the server never decides
])
def test_may_move(state, target, actor, allowed):
    assert rules.may_move(state, target, actor) is allowed


@pytest.mark.parametrize(("state", "after"), [
    ("received", "received"), ("resubmitted", "resubmitted"), ("has_issues", "resubmitted"),
    ("approved", "resubmitted"), ("rejected", "resubmitted"),
    ("revisit_requested", "resubmitted"), ("superseded", "superseded")])
def test_a_new_revision(state, after):
    assert rules.after_new_revision(state) == after


def test_targets_list_the_buttons():
    assert rules.targets("received", "reviewer") == [
        "has_issues", "approved", "rejected", "revisit_requested"]
    assert rules.targets("approved", "reviewer") == []


def test_one_alert_outweighs_many_warnings():
    assert rules.risk_score(["alert"]) > rules.risk_score(["warning"] * 40 + ["info"] * 50)
    assert rules.risk_score([]) == 0


@pytest.mark.parametrize(("path", "answers", "problem"), [
    ("housing_area", {}, None),
    ("members", {}, None),
    ("members[1].id_number", {"members": [{}, {}]}, None),
    ("members[2].id_number", {"members": [{}, {}]}, "no row 2"),
    ("members[0].shoe_size", {"members": [{}]}, "no field"),
    ("housing_area[0].x", {"housing_area": [{}]}, "no field"),
    ("house_size", {}, "no field"),
    ("members.id_number", {}, "not a field path"),
    ("__proto__", {}, "no field"),
])
def test_field_problem(path, answers, problem):
    found = rules.field_problem(path, DEFINITION, answers)
    assert (found is None) if problem is None else (problem in found)


def test_diff_field_by_field():
    before = {"housing_area": 45.5, "notes": None, "deposits": 1200,
              "members": [{"name": "王秀英", "age": 70}, {"name": "李建国", "age": 71}]}
    after = {"housing_area": 38.0, "notes": "补拍照片", "vehicle_count": None,
             "members": [{"name": "王秀英", "age": 70}]}
    assert rules.diff_answers(before, after) == [
        FieldChange("deposits", "removed", 1200, None),
        FieldChange("housing_area", "changed", 45.5, 38.0),
        FieldChange("members[1].age", "removed", 71, None),
        FieldChange("members[1].name", "removed", "李建国", None),
        FieldChange("notes", "added", None, "补拍照片"),
    ]
    assert rules.diff_answers(after, after) == []


def test_diff_orders_repeat_rows_numerically():
    rows = [{"age": i} for i in range(12)]
    changed = [dict(r, age=r["age"] + 1) for r in rows]
    fields = [c.field for c in rules.diff_answers({"members": rows}, {"members": changed})]
    assert fields == [f"members[{i}].age" for i in range(12)]


def test_page_cursor_round_trip_and_garbage():
    text = rules.encode_page_cursor(-10_100, "2026-11-26T02:00:00+00:00", "a" * 36)
    assert rules.decode_page_cursor(text) == (-10_100, "2026-11-26T02:00:00+00:00", "a" * 36)
    for bad in ("%%%", "W10", rules.encode_page_cursor(1, "x", "y")[:-2], "bnVsbA"):
        assert rules.decode_page_cursor(bad) is None


# --- evidence ------------------------------------------------------------------------------

def test_distance_is_geodesic_and_unknown_without_a_point():
    assert rules.distance_m((27.19, 103.55), (27.19, 103.55)) == 0.0
    # one hundredth of a degree of latitude is about 1.1 km
    assert 1100 < rules.distance_m((27.19, 103.55), (27.20, 103.55)) < 1110
    assert rules.distance_m(None, (27.19, 103.55)) is None


def test_exif_instant_uses_the_offset_else_shanghai():
    shanghai = ZoneInfo("Asia/Shanghai")
    with_offset = rules.exif_instant("2026-11-20T10:15:02", "+07:00", shanghai)
    assert with_offset == datetime(2026, 11, 20, 3, 15, 2, tzinfo=UTC)
    without = rules.exif_instant("2026-11-20T10:15:02", None, shanghai)
    assert without == datetime(2026, 11, 20, 2, 15, 2, tzinfo=UTC)
    assert rules.exif_instant("2026-11-20T10:15:02", "bogus", shanghai) == without
    assert rules.exif_instant("not a time", None, shanghai) is None
    assert rules.exif_instant(None, None, shanghai) is None


def test_minutes_outside_the_visit():
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    end = start + timedelta(minutes=30)
    assert rules.minutes_outside(start + timedelta(minutes=10), start, end) == 0.0
    assert rules.minutes_outside(start - timedelta(minutes=90), start, end) == 90.0
    assert rules.minutes_outside(end + timedelta(minutes=5), start, end) == 5.0
    assert rules.minutes_outside(None, start, end) is None


def test_visit_minutes_and_rings():
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert rules.visit_minutes(start, start + timedelta(minutes=25, seconds=30)) == 25.5
    assert rules.visit_minutes(start, start - timedelta(minutes=1)) is None
    assert rules.visit_minutes(None, start) is None
    assert rules.distance_rings(500) == [250.0, 500.0, 1000.0]


def test_timeline_orders_events_of_the_same_instant_by_their_life_order():
    at = datetime(2026, 12, 1, tzinfo=UTC)
    entries = [{"at": at, "event": "commented"}, {"at": at, "event": "review_moved"},
               {"at": at, "event": "received"}]
    assert [e["event"] for e in sorted(entries, key=rules.timeline_key)] == [
        "received", "review_moved", "commented"]
