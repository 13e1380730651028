"""Pure rules of the case workflow (issue 11): the transition table per kind of case, its
guards, separation of duties, the allowance amount, deadlines and the seeded draws.

States of one case (``assistance_case.status``)::

    accepted (受理) ──► investigating (入户调查 + 核对, in parallel) ──► [panel_review]
        │                      ▲                                          │
        │                      │ objection (57号: panel, then a new notice)│
        │                      │                                          ▼
        │               public_notice (公示) ◄──────────────────── reviewing (初审 recorded)
        │                      │                                          │
        │                      ▼                                          ▼ temporary aid
        └─► approved (审核确认) ◄───────────────────────────────────────────┘
              (emergency aid: straight from accepted, within 24 h)
        approved ──► stopped (written reasons)      any open state ──► refused | withdrawn

A periodic review (动态管理, 004) of a current recipient is a case of its own kind with its own
table (``REVIEW_TRANSITIONS``); it reuses the open states so that a home visit works as for an
application (a team assigned, on the field workers' phones, attested and review-approved)::

    accepted (opened: check-in trigger, schedule, desk)
        ──► investigating (under review: home visit / system comparison / phone)
        ──► reviewing (findings recorded, 初审) ──► continued | adjusted | stopped (审核确认)

``TRANSITIONS`` is the whole table: (from, to) -> who may make the move, which kinds of case
it applies to, and which guards it checks. The service gathers the facts; ``guard_problems``
names every broken rule (a slug and a message), each rule citing its source.
"""

from __future__ import annotations

import calendar
import hashlib
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from backend.workflow import notice_rules

ACCEPTED = "accepted"
INVESTIGATING = "investigating"
PANEL_REVIEW = "panel_review"
REVIEWING = "reviewing"
PUBLIC_NOTICE = "public_notice"
APPROVED = "approved"
REFUSED = "refused"
STOPPED = "stopped"
WITHDRAWN = "withdrawn"
CONTINUED = "continued"
ADJUSTED = "adjusted"
OPEN = (ACCEPTED, INVESTIGATING, PANEL_REVIEW, REVIEWING, PUBLIC_NOTICE)

INTAKE_CLERK = "intake_clerk"
VILLAGE_ASSISTANT = "village_assistant"
REVIEWER = "reviewer"
APPROVER = "approver"

ALL_KINDS = frozenset({"dibao", "extreme_poverty", "low_income_margin", "special_case",
                       "temporary.expenditure", "temporary.emergency"})
MONTHLY_KINDS = frozenset({"dibao", "extreme_poverty", "low_income_margin", "special_case"})
NOT_EMERGENCY = ALL_KINDS - {"temporary.emergency"}


def kind_key(kind: str, temporary_subtype: str | None) -> str:
    """``dibao`` ..., or ``temporary.emergency`` / ``temporary.expenditure``."""
    return f"{kind}.{temporary_subtype}" if kind == "temporary" else kind


@dataclass(frozen=True)
class Transition:
    roles: frozenset[str]
    kinds: frozenset[str]
    guards: tuple[str, ...]
    # intake / preliminary_review / approval, as backend.duties.rules.PATHS names it for the
    # move's path (separation of duties, 001)
    duty: str | None = None
    about: str = ""


def _t(roles: Iterable[str], kinds: Iterable[str], guards: Iterable[str] = (),
       duty: str | None = None, about: str = "") -> Transition:
    return Transition(frozenset(roles), frozenset(kinds), tuple(guards), duty, about)


_REFUSE = _t([APPROVER], ALL_KINDS, ["reasons-missing"], "approval",
             "refuse with written reasons and the route to re-examination (004, 002)")
_WITHDRAW = _t([INTAKE_CLERK], ALL_KINDS, ["reasons-missing"], None,
               "the applicant withdraws the application")

_EMERGENCY = _t(
    [APPROVER], ["temporary.emergency"], ["emergency-record-incomplete", "amount-above-cap"],
    "approval",
    "emergency aid fast track: within 24 h (001, 002), at most the cap from the township "
    "reserve (001: 最高不超过5000元)")

