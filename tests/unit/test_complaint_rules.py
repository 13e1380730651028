"""Pure rules of complaints (举报, 004/002): the steps, the deadlines in working days (the
regulations say only 及时; Doorstep's defaults are ADR 0024's), what is overdue, who sees the
reporter (004), what a typed text may hold, and the settings' bounds."""

from __future__ import annotations

from datetime import date

import pytest

from backend import clock
from backend.complaints import rules
from backend.jurisdictions import rules as settings_rules

DEFAULTS = {"complaint_assign_working_days": 1, "complaint_verify_working_days": 10,
            "complaint_reply_working_days": 15}


def due(received_on: date, settings=DEFAULTS) -> rules.Deadlines:
    return rules.deadlines(received_on, settings, clock.add_working_days)


def test_the_defaults_are_the_adrs_and_the_settings_carry_them():
    defaults = settings_rules.effective_settings([])
    assert {key: defaults[key] for key in DEFAULTS} == DEFAULTS == {
        "complaint_assign_working_days": rules.DEFAULT_ASSIGN_WORKING_DAYS,
        "complaint_verify_working_days": rules.DEFAULT_VERIFY_WORKING_DAYS,
        "complaint_reply_working_days": rules.DEFAULT_REPLY_WORKING_DAYS}


def test_deadlines_count_chinese_working_days_across_national_day():
    # Received Wednesday 30 September 2026: 1-7 October are holidays (国庆), and Saturday
    # 10 October is a make-up workday (调休), per the State Council's 2026 schedule.
    received = date(2026, 9, 30)
    found = due(received)
    assert found.assign_due_on == date(2026, 10, 8)
    # 8, 9, 10 (Saturday, 调休), 12-16, 19, 20 October: the tenth is Tuesday the 20th.
    assert found.verify_due_on == date(2026, 10, 20)
    assert found.reply_due_on == date(2026, 10, 27)


def test_an_ordinary_week_counts_monday_to_friday():
    found = due(date(2026, 12, 4))  # a Friday
    assert found.assign_due_on == date(2026, 12, 7)


@pytest.mark.parametrize("status, today, late", [
    ("received", date(2026, 12, 2), []),
    ("received", date(2026, 12, 3), ["assign"]),
    ("assigned", date(2026, 12, 3), []),
    ("assigned", date(2026, 12, 16), ["verify"]),
    ("verifying", date(2026, 12, 23), ["verify", "reply"]),
    ("received", date(2026, 12, 23), ["assign", "verify", "reply"]),
    ("found", date(2026, 12, 16), []),
    ("found", date(2026, 12, 23), ["reply"]),
    ("answered", date(2027, 6, 1), []),
])
def test_a_step_is_overdue_the_day_after_its_due_date_until_done(status, today, late):
    deadlines = due(date(2026, 12, 1))  # Tuesday: assign 2nd, verify 15th, reply 22nd
    assert rules.overdue_steps(status, deadlines, today) == late


@pytest.mark.parametrize("step, status, expected", [
    ("assign", "received", "assigned"), ("assign", "verifying", "assigned"),
    ("assign", "found", None), ("verify", "received", None), ("verify", "assigned", "verifying"),
    ("verify", "verifying", "verifying"), ("find", "assigned", None),
    ("find", "verifying", "found"), ("reply", "verifying", None), ("reply", "found", "answered"),
    ("reply", "answered", None),
])
def test_the_steps_go_one_way(step, status, expected):
    assert rules.next_status(step, status) == expected


def test_only_the_handler_and_the_county_supervisor_see_the_reporter_004():
    assert rules.sees_reporter(is_handler=True, is_county_supervisor=False)
    assert rules.sees_reporter(is_handler=False, is_county_supervisor=True)
    assert not rules.sees_reporter(is_handler=False, is_county_supervisor=False)


def test_a_consequence_needs_a_substantiated_finding_and_a_linked_case():
    assert rules.consequence_problem(True, None, False) is None
    assert rules.consequence_problem(False, None, True) is None
    assert rules.consequence_problem(True, "periodic_review", True) is None
    assert "substantiated" in rules.consequence_problem(False, "stop", True)
    assert "link" in rules.consequence_problem(True, "periodic_review", False)


@pytest.mark.parametrize("text, ok", [
    ("举报某户瞒报收入\n第二行\t缩进", True),
    ("<script>alert(1)</script>", True),  # markup is text: stored, shown as text
    ("长" * rules.MAX_CONTENT, True),
    ("长" * (rules.MAX_CONTENT + 1), False),
    ("终端\x1b[31m转义", False),
    ("空字符\x00", False),
    ("私用区\ue000", False),
    ("\ud800", False),
])
def test_typed_text_is_bounded_and_plain(text, ok):
    assert (rules.text_problem(text, rules.MAX_CONTENT) is None) is ok


def test_the_deadline_settings_are_bounded_and_ordered():
    assert settings_rules.check_setting("complaint_reply_working_days", 15) is None
    assert settings_rules.check_setting("complaint_reply_working_days", 0) is not None
    assert settings_rules.check_setting("complaint_reply_working_days", 31) is not None
    backwards = settings_rules.effective_settings([{"complaint_verify_working_days": 10,
                                                    "complaint_reply_working_days": 5}])
    assert settings_rules.consistency_problems(backwards)[0].key == \
        "complaint_reply_working_days"
