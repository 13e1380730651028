"""Every kind of notice and the remaining contradictions of issue 19, as pure rules, each
test naming its source: the review-stage notice held (004) or dropped (002), emergency
paperwork within 5 working days (002) or a week (001), near-allowance cases in the spot
check (001 §一), the 5,000-yuan cap (001), and flags that drop a step only where a
regulation drops it (002), set by the county."""

from __future__ import annotations

from datetime import date

from backend import clock
from backend.jurisdictions import rules as settings_rules
from backend.workflow import notice_rules, rules
from backend.workflow.rules import Facts


def slugs(frm: str, to: str, facts: Facts, key: str = "dibao") -> list[str]:
    step = rules.transition_for(frm, to, key)
    assert step is not None
    return [slug for slug, _ in rules.guard_problems(step, facts)]


def test_the_review_stage_notice_is_posted_where_held_004_and_skipped_where_dropped_002():
    held = Facts(kind="dibao", visit_complete=True, is_drawn=True, is_spot_check_subject=True)
    dropped = Facts(kind="dibao", visit_complete=True, is_drawn=True,
                    is_spot_check_subject=True, is_review_stage_notice_held=False)
    assert slugs("reviewing", "public_notice", held) == []
    assert slugs("reviewing", "approved", held) == ["review-stage-notice-required"]
    assert slugs("reviewing", "public_notice", dropped) == ["review-stage-notice-not-held"]
    assert slugs("reviewing", "approved", dropped) == []
    assert rules.GUARD_SOURCES["review-stage-notice-required"] == "004"
    assert rules.GUARD_SOURCES["review-stage-notice-not-held"] == "002"


def test_a_special_case_posts_its_notice_even_where_002_drops_the_others_001():
    special = Facts(kind="special_case", visit_complete=True, is_review_stage_notice_held=False)
    assert slugs("reviewing", "public_notice", special, "special_case") == []
    assert "review-stage-notice-required" in slugs("reviewing", "approved", special,
                                                   "special_case")


def test_temporary_expenditure_needs_no_review_stage_notice_anywhere_001():
    facts = Facts(kind="temporary", visit_complete=True, is_drawn=True)
    assert slugs("reviewing", "approved", facts, "temporary.expenditure") == []


def test_emergency_paperwork_in_5_working_days_002_or_a_week_001():
    friday_before_national_day = date(2026, 9, 30)

    def add_wd(start: date, days: int) -> date:
        return clock.add_working_days(start, days)

    assert settings_rules.SETTINGS["emergency_paperwork_within"].default == "five_working_days"
    five = rules.emergency_signatures_due_on(date(2026, 12, 4), "five_working_days", add_wd)
    assert five == date(2026, 12, 11)  # 002: Friday + 5 working days
    week = rules.emergency_signatures_due_on(date(2026, 12, 4), "one_week", add_wd)
    assert week == date(2026, 12, 11)  # 001: 一周内, a calendar week
    # Over a holiday the two differ: the week runs on, the working days wait.
    assert (rules.emergency_signatures_due_on(friday_before_national_day, "one_week", add_wd)
            < rules.emergency_signatures_due_on(friday_before_national_day,
                                                "five_working_days", add_wd))
    assert settings_rules.check_setting("emergency_paperwork_within", "one_week") is None
    assert settings_rules.check_setting("emergency_paperwork_within", "a_month") is not None


def test_near_allowance_cases_are_in_the_spot_check_population_001():
    assert rules.is_spot_check_subject("low_income_margin")
    assert rules.SPOT_CHECK_RATIO_KEY["low_income_margin"] == "spot_check_ratio_dibao"
    candidates = [rules.DrawCandidate(f"c{i}", "low_income_margin", False) for i in range(10)]
    drawn = rules.draw_sample(candidates, "seed", {"spot_check_ratio_dibao": 0.3,
                                                   "spot_check_ratio_temporary": 0.2})
    assert len(drawn.sampled) == 3


def test_the_5000_yuan_cap_is_cited_from_001():
    assert rules.GUARD_SOURCES["amount-above-cap"] == "001"
    assert settings_rules.BOUNDS["emergency_aid_max_yuan"].maximum_source == "001"
    problem = settings_rules.check_setting("emergency_aid_max_yuan", 5000.01)
    assert problem is not None and problem.source == "001"


def test_a_flag_drops_a_step_only_where_a_regulation_drops_it_and_only_the_county_sets_it_002():
    flags = [key for key, s in settings_rules.SETTINGS.items() if s.kind is bool]
    # Every true/false setting names the regulation that lets it drop its step.
    assert sorted(flags) == sorted(settings_rules.RELAXATIONS)
    for key in flags:
        relaxed, source = settings_rules.RELAXATIONS[key]
        assert source == "002"
        assert settings_rules.check_setting(key, relaxed) is None
        assert settings_rules.county_only_keys([key], "township") == [key]
        assert settings_rules.county_only_keys([key], "county") == []


def test_a_flag_no_regulation_relaxes_cannot_be_turned_off(monkeypatch):
    monkeypatch.setitem(settings_rules.SETTINGS, "is_home_visit_held",
                        settings_rules.Setting(True, bool, "004: 100% home visits"))
    assert settings_rules.check_setting("is_home_visit_held", True) is None
    problem = settings_rules.check_setting("is_home_visit_held", False)
    assert problem is not None and "regulation" in problem.message


def test_the_objection_phone_is_an_office_line_and_the_address_plain_text_004():
    assert settings_rules.check_setting("objection_phone", "0870-5121234") is None
    assert settings_rules.check_setting("objection_phone", "13812345678") is not None
    assert settings_rules.check_setting("objection_phone", "call us") is not None
    assert settings_rules.check_setting("objection_address", "文屏镇人民政府") is None
    assert settings_rules.check_setting("objection_address", "x" * 101) is not None


def test_a_notice_says_where_to_object_only_with_both_phone_and_address_004():
    assert notice_rules.objection_contact("文屏镇人民政府", "", "文屏镇") is None
    assert notice_rules.objection_contact("文屏镇人民政府", "0870-5121234", "") is None
    contact = notice_rules.objection_contact("文屏镇人民政府", "0870-5121234", "文屏镇民政办")
    assert contact is not None and "0870-5121234" in contact and "文屏镇民政办" in contact


def test_the_desk_offers_the_move_the_notice_setting_allows_004_002():
    targets = ["approved", "public_notice", "refused"]
    assert notice_rules.targets_without_the_other_notice_path(
        targets, "reviewing", "dibao", True) == ["public_notice", "refused"]
    assert notice_rules.targets_without_the_other_notice_path(
        targets, "reviewing", "dibao", False) == ["approved", "refused"]
    assert notice_rules.targets_without_the_other_notice_path(
        targets, "reviewing", "special_case", False) == ["public_notice", "refused"]  # 001
    assert notice_rules.targets_without_the_other_notice_path(
        ["approved"], "reviewing", "temporary.expenditure", True) == ["approved"]