TRANSITIONS: dict[tuple[str, str], Transition] = {
    (ACCEPTED, INVESTIGATING): _t(
        [INTAKE_CLERK, VILLAGE_ASSISTANT], NOT_EMERGENCY,
        ["pledge-missing", "authorization-missing"], "intake",
        "intake complete: honesty pledge and economic-check authorization signed (002, 001)"),
    (ACCEPTED, APPROVED): _EMERGENCY,
    # A visit team may already be assigned: the fast track still applies.
    (INVESTIGATING, APPROVED): _EMERGENCY,
    (INVESTIGATING, PANEL_REVIEW): _t(
        [REVIEWER], NOT_EMERGENCY, ["home-visit-incomplete", "panel-not-held"],
        "preliminary_review",
        "the village panel deliberates (004; 57号 after an objection; 001 special case)"),
    (INVESTIGATING, REVIEWING): _t(
        [REVIEWER], NOT_EMERGENCY,
        ["home-visit-incomplete", "economic-check-pending", "economic-check-ineligible",
         "panel-required", "proposal-invalid"], "preliminary_review",
        "preliminary review (初审) recorded with the proposed category and amount"),
    (PANEL_REVIEW, REVIEWING): _t(
        [REVIEWER], NOT_EMERGENCY,
        ["panel-not-drawn", "panel-record-missing", "panel-attendance-invalid",
         "panel-held-on-outside-window", "panel-too-small", "panel-cadres-missing",
         "panel-group-leader-missing", "panel-discipline-officer-missing", "panel-too-late",
         "economic-check-pending", "economic-check-ineligible", "proposal-invalid"],
        "preliminary_review", "the panel's record, then the preliminary review (004, 001)"),
    (REVIEWING, PUBLIC_NOTICE): _t(
        [REVIEWER, APPROVER], MONTHLY_KINDS, ["review-stage-notice-not-held"], None,
        "post the review-stage notice in the village for the notice days (004, 001)"),
    (REVIEWING, APPROVED): _t(
        [APPROVER], MONTHLY_KINDS | {"temporary.expenditure"},
        ["review-stage-notice-required", "home-visit-incomplete",
         "self-care-assessment-missing", "spot-check-not-drawn", "spot-check-pending",
         "spot-check-found-problems"], "approval",
        "decided without a review-stage notice: temporary aid (支出型, 001), or where the "
        "jurisdiction drops that notice (002); the approval-stage notice follows"),
    (PUBLIC_NOTICE, APPROVED): _t(
        [APPROVER], MONTHLY_KINDS,
        ["notice-not-over", "home-visit-incomplete", "self-care-assessment-missing",
         "spot-check-not-drawn", "spot-check-pending", "spot-check-found-problems"],
        "approval",
        "approve with category and monthly amount after the notice (004)"),
    (PUBLIC_NOTICE, INVESTIGATING): _t(
        [INTAKE_CLERK, VILLAGE_ASSISTANT, REVIEWER, APPROVER], MONTHLY_KINDS,
        ["objection-missing"], None,
        "an objection reopens the investigation (001, 002); 57号: a panel, then a new notice"),
    (APPROVED, STOPPED): _t(
        [APPROVER], MONTHLY_KINDS, ["reasons-missing"], "approval",
        "stop paying a current recipient, with written reasons (004)"),
    **{(state, REFUSED): _REFUSE for state in OPEN},
    **{(state, WITHDRAWN): _WITHDRAW for state in OPEN},
}

GUARD_SOURCES: dict[str, str] = {
    "pledge-missing": "002/001", "authorization-missing": "002",
    "emergency-record-incomplete": "002", "amount-above-cap": "001",
    "home-visit-incomplete": "004",
    "panel-not-held": "002/57号", "panel-required": "004/57号/001",
    "economic-check-pending": "002", "economic-check-ineligible": "002",
    "proposal-invalid": "003", "panel-record-missing": "004", "panel-not-drawn": "004",
    "panel-attendance-invalid": "004", "panel-held-on-outside-window": "001/004",
    "panel-too-small": "004/001", "panel-cadres-missing": "004",
    "panel-group-leader-missing": "004", "panel-discipline-officer-missing": "001",
    "panel-too-late": "001", "notice-not-over": "004/001",
    "spot-check-not-drawn": "001/004", "spot-check-pending": "001/004",
    "spot-check-found-problems": "001/004", "objection-missing": "001",
    "reasons-missing": "004", "separation-of-duties": "001",
    "review-method-missing": "004", "review-visit-incomplete": "004",
    "review-comparison-pending": "004", "review-findings-missing": "003",
    "self-care-assessment-missing": "001/43号",
    "review-stage-notice-required": "004", "review-stage-notice-not-held": "002",
}


