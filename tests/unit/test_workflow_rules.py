"""The case workflow's pure rules (issue 11), each number tested on both sides of it, each
test naming its source (001, 002, 004, 57号, 43号)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from backend import clock
from backend.jurisdictions.rules import SETTINGS, check_setting
from backend.workflow import rereview_rules, rules
from backend.workflow.rules import Facts, PanelRecord

DEFAULTS = {key: s.default for key, s in SETTINGS.items()}


def add_wd(start: date, days: int) -> date:
    return clock.add_working_days(start, days)


def slugs(frm: str, to: str, facts: Facts, key: str = "dibao") -> list[str]:
    step = rules.transition_for(frm, to, key)
    assert step is not None
    return [slug for slug, _ in rules.guard_problems(step, facts)]


# --- the table ------------------------------------------------------------------------------


def test_every_kind_reaches_a_decision_and_the_table_names_only_known_guards():
    for key in rules.ALL_KINDS:
        assert any(to == rules.APPROVED and key in t.kinds
                   for (_, to), t in rules.TRANSITIONS.items()), key
    for step in rules.TRANSITIONS.values():
        for guard in step.guards:
            assert guard in rules.GUARD_SOURCES


def test_emergency_aid_is_decided_straight_from_intake_and_nothing_else_is_002():
    assert rules.transition_for("accepted", "approved", "temporary.emergency") is not None
    assert rules.transition_for("accepted", "approved", "dibao") is None
    assert rules.transition_for("accepted", "investigating", "temporary.emergency") is None


def test_temporary_expenditure_skips_the_public_notice_001():
    assert rules.transition_for("reviewing", "approved", "temporary.expenditure") is not None
    assert rules.transition_for("reviewing", "public_notice", "temporary.expenditure") is None
    # A dibao case skips it only where the jurisdiction drops the review-stage notice (002).
    assert slugs("reviewing", "approved", Facts(kind="dibao", visit_complete=True)) == [
        "review-stage-notice-required"]


def test_allowed_targets_follow_roles():
    assert rules.allowed_targets("public_notice", "dibao", {"approver"}) == [
        "approved", "investigating", "refused"]
    assert "approved" not in rules.allowed_targets("public_notice", "dibao", {"reviewer"})


def test_stopping_payment_only_from_approved_monthly_aid_004():
    assert rules.transition_for("approved", "stopped", "dibao") is not None
    assert rules.transition_for("approved", "stopped", "temporary.emergency") is None
    assert rules.transition_for("refused", "stopped", "dibao") is None


# Separation of duties (001): one rule over the duty history, tests/unit/test_duty_rules.py.


# --- guards -----------------------------------------------------------------------------------


def test_intake_needs_pledge_and_authorization_002():
    assert slugs("accepted", "investigating", Facts("dibao")) == [
        "pledge-missing", "authorization-missing"]
    assert slugs("accepted", "investigating",
                 Facts("dibao", has_pledge=True, has_authorization=True)) == []


def test_approval_needs_a_complete_home_visit_004():
    over = Facts("dibao", notice_ends_on=date(2026, 12, 1), today=date(2026, 12, 2))
    assert "home-visit-incomplete" in slugs("public_notice", "approved", over)
    assert slugs("public_notice", "approved", replace(over, visit_complete=True)) == []


def test_notice_must_be_over_on_both_sides_of_7_days_004_001():
    ends = rules.notice_ends_on(date(2026, 12, 1), 7)
    assert ends == date(2026, 12, 7)
    facts = Facts("dibao", visit_complete=True, notice_ends_on=ends)
    assert slugs("public_notice", "approved", replace(facts, today=date(2026, 12, 7))) == [
        "notice-not-over"]
    assert slugs("public_notice", "approved", replace(facts, today=date(2026, 12, 8))) == []


def test_a_sampled_case_waits_for_its_county_check_001_004():
    base = Facts("dibao", visit_complete=True, notice_ends_on=date(2026, 1, 1),
                 today=date(2026, 2, 1), is_spot_check_subject=True)
    assert slugs("public_notice", "approved", base) == ["spot-check-not-drawn"]
    drawn = replace(base, is_drawn=True, is_sampled=True)
    assert slugs("public_notice", "approved", drawn) == ["spot-check-pending"]
    assert slugs("public_notice", "approved", replace(drawn, spot_check_outcome="confirmed")) == []
    assert slugs("public_notice", "approved", replace(
        drawn, spot_check_outcome="problems_found")) == ["spot-check-found-problems"]
    assert slugs("public_notice", "approved", replace(base, is_drawn=True)) == []


def test_emergency_aid_at_most_5000_yuan_002():
    facts = Facts("temporary", emergency_recipient="王", emergency_reason="火灾",
                  emergency_amount=Decimal("5000.00"))
    assert slugs("accepted", "approved", facts, "temporary.emergency") == []
    over = replace(facts, emergency_amount=Decimal("5000.01"))
    assert slugs("accepted", "approved", over, "temporary.emergency") == ["amount-above-cap"]
    stricter = replace(facts, emergency_cap=Decimal(3000))
    assert slugs("accepted", "approved", stricter, "temporary.emergency") == ["amount-above-cap"]
    missing = replace(facts, emergency_reason=None)
    assert slugs("accepted", "approved", missing, "temporary.emergency") == [
        "emergency-record-incomplete"]


def test_refusal_and_stop_need_written_reasons_004():
    assert slugs("reviewing", "refused", Facts("dibao")) == ["reasons-missing"]
    assert slugs("reviewing", "refused", Facts("dibao", reasons=("  ",))) == ["reasons-missing"]
    assert slugs("reviewing", "refused", Facts("dibao", reasons=("收入超标",))) == []
    assert slugs("approved", "stopped", Facts("dibao")) == ["reasons-missing"]


def test_objection_needs_who_and_what_001():
    assert slugs("public_notice", "investigating", Facts("dibao")) == ["objection-missing"]
    assert slugs("public_notice", "investigating", Facts("dibao", has_objection=True)) == []


def test_economic_check_result_comes_before_preliminary_review_002():
    facts = Facts("dibao", visit_complete=True, is_panel_held=False)
    assert slugs("investigating", "reviewing", facts) == ["economic-check-pending"]
    assert slugs("investigating", "reviewing", replace(
        facts, economic_check_result="obviously_ineligible")) == ["economic-check-ineligible"]
    assert slugs("investigating", "reviewing", replace(
        facts, economic_check_result="eligible")) == []


def test_panel_where_held_004_not_in_002_and_after_an_objection_57():
    facts = Facts("dibao", visit_complete=True, economic_check_result="eligible")
    assert slugs("investigating", "reviewing", facts) == ["panel-required"]
    no_panel = replace(facts, is_panel_held=False)
    assert slugs("investigating", "reviewing", no_panel) == []
    assert slugs("investigating", "panel_review", no_panel) == ["panel-not-held"]
    objected = replace(no_panel, needs_panel_after_objection=True)
    assert slugs("investigating", "reviewing", objected) == ["panel-required"]
    assert slugs("investigating", "panel_review", objected) == []


def _panel(**overrides) -> PanelRecord:
    values = {"held_on": date(2026, 12, 3), "members_present": 9, "cadres_present": 2,
              "is_group_leader_present": True, "is_discipline_officer_present": False}
    values.update(overrides)
    return PanelRecord(**values)


def test_panel_of_at_least_9_with_2_cadres_and_the_group_leader_004():
    facts = Facts("dibao", economic_check_result="eligible", panel=_panel(), is_panel_drawn=True)
    assert slugs("panel_review", "reviewing", facts) == []
    assert slugs("panel_review", "reviewing", replace(facts, is_panel_drawn=False)) == [
        "panel-not-drawn"]
    assert slugs("panel_review", "reviewing", replace(facts, panel=_panel(
        members_present=8))) == ["panel-too-small"]
    assert slugs("panel_review", "reviewing", replace(facts, panel=_panel(
        cadres_present=1))) == ["panel-cadres-missing"]
    assert slugs("panel_review", "reviewing", replace(facts, panel=_panel(
        is_group_leader_present=False))) == ["panel-group-leader-missing"]
    assert slugs("panel_review", "reviewing", replace(facts, panel=None)) == [
        "panel-record-missing"]


def test_special_case_panel_of_12_within_5_working_days_with_discipline_001():
    due = add_wd(date(2026, 12, 1), rules.SPECIAL_CASE_PANEL_WORKING_DAYS)
    assert due == date(2026, 12, 8)
    ok = _panel(members_present=12, is_discipline_officer_present=True, held_on=due)
    facts = Facts("special_case", economic_check_result="eligible", panel=ok, panel_due_on=due,
                  is_panel_drawn=True)
    assert slugs("panel_review", "reviewing", facts) == []
    assert slugs("panel_review", "reviewing", replace(facts, panel=replace(
        ok, members_present=11))) == ["panel-too-small"]
    assert slugs("panel_review", "reviewing", replace(facts, panel=replace(
        ok, is_discipline_officer_present=False))) == ["panel-discipline-officer-missing"]
    assert slugs("panel_review", "reviewing", replace(facts, panel=replace(
        ok, held_on=due + timedelta(days=1)))) == ["panel-too-late"]


# --- money (003; near-allowance: national frame 1.5×) -----------------------------------------


def test_monthly_amount_is_the_gap_times_members_rounded_003():
    assert rules.monthly_amount(Decimal(650), Decimal("400.4"), 3, 0) == Decimal(749)
    assert rules.monthly_amount(Decimal(650), Decimal("400.5"), 3, 0) == Decimal(749)  # 748.5↑
    assert rules.monthly_amount(Decimal(650), Decimal("400.45"), 3, 1) == Decimal("748.7")
    assert rules.monthly_amount(Decimal(650), Decimal(700), 2, 0) == Decimal(0)


def test_near_allowance_is_judged_by_the_margin_multiple_national_frame():
    standard, multiple = Decimal(650), Decimal("1.5")
    assert rules.classify(Decimal("649.99"), standard, multiple) == "dibao"
    assert rules.classify(Decimal(650), standard, multiple) == "low_income_margin"
    assert rules.classify(Decimal("974.99"), standard, multiple) == "low_income_margin"
    assert rules.classify(Decimal(975), standard, multiple) == "ineligible"


def test_standard_in_force_by_date_and_nearest_place():
    rows = [rules.Standard("530621", date(2025, 1, 1), Decimal(600)),
            rules.Standard("530621", date(2026, 7, 1), Decimal(650)),
            rules.Standard("530621100", date(2026, 10, 1), Decimal(700))]
    chain = ["530621", "530621101"]
    assert rules.standard_on(rows, chain, date(2026, 6, 30)).monthly_yuan == 600
    assert rules.standard_on(rows, chain, date(2026, 7, 1)).monthly_yuan == 650
    assert rules.standard_on(rows, ["530621", "530621100"], date(2026, 10, 1)
                             ).monthly_yuan == 700
    assert rules.standard_on(rows, chain, date(2024, 12, 31)) is None


def test_payment_starts_the_month_after_approval_57_and_by_the_10th_001():
    assert rules.payment_starts_on(date(2026, 12, 31)) == date(2027, 1, 1)
    assert rules.payment_starts_on(date(2026, 1, 1)) == date(2026, 2, 1)
    assert rules.monthly_payment_due_on(date(2027, 1, 1)) == date(2027, 1, 10)
    assert check_setting("monthly_payment_day", 10) is None
    assert check_setting("monthly_payment_day", 11).source == "001"


# --- deadlines (001, 002) ----------------------------------------------------------------------


def test_dibao_20_working_days_extended_to_30_after_a_check_over_15_days_001():
    applied = date(2026, 11, 2)
    assert rules.decision_deadline("dibao", None, applied, DEFAULTS, add_wd, 15) == add_wd(
        applied, 20)
    assert rules.decision_deadline("dibao", None, applied, DEFAULTS, add_wd, 16) == add_wd(
        applied, 30)
    assert rules.decision_deadline("dibao", None, applied, DEFAULTS, add_wd, None) == add_wd(
        applied, 20)


def test_check_days_counted_whole_days_001():
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert rules.check_took_days(start, start + timedelta(days=15, hours=23)) == 15
    assert rules.check_took_days(start, start + timedelta(days=16)) == 16


def test_12_working_days_where_the_jurisdiction_sets_002():
    settings = {**DEFAULTS, "dibao_deadline_working_days": 12,
                "temporary_deadline_working_days": 12}
    applied = date(2026, 11, 2)
    assert rules.decision_deadline("dibao", None, applied, settings, add_wd, None) == add_wd(
        applied, 12)
    assert rules.decision_deadline("temporary", "expenditure", applied, settings, add_wd,
                                   None) == add_wd(applied, 12)
    assert check_setting("dibao_deadline_working_days", 21).source == "001"


def test_temporary_aid_at_most_15_working_days_001():
    assert rules.decision_deadline("temporary", "expenditure", date(2026, 11, 2), DEFAULTS,
                                   add_wd, None) == add_wd(date(2026, 11, 2), 15)
    assert check_setting("temporary_deadline_working_days", 15) is None
    assert check_setting("temporary_deadline_working_days", 16).source == "001"


def test_emergency_aid_due_24_hours_after_intake_002():
    applied = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert rules.decision_deadline("temporary", "emergency", applied.date(), DEFAULTS, add_wd,
                                   None) is None
    assert rules.emergency_due_at(applied) == datetime(2026, 12, 2, 23, 30, tzinfo=UTC)


def test_three_and_five_working_day_tasks_57_001_002():
    # Friday 2026-12-04: 3 working days later is Wednesday, 5 is Friday (weekend skipped).
    friday = date(2026, 12, 4)
    assert add_wd(friday, rules.REFUSAL_LETTER_WORKING_DAYS) == date(2026, 12, 9)  # 57号
    assert add_wd(friday, rules.TEMPORARY_PAYMENT_WORKING_DAYS) == date(2026, 12, 9)  # 001
    assert add_wd(friday, rules.SPECIAL_CASE_FILING_WORKING_DAYS) == date(2026, 12, 9)  # 001
    assert add_wd(friday, rules.EMERGENCY_SIGNATURES_WORKING_DAYS) == date(2026, 12, 11)  # 002
    # Across the 2026 National Day holiday (10-01..10-07): 10-08, 10-09, then the make-up
    # workday Saturday 10-10 (chinese-calendar 1.11).
    assert add_wd(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_due_soon_is_three_working_days_001_002():
    # Wednesday 2026-12-02: three working days on is Monday 12-07 (the weekend does not count).
    today, now = date(2026, 12, 2), datetime(2026, 12, 2, 4, tzinfo=UTC)

    def state(due_on, due_at=None):
        return rules.due_state(due_on, due_at, today, now, add_wd)

    assert state(date(2026, 12, 1)) == "overdue"
    assert state(date(2026, 12, 2)) == "due_soon"
    assert state(date(2026, 12, 7)) == "due_soon"
    assert state(date(2026, 12, 8)) == "later"
    assert state(None, now - timedelta(seconds=1)) == "overdue"
    assert state(None, now + timedelta(hours=1)) == "due_soon"
    assert state(None, now + timedelta(days=4)) == "later"
    # Before the National Day holiday (10-01..10-07), three working days reach 10-10 (a
    # make-up Saturday): a deadline on 10-09 is already due soon on 09-30.
    before_holiday = date(2026, 9, 30)
    assert rules.due_state(date(2026, 10, 9), None, before_holiday, now, add_wd) == "due_soon"
    assert rules.due_state(date(2026, 10, 12), None, before_holiday, now, add_wd) == "later"


# --- notice content (004; minors never listed, 43号) -------------------------------------------


def test_notice_lists_adults_only_43():
    on = date(2026, 12, 2)
    members = [("王秀英", "head", date(1960, 1, 1)), ("王小红", "child", date(2008, 12, 2)),
               ("王子涵", "child", date(2008, 12, 3)), ("李某", "spouse", None)]
    assert rules.notice_members(members, on) == [
        {"name": "王秀英", "relation": "head"}, {"name": "王小红", "relation": "child"}]


# --- self-care (43号) --------------------------------------------------------------------------


def test_self_care_levels_43():
    every = {item: True for item in rules.SELF_CARE_ITEMS}
    assert rules.self_care_level(every) == "self_caring"
    three = {**every, "eats_alone": False, "bathes_alone": False, "dresses_alone": False}
    assert rules.self_care_level(three) == "partly_unable"
    assert rules.self_care_level({**three, "walks_indoors_alone": False}) == "fully_unable"


# --- draws (001, 004) ----------------------------------------------------------------------


def _candidates(n: int, key: str, prefix: str) -> list[rules.DrawCandidate]:
    return [rules.DrawCandidate(f"{prefix}{i:05d}", key, False) for i in range(n)]


def test_spot_check_at_least_30_percent_dibao_and_20_percent_temporary_001():
    pool = _candidates(10, "dibao", "d") + _candidates(10, "temporary.expenditure", "t")
    ratios = {"spot_check_ratio_dibao": 0.30, "spot_check_ratio_temporary": 0.20}
    result = rules.draw_sample(pool, "seed-1", ratios)
    assert sum(1 for c in result.sampled if c.startswith("d")) == 3
    assert sum(1 for c in result.sampled if c.startswith("t")) == 2
    odd = rules.draw_sample(_candidates(11, "dibao", "d"), "seed-1", ratios)
    assert len(odd.sampled) == 4  # ceil(3.3): never below 30%


def test_every_relative_of_staff_is_checked_004():
    pool = _candidates(10, "dibao", "d") + [
        rules.DrawCandidate(f"r{i}", "dibao", True) for i in range(5)]
    result = rules.draw_sample(pool, "s", {"spot_check_ratio_dibao": 0.30,
                                           "spot_check_ratio_temporary": 0.20})
    assert all(f"r{i}" in result.sampled for i in range(5))
    assert len(result.sampled) == 5  # ceil(0.3 × 15) = 5, already met by the relatives


def test_the_same_seed_redraws_the_same_sample_and_another_seed_differs():
    pool = _candidates(200, "dibao", "d")
    ratios = {"spot_check_ratio_dibao": 0.30, "spot_check_ratio_temporary": 0.20}
    first = rules.draw_sample(pool, "abc", ratios)
    assert rules.draw_sample(list(reversed(pool)), "abc", ratios) == first
    assert rules.draw_sample(pool, "abd", ratios).sampled != first.sampled


def test_panel_draw_is_reproducible_and_has_its_required_members_004_001():
    pool = ([rules.PoolMember(f"v{i:02d}", "villager") for i in range(27)]
            + [rules.PoolMember("c1", "township_cadre"), rules.PoolMember("c2", "township_cadre"),
               rules.PoolMember("c3", "township_cadre"),
               rules.PoolMember("k1", "discipline_officer"),
               rules.PoolMember("g1", "group_leader")])
    panel = rules.draw_panel(pool, "seed", 9, "g1", False)
    assert len(panel) == 9 and "g1" in panel
    assert sum(1 for m in panel if m.startswith("c")) >= 2
    assert rules.draw_panel(pool, "seed", 9, "g1", False) == panel
    special = rules.draw_panel(pool, "seed", 12, "g1", True)
    assert len(special) == 12 and "k1" in special
    assert rules.panel_pool_problems(pool, 30, 9, False) == []
    assert rules.panel_pool_problems(pool[:29], 30, 9, False)


# --- periodic review (动态管理, 004; national frame tiers; 001 special cases) -----------------

REVIEW_SETTINGS = {"periodic_review_months_stable": 12, "periodic_review_months_unstable": 6,
                   "periodic_review_months_special_case": 6}


def test_review_tiers_yearly_half_yearly_and_special_case_twice_a_year_001():
    # National frame: yearly where the situation hardly changes, half-yearly where income is
    # unstable and members can work; 001: special cases at least twice a year.
    assert rules.review_interval_months("dibao", "yearly", REVIEW_SETTINGS) == 12
    assert rules.review_interval_months("dibao", "half_yearly", REVIEW_SETTINGS) == 6
    assert rules.review_interval_months("special_case", "yearly", REVIEW_SETTINGS) == 6
    # Not judged yet: the stricter tier.
    assert rules.review_interval_months("extreme_poverty", None, REVIEW_SETTINGS) == 6
    local = {**REVIEW_SETTINGS, "periodic_review_months_unstable": 3}
    assert rules.review_interval_months("dibao", "half_yearly", local) == 3


def test_a_review_is_due_on_the_day_its_months_have_passed():
    last = date(2026, 8, 31)
    assert rules.review_due_on(last, 6) == date(2027, 2, 28)  # no 31 February
    assert rules.review_due_on(date(2026, 3, 15), 12) == date(2027, 3, 15)
    assert rules.add_months(date(2026, 12, 5), 1) == date(2027, 1, 5)


def test_review_transitions_are_their_own_table_004():
    key = rules.PERIODIC_REVIEW
    assert rules.transition_for(rules.APPROVED, rules.STOPPED, key) is None
    assert rules.transition_for(rules.REVIEWING, rules.PUBLIC_NOTICE, key) is None
    assert sorted(rules.allowed_targets(rules.REVIEWING, key, ["approver"])) == [
        "adjusted", "continued", "stopped"]
    assert rules.allowed_targets(rules.REVIEWING, key, ["reviewer"]) == []
    assert rules.transition_for(rules.REVIEWING, rules.CONTINUED, "dibao") is None
    assert rules.transition_for(rules.REVIEWING, rules.STOPPED, key).duty == "approval"


@pytest.mark.parametrize("method,facts,broken", [
    (None, {}, "review-method-missing"),
    ("home_visit", {"visit_complete": False}, "review-visit-incomplete"),
    ("system_comparison", {}, "review-comparison-pending"),
    ("phone", {"review_findings": " "}, "review-findings-missing"),
])
def test_review_guards_004(method, facts, broken):
    step = rules.transition_for(rules.INVESTIGATING, rules.REVIEWING, rules.PERIODIC_REVIEW)
    base = {"review_findings": "无变化", **facts}
    found = [s for s, _ in rules.guard_problems(
        step, rules.Facts(kind="periodic_review", review_method=method, **base))]
    assert broken in found
    fixed = rules.Facts(kind="periodic_review", review_method="phone",
                        review_findings="无变化")
    assert rules.guard_problems(step, fixed) == []


def test_extreme_poverty_approval_needs_the_self_care_assessment_001_43():
    facts = Facts(kind="extreme_poverty", visit_complete=True, notice_ends_on=date(2026, 12, 1),
                  today=date(2026, 12, 9))
    assert "self-care-assessment-missing" in slugs("public_notice", "approved", facts)
    assessed = replace(facts, self_care_level="partly_unable")
    assert "self-care-assessment-missing" not in slugs("public_notice", "approved", assessed)
    # Other kinds are not assessed (001 asks it of extreme-poverty applicants).
    dibao = replace(facts, kind="dibao")
    assert "self-care-assessment-missing" not in slugs("public_notice", "approved", dibao)


# --- special cases' re-review rate (001) ----------------------------------------------------


def test_half_years_cover_the_year_without_gap_or_overlap():
    assert rereview_rules.half_year(2027, 1) == (date(2027, 1, 1), date(2027, 6, 30))
    assert rereview_rules.half_year(2027, 2) == (date(2027, 7, 1), date(2027, 12, 31))
    assert rereview_rules.half_year_of(date(2027, 6, 30)) == (2027, 1)
    assert rereview_rules.half_year_of(date(2027, 7, 1)) == (2027, 2)
    with pytest.raises(ValueError):
        rereview_rules.half_year(2027, 3)


def test_a_special_case_is_due_a_re_review_in_every_half_year_after_its_approval():
    start = date(2027, 1, 1)
    assert rereview_rules.is_rereview_expected(date(2026, 12, 31), start)
    assert not rereview_rules.is_rereview_expected(start, start)  # approved in the period: next one
    assert not rereview_rules.is_rereview_expected(date(2027, 3, 1), start)


def test_the_rate_is_none_when_nothing_was_due():
    assert rereview_rules.rate(0, 0) is None
    assert rereview_rules.rate(2, 3) == 0.6667
    assert rereview_rules.rate(3, 3) == 1.0 == rereview_rules.SPECIAL_CASE_REREVIEW_RATE


def test_the_rate_is_met_only_when_every_due_case_was_re_reviewed_001():
    assert rereview_rules.is_rereview_rate_met(3, 3) and rereview_rules.is_rereview_rate_met(0, 0)
    assert not rereview_rules.is_rereview_rate_met(99, 100)


def test_a_12_day_township_never_extends_to_30_002_001():
    """001 extends its 20 working days to 30 after a check over 15 days; 002's 12 working
    days have no extension (issue 19)."""
    settings = {**DEFAULTS, "dibao_deadline_working_days": 12}
    applied = date(2026, 11, 2)
    assert rules.decision_deadline("dibao", None, applied, settings, add_wd, 16) == add_wd(
        applied, 12)
    assert rules.decision_deadline("dibao", None, applied, DEFAULTS, add_wd, 16) == add_wd(
        applied, 30)


def test_economic_check_dates_001_002():
    now = datetime(2026, 12, 6, 5, tzinfo=UTC)
    day = timedelta(days=1)
    assert rules.economic_check_date_problems(now - day, now, now) == {}
    assert rules.economic_check_date_problems(now - day, None, now) == {}
    assert set(rules.economic_check_date_problems(now + day, None, now)) == {"requested_at"}
    assert set(rules.economic_check_date_problems(now - day, now + day, now)) == {"returned_at"}
    assert set(rules.economic_check_date_problems(now - day, now - 2 * day, now)) == {
        "returned_at"}