# --- periodic review (动态管理, 004; tiers: national frame; special cases: 001) ----------------

PERIODIC_REVIEW = "periodic_review"
REVIEW_METHODS = ("home_visit", "system_comparison", "phone")  # 004: 入户、系统比对、电话
REVIEW_SOURCES = ("checkin", "schedule", "desk", "complaint")
REVIEW_OUTCOMES = (CONTINUED, ADJUSTED, STOPPED)
REVIEW_TIERS = ("yearly", "half_yearly")
_REVIEW = frozenset({PERIODIC_REVIEW})
_REVIEW_DECISION = "the approver decides the review's outcome (004); separation of duties (001)"

REVIEW_TRANSITIONS: dict[tuple[str, str], Transition] = {
    (ACCEPTED, INVESTIGATING): _t(
        [INTAKE_CLERK, VILLAGE_ASSISTANT, REVIEWER], _REVIEW, ["review-method-missing"], None,
        "start the review by home visit, system comparison or phone (004); assigning a visit "
        "team starts a home-visit review too"),
    (INVESTIGATING, REVIEWING): _t(
        [REVIEWER], _REVIEW,
        ["review-method-missing", "review-visit-incomplete", "review-comparison-pending",
         "review-findings-missing"], "preliminary_review",
        "record what the review found (初审)"),
    (REVIEWING, CONTINUED): _t([APPROVER], _REVIEW, [], "approval",
                               "continue the allowance unchanged; " + _REVIEW_DECISION),
    (REVIEWING, ADJUSTED): _t([APPROVER], _REVIEW, ["proposal-invalid"], "approval",
                              "adjust the monthly amount by the allowance rules (003); "
                              + _REVIEW_DECISION),
    (REVIEWING, STOPPED): _t([APPROVER], _REVIEW, ["reasons-missing"], "approval",
                             "stop paying, with written reasons (004); " + _REVIEW_DECISION),
}


def _table(key: str) -> dict[tuple[str, str], Transition]:
    return REVIEW_TRANSITIONS if key == PERIODIC_REVIEW else TRANSITIONS


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_interval_months(subject_kind: str, tier: str | None, settings: dict[str, Any]
                           ) -> int:
    """Months between periodic reviews of one recipient household.

    001: a special case (一事一议) is re-reviewed at least twice a year. National frame:
    yearly where the situation hardly changes, half-yearly where income is unstable and
    members can work. A household whose tier nobody has judged yet gets the stricter,
    half-yearly tier. The months are settings per jurisdiction."""
    if subject_kind == "special_case":
        return int(settings["periodic_review_months_special_case"])
    if tier == "yearly":
        return int(settings["periodic_review_months_stable"])
    return int(settings["periodic_review_months_unstable"])


def review_due_on(last_reviewed_on: date, months: int) -> date:
    """The next periodic review is due ``months`` after the last one (or the approval)."""
    return add_months(last_reviewed_on, months)


def allowed_targets(status: str, key: str, caller_roles: Iterable[str]) -> list[str]:
    """Where a person with ``caller_roles`` may move a case of kind ``key`` from ``status``."""
    held = set(caller_roles)
    return [to for (frm, to), t in _table(key).items()
            if frm == status and key in t.kinds and t.roles & held]


def transition_for(status: str, to: str, key: str) -> Transition | None:
    """The table's row for this move and kind, or None when the move is not allowed."""
    found = _table(key).get((status, to))
    if found is None or key not in found.kinds:
        return None
    return found


# --- facts the guards read ------------------------------------------------------------------


@dataclass(frozen=True)
class PanelRecord:
    held_on: date
    members_present: int
    cadres_present: int
    is_group_leader_present: bool
    is_discipline_officer_present: bool


@dataclass(frozen=True)
class Facts:
    """What the guards need, gathered by the service."""

    kind: str
    has_pledge: bool = False
    has_authorization: bool = False
    visit_complete: bool = False
    economic_check_result: str | None = None
    is_panel_held: bool = True  # jurisdiction setting (004 holds it; 002 cancels it)
    is_review_stage_notice_held: bool = True  # jurisdiction setting (004; 002 drops it)
    needs_panel_after_objection: bool = False
    panel: PanelRecord | None = None
    panel_min_members: int = 9
    special_case_panel_min_members: int = 12
    panel_due_on: date | None = None
    is_panel_drawn: bool = False
    panel_attendance_problem: str | None = None
    applied_on: date | None = None
    panel_drawn_on: date | None = None
    notice_ends_on: date | None = None
    today: date | None = None
    is_spot_check_subject: bool = False
    is_drawn: bool = False
    is_sampled: bool = False
    spot_check_outcome: str | None = None
    reasons: tuple[str, ...] = ()
    has_objection: bool = False
    emergency_recipient: str | None = None
    emergency_reason: str | None = None
    emergency_amount: Decimal | None = None
    emergency_cap: Decimal = Decimal(5000)
    proposal_problem: str | None = None
    review_method: str | None = None
    review_findings: str | None = None
    self_care_level: str | None = None  # from the complete visit's six answers (43号)


def panel_is_required(f: Facts) -> bool:
    """A panel is held where the jurisdiction holds one (004), after an objection (57号),
    and always for a special case (001)."""
    return f.is_panel_held or f.needs_panel_after_objection or f.kind == "special_case"


def _check(slug: str, f: Facts) -> str | None:  # noqa: C901 - one branch per guard, a table
    if slug == "pledge-missing" and not f.has_pledge:
        return "申请人未签署诚信承诺书 (the honesty pledge is not recorded)"
    if slug == "authorization-missing" and not f.has_authorization:
        return "未授权核对家庭经济状况 (the economic-check authorization is not recorded)"
    if slug == "home-visit-incomplete" and not f.visit_complete:
        return ("入户调查未完成: 需至少两名调查员签名并经初审通过 (no home visit attested by "
                "the team and approved in review)")
    if slug == "economic-check-pending" and f.economic_check_result is None:
        return "家庭经济状况核对结果未返回 (the economic check has no result yet)"
    if slug == "economic-check-ineligible" and f.economic_check_result == "obviously_ineligible":
        return "核对结果明显不符合条件, 应书面告知 (obviously ineligible: refuse in writing)"
    if slug == "panel-not-held" and not panel_is_required(f):
        return "本地不开展民主评议且无异议 (no panel here and no objection)"
    if slug == "panel-required" and panel_is_required(f) and f.panel is None:
        return "需先开展民主评议 (a panel review comes first)"
    if slug == "proposal-invalid" and f.proposal_problem:
        return f.proposal_problem
    if slug.startswith("panel-"):
        return _panel_check(slug, f)
    # 001 posts a special case's notice after its panel wherever 002 drops the others.
    held = f.is_review_stage_notice_held or f.kind == "special_case"
    if slug == "review-stage-notice-required" and held and f.kind in MONTHLY_KINDS:
        return "本地须先进行审核公示 (this jurisdiction posts the review-stage notice; 004)"
    if slug == "review-stage-notice-not-held" and not held:
        return ("本地不进行审核阶段公示, 审批后公示结果 (no review-stage notice here: the "
                "decision is posted after approval; 002)")
    if slug == "notice-not-over" and not notice_is_over(f.notice_ends_on, f.today):
        return f"公示期未满, 截至 {f.notice_ends_on} (the notice runs until {f.notice_ends_on})"
    if f.is_spot_check_subject:
        if slug == "spot-check-not-drawn" and not f.is_drawn:
            return "本月县级抽查尚未抽取此案 (the county has not drawn this month's sample)"
        if slug == "spot-check-pending" and f.is_sampled and f.spot_check_outcome is None:
            return "此案被抽中, 县级抽查结果未登记 (sampled: the county check is not recorded)"
        if slug == "spot-check-found-problems" and f.spot_check_outcome == "problems_found":
            return "县级抽查发现问题 (the county check found problems)"
    if slug == "objection-missing" and not f.has_objection:
        return "请登记异议的提出人和内容 (record who objected and what)"
    if slug.startswith("review-"):
        return _review_check(slug, f)
    if (slug == "self-care-assessment-missing" and f.kind == "extreme_poverty"
            and f.self_care_level is None):
        return ("特困人员需先完成生活自理能力评估 (六项) (an extreme-poverty case needs the "
                "six-item self-care assessment in its home visit; 001, 43号)")
    if slug == "reasons-missing" and not [r for r in f.reasons if r.strip()]:
        return "需书面说明理由 (written reasons are required)"
    if slug == "emergency-record-incomplete" and not (
            f.emergency_recipient and f.emergency_reason and f.emergency_amount is not None):
        return "需登记救助对象、事由和金额 (record recipient, reason and amount)"
    if (slug == "amount-above-cap" and f.emergency_amount is not None
            and f.emergency_amount > f.emergency_cap):
        return f"急难型临时救助不超过 {f.emergency_cap} 元 (at most {f.emergency_cap} yuan)"
    return None


def _review_check(slug: str, f: Facts) -> str | None:
    if slug == "review-method-missing" and f.review_method not in REVIEW_METHODS:
        return ("请选择复核方式: 入户、系统比对或电话 (choose home visit, system comparison "
                "or phone)")
    if slug == "review-visit-incomplete" and f.review_method == "home_visit" and not (
            f.visit_complete):
        return ("入户复核未完成: 需至少两名调查员签名并经审核通过 (no home visit attested by "
                "the team and approved in review)")
    if (slug == "review-comparison-pending" and f.review_method == "system_comparison"
            and f.economic_check_result is None):
        return "系统比对结果未返回 (the system comparison has no result yet)"
    if slug == "review-findings-missing" and not (f.review_findings or "").strip():
        return "请填写复核情况 (write down what the review found)"
    return None


def _panel_check(slug: str, f: Facts) -> str | None:  # noqa: C901 - one branch per guard
    panel = f.panel
    if slug == "panel-not-drawn":
        return None if f.is_panel_drawn else (
            "需先从评议库抽取评议人员 (draw the panel from the village pool first; 004)")
    if slug == "panel-attendance-invalid":
        return f.panel_attendance_problem
    if slug == "panel-record-missing":
        return None if panel else "需登记民主评议记录 (record the panel: date, who attended)"
    if panel is None:
        return None
    special = f.kind == "special_case"
    minimum = f.special_case_panel_min_members if special else f.panel_min_members
    if slug == "panel-too-small" and panel.members_present < minimum:
        return f"评议人数不少于 {minimum} 人 (at least {minimum} members)"
    if slug == "panel-cadres-missing" and panel.cadres_present < 2:
        return "至少2名乡镇干部参加 (at least 2 township cadres)"
    if slug == "panel-group-leader-missing" and not panel.is_group_leader_present:
        return "申请人所在村民小组组长应参加 (the applicant's group leader attends)"
    if slug == "panel-discipline-officer-missing" and special and not (
            panel.is_discipline_officer_present):
        return "一事一议须有纪检人员在场 (a discipline officer attends a special case)"
    if slug == "panel-held-on-outside-window":
        return held_on_problem(panel.held_on, f.applied_on, f.panel_drawn_on, f.today)
    if (slug == "panel-too-late" and special and f.panel_due_on is not None
            and panel.held_on > f.panel_due_on):
        return f"一事一议须在受理后5个工作日内召开 (by {f.panel_due_on})"
    return None


def guard_problems(transition: Transition, facts: Facts) -> list[tuple[str, str]]:
    """Every rule the move breaks, as (slug, message), in the table's order."""
    found = []
    for slug in transition.guards:
        message = _check(slug, facts)
        if message is not None:
            found.append((slug, message))
    return found


# --- money (003: 按标施保、差额补助) ------------------------------------------------------------

CATEGORIES = ("dibao", "extreme_poverty", "low_income_margin", "special_case", "ineligible")


def classify(per_capita_income: Decimal, standard: Decimal, margin_multiple: Decimal) -> str:
    """Below the standard: dibao; below ``margin_multiple`` × standard: near-allowance
    (低保边缘, national frame 1.5×); otherwise ineligible."""
    if per_capita_income < standard:
        return "dibao"
    if per_capita_income < standard * margin_multiple:
        return "low_income_margin"
    return "ineligible"


def monthly_amount(standard: Decimal, per_capita_income: Decimal, members: int,
                   decimals: int) -> Decimal:
    """(standard − household per-capita income) × members, rounded half up to ``decimals``
    places (the jurisdiction's setting); never below zero."""
    if members < 1:
        raise ValueError("a household has at least one member")
    gap = max(standard - per_capita_income, Decimal(0))
    return (gap * members).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Standard:
    jurisdiction_code: str
    effective_on: date
    monthly_yuan: Decimal


def standard_on(standards: Iterable[Standard], chain_root_first: Sequence[str], on: date
                ) -> Standard | None:
    """The standard in force on ``on``: the nearest place in the chain that has one, its
    latest row with ``effective_on <= on``."""
    rows = list(standards)
    for code in reversed(chain_root_first):
        in_force = [s for s in rows if s.jurisdiction_code == code and s.effective_on <= on]
        if in_force:
            return max(in_force, key=lambda s: s.effective_on)
    return None


def payment_starts_on(approved_on: date) -> date:
    """57号: payment starts the month after approval (the 1st of that month)."""
    return date(approved_on.year + approved_on.month // 12, approved_on.month % 12 + 1, 1)


def monthly_payment_due_on(month: date, pay_day: int = 10) -> date:
    """001: monthly allowances are paid by the 10th of each month."""
    return month.replace(day=pay_day)


# --- deadlines ------------------------------------------------------------------------------

AddWorkingDays = Callable[[date, int], date]


def decision_deadline(kind: str, temporary_subtype: str | None, applied_on: date,
                      settings: dict[str, Any], add_working_days: AddWorkingDays,
                      economic_check_days: int | None) -> date | None:
    """The decision's due date (001/002), extended to the extended deadline (001: at most 30
    working days) when the economic check took more than the trigger (001: 15 days).

    Emergency aid is due by an instant (24 hours), not a date: None here."""
    if kind == "temporary" and temporary_subtype == "emergency":
        return None
    if kind == "temporary":
        return add_working_days(applied_on, settings["temporary_deadline_working_days"])
    days = settings["dibao_deadline_working_days"]
    if (economic_check_days is not None and days >= EXTENDABLE_FROM_WORKING_DAYS
            and economic_check_days > settings["economic_check_extension_trigger_days"]):
        days = max(days, settings["dibao_extended_deadline_working_days"])
    return add_working_days(applied_on, days)


def economic_check_date_problems(requested_at: datetime, returned_at: datetime | None,
                                 now: datetime) -> dict[str, list[str]]:
    """The check is requested, then returned, and neither lies in the future (002: the
    check runs first and in parallel; a date after now or a return before the request is
    a typing error that would move the deadline, 001)."""
    problems: dict[str, list[str]] = {}
    if requested_at > now:
        problems["requested_at"] = ["不能晚于现在 (not in the future)"]
    if returned_at is not None:
        if returned_at > now:
            problems["returned_at"] = ["不能晚于现在 (not in the future)"]
        elif returned_at < requested_at:
            problems["returned_at"] = ["不能早于申请核对的时间 (not before the request)"]
    return problems


def check_took_days(requested_at: datetime | None, returned_at: datetime | None) -> int | None:
    """Whole days the economic check took (001 counts days, 天)."""
    if requested_at is None or returned_at is None:
        return None
    return (returned_at - requested_at) // timedelta(days=1)


# 001 extends its 20 working days to at most 30 when the check took more than 15 days; 002's
# 12 working days have no extension: a township on a shorter deadline never extends to 30.
EXTENDABLE_FROM_WORKING_DAYS = 20
REFUSAL_LETTER_WORKING_DAYS = 3     # 57号: within 3 working days of the decision
TEMPORARY_PAYMENT_WORKING_DAYS = 3  # 001: temporary aid paid within 3 working days
SPECIAL_CASE_FILING_WORKING_DAYS = 3  # 001: filed within 3 working days of approval
EMERGENCY_SIGNATURES_WORKING_DAYS = 5  # 002: signatures completed within 5 working days
EMERGENCY_PAPERWORK_WEEK = timedelta(days=7)  # 001: 一周内补齐相关手续
SPECIAL_CASE_PANEL_WORKING_DAYS = 5  # 001: panel within 5 working days of intake
EMERGENCY_WITHIN = timedelta(hours=24)  # 002


def emergency_signatures_due_on(decided_on: date, within: str,
                                add_working_days: AddWorkingDays) -> date:
    """When emergency aid's record and signatures are due: 5 working days (002) or a
    calendar week (001: 一周内), as the jurisdiction's ``emergency_paperwork_within`` says."""
    if within == "one_week":
        return decided_on + EMERGENCY_PAPERWORK_WEEK
    return add_working_days(decided_on, EMERGENCY_SIGNATURES_WORKING_DAYS)


def emergency_due_at(applied_at: datetime) -> datetime:
    return applied_at.astimezone(UTC) + EMERGENCY_WITHIN


# --- public notice (004/001: 7 days): notice_rules.py ---------------------------------------

notice_ends_on, notice_is_over = notice_rules.notice_ends_on, notice_rules.notice_is_over
age_on, notice_members = notice_rules.age_on, notice_rules.notice_members


# --- extreme poverty self-care (民发〔2021〕43号) ---------------------------------------------

SELF_CARE_ITEMS = ("eats_alone", "dresses_alone", "transfers_alone", "uses_toilet_alone",
                   "walks_indoors_alone", "bathes_alone")


def self_care_level(answers: dict[str, bool]) -> str:
    """43号: all six alone = self_caring; 1-3 not done = partly_unable; 4+ = fully_unable."""
    not_done = sum(1 for item in SELF_CARE_ITEMS if not answers.get(item))
    if not_done == 0:
        return "self_caring"
    return "partly_unable" if not_done <= 3 else "fully_unable"


# --- seeded, reproducible draws -------------------------------------------------------------

# 001 §一: the 30% are drawn from new 低保 and 低边 (near-allowance) cases alike.
SPOT_CHECK_RATIO_KEY = {"dibao": "spot_check_ratio_dibao",
                        "low_income_margin": "spot_check_ratio_dibao",
                        "extreme_poverty": "spot_check_ratio_dibao",
                        "special_case": "spot_check_ratio_dibao",
                        "temporary.expenditure": "spot_check_ratio_temporary",
                        "temporary.emergency": "spot_check_ratio_temporary"}


def is_spot_check_subject(key: str) -> bool:
    """Approval waits on the county's draw for these kinds (001/004: before the decision);
    emergency aid is checked after the fact (it must help within 24 hours)."""
    return key in SPOT_CHECK_RATIO_KEY and key != "temporary.emergency"


@dataclass(frozen=True)
class DrawCandidate:
    case_id: str
    key: str
    is_relative_of_staff: bool


@dataclass(frozen=True)
class DrawResult:
    sampled: dict[str, str] = field(default_factory=dict)  # case id -> why (ratio / relative)
    population_sha256: str = ""


def population_digest(case_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(case_ids)).encode()).hexdigest()


def draw_sample(candidates: Iterable[DrawCandidate], seed: str, ratios: dict[str, float]
                ) -> DrawResult:
    """The county's monthly sample: every relative-of-staff case (004: 100%), then per
    group (dibao-like, temporary) ceil(ratio × group size) of the rest, drawn with
    ``random.Random(seed)`` from the ids in sorted order, so the same seed and population
    always give the same sample (an auditor can redraw it)."""
    pool = sorted(candidates, key=lambda c: c.case_id)
    sampled: dict[str, str] = {c.case_id: "relative_of_staff" for c in pool
                               if c.is_relative_of_staff}
    groups: dict[str, list[DrawCandidate]] = {}
    for c in pool:
        groups.setdefault(SPOT_CHECK_RATIO_KEY.get(c.key, ""), []).append(c)
    rng = random.Random(seed)
    for ratio_key in sorted(groups):
        if not ratio_key:
            continue
        group = groups[ratio_key]
        wanted = math.ceil(ratios[ratio_key] * len(group) - 1e-9)
        already = sum(1 for c in group if c.case_id in sampled)
        rest = [c.case_id for c in group if c.case_id not in sampled]
        for case_id in rng.sample(rest, max(0, min(len(rest), wanted - already))):
            sampled[case_id] = "ratio"
    return DrawResult(sampled, population_digest(c.case_id for c in pool))


@dataclass(frozen=True)
class PoolMember:
    id: str
    role: str  # villager / township_cadre / group_leader / discipline_officer


def draw_panel(pool: Sequence[PoolMember], seed: str, size: int, group_leader_id: str | None,
               with_discipline_officer: bool) -> list[str]:
    """A reproducible panel (004): the group leader, 2 township cadres, a discipline officer
    for a special case (001), then villagers drawn by ``seed`` up to ``size``."""
    rng = random.Random(seed)
    ordered = sorted(pool, key=lambda m: m.id)
    chosen: list[str] = []
    if group_leader_id:
        chosen.append(group_leader_id)
    cadres = [m.id for m in ordered if m.role == "township_cadre"]
    chosen += rng.sample(cadres, min(2, len(cadres)))
    if with_discipline_officer:
        officers = [m.id for m in ordered if m.role == "discipline_officer"]
        chosen += rng.sample(officers, min(1, len(officers)))
    rest = [m.id for m in ordered if m.id not in chosen]
    chosen += rng.sample(rest, max(0, min(len(rest), size - len(chosen))))
    return chosen


def panel_pool_problems(pool: Sequence[PoolMember], pool_min: int, size: int,
                        with_discipline_officer: bool) -> list[str]:
    problems = []
    if len(pool) < pool_min:
        problems.append(f"每村评议库不少于 {pool_min} 人 (the pool needs {pool_min}; 004)")
    if sum(1 for m in pool if m.role == "township_cadre") < 2:
        problems.append("评议库需至少2名乡镇干部 (2 township cadres; 004)")
    if with_discipline_officer and not any(m.role == "discipline_officer" for m in pool):
        problems.append("一事一议需纪检人员 (a discipline officer; 001)")
    if len(pool) < size:
        problems.append(f"评议人数不少于 {size} (a panel of {size})")
    return problems


# --- the panel as held: attendance and the frozen pool are in panel_rules.py -------------


def held_on_problem(held_on: date, applied_on: date | None, drawn_on: date | None,
                    today: date | None) -> str | None:
    """A panel meets after intake and after its draw, and not in the future (its window;
    a special case's upper bound, 5 working days after intake, is panel-too-late, 001)."""
    if applied_on is not None and held_on < applied_on:
        return f"评议日期不得早于受理日期 {applied_on} (never before intake)"
    if drawn_on is not None and held_on < drawn_on:
        return f"评议日期不得早于抽取日期 {drawn_on} (never before the draw)"
    if today is not None and held_on > today:
        return "评议日期不得晚于今天 (not in the future)"
    return None


# --- due lists ------------------------------------------------------------------------------

DUE_SOON_WORKING_DAYS = 3
DUE_SOON_WITHIN = timedelta(days=3)  # an instant deadline (emergency aid, 24 h) runs on holidays


def due_state(due_on: date | None, due_at: datetime | None, today: date, now: datetime,
              add_working_days: AddWorkingDays) -> str:
    """overdue / due_soon / later. A due date is soon within 3 working days, as the
    deadlines themselves are counted (001/002: working days, holidays and make-up workdays
    included); a due instant within 3 days."""
    if due_at is not None:
        if now > due_at:
            return "overdue"
        return "due_soon" if due_at - now <= DUE_SOON_WITHIN else "later"
    if due_on is None:
        return "later"
    if today > due_on:
        return "overdue"
    return "due_soon" if due_on <= add_working_days(today, DUE_SOON_WORKING_DAYS) else "later"
