"""Pure rules of the review exports (issue 10): the columns of the visits and members sheets,
one visit's cells from its (already masked) answers, and the CSV cell guard.

The answers handed in are masked for the caller by backend.privacy exactly as the evidence
view masks them; nothing here unmasks or re-reads a number.

No Flask, no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

Cell = str | int | float | bool | None

# (key, zh-CN header, en header)
VISIT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("visit_id", "入户编号", "Visit ID"),
    ("case_no", "受理编号", "Case number"),
    ("case_id", "案件ID", "Case ID"),
    ("household_id", "家庭编号", "Household ID"),
    ("village_code", "村（社区）代码", "Village code"),
    ("village", "村（社区）", "Village"),
    ("state", "审核状态", "Review state"),
    ("revision", "版本", "Revision"),
    ("risk", "风险分", "Risk score"),
    ("flags", "异常标记", "Integrity flags"),
    ("team", "调查人员", "Visit team"),
    ("received_at", "接收时间", "Received at"),
    ("age_days", "已等待天数", "Days waiting"),
    ("started_at", "开始时间", "Started at"),
    ("ended_at", "结束时间", "Ended at"),
    ("duration_minutes", "入户时长（分钟）", "Duration (minutes)"),
    ("times_sent_back", "退回次数", "Times sent back"),
    ("head_name", "户主姓名", "Head of household"),
    ("head_id_number", "户主身份证号", "Head's resident ID"),
    ("contact_mobile", "联系电话", "Contact mobile"),
    ("actual_address", "实际居住地址", "Actual address"),
    ("member_count", "家庭人口", "Members"),
    ("housing_type", "住房类型", "Housing type"),
    ("housing_area", "住房面积（㎡）", "Housing area (m²)"),
    ("deposits", "存款（元）", "Deposits (yuan)"),
    ("household_monthly_income", "家庭月收入（元）", "Household monthly income (yuan)"),
    ("per_capita_monthly_income", "人均月收入（元）", "Per-capita monthly income (yuan)"),
    ("notes", "备注", "Notes"),
)
MEMBER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("visit_id", "入户编号", "Visit ID"),
    ("village_code", "村（社区）代码", "Village code"),
    ("row", "序号", "Row"),
    ("name", "姓名", "Name"),
    ("relation", "与户主关系", "Relation"),
    ("id_number", "身份证号", "Resident ID"),
    ("sex", "性别", "Sex"),
    ("age", "年龄", "Age"),
    ("health", "健康状况", "Health"),
    ("disability_grade", "残疾等级", "Disability grade"),
    ("work_status", "就业状况", "Work status"),
    ("income_wages", "工资性收入", "Wages"),
    ("income_business", "经营净收入", "Net business income"),
    ("income_property", "财产净收入", "Net property income"),
    ("income_transfer", "转移净收入", "Net transfer income"),
)
SHEET_NAMES = {"zh-CN": ("入户", "家庭成员"), "en": ("Visits", "Members")}


def headers(columns: Sequence[tuple[str, str, str]], language: str) -> list[str]:
    return [zh if language == "zh-CN" else en for _, zh, en in columns]


@dataclass(frozen=True)
class ExportVisit:
    """One review row with what the export shows of it; ``answers`` and ``computed`` are
    already masked for the caller."""

    submission_id: str
    case_id: str
    household_id: str
    village_code: str
    village_name: str
    state: str
    revision: int
    risk: int
    flag_codes: Sequence[str]
    team_names: Sequence[str]
    received_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    times_sent_back: int
    answers: Mapping[str, Any]
    computed: Mapping[str, Any]
    case_no: str | None = None  # the number people read (文屏〔2026〕低保第 0012 号)


@dataclass(frozen=True)
class ExportWords:
    """What the export writes instead of slugs, in the reader's language: review states,
    flags and severities from the desk's language file, choices from the form definition's
    labels (``housing_type`` → {"owned": "自有住房"}; a member's as ``members.relation``)."""

    states: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, str] = field(default_factory=dict)
    severities: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    separator: str = "、"

    def choice(self, name: str, value: Any) -> Cell:
        labels = self.choices.get(name, {})
        if isinstance(value, list):
            return self.separator.join(str(labels.get(v, v)) for v in value)
        return labels.get(value, value) if isinstance(value, str) else _scalar(value)

    def risk(self, score: int) -> str | None:
        """The risk score (alerts × 10,000 + warnings × 100 + infos) as counts in words:
        ``警报 2、警告 1``; None when there is nothing."""
        counts = (("alert", score // 10_000), ("warning", score % 10_000 // 100),
                  ("info", score % 100))
        parts = [f"{self.severities.get(kind, kind)} {n}" for kind, n in counts if n]
        return self.separator.join(parts) or None


# Choice fields of a member row, by their column (the form's field of the members group).
MEMBER_CHOICE_COLUMNS = ("relation", "sex", "health", "work_status", "education",
                         "marital_status")


def local_text(moment: datetime | None, zone: tzinfo) -> str | None:
    """``2026-12-02 16:05`` in ``zone`` (Asia/Shanghai for people; UTC is stored)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else None


def _scalar(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _members(answers: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = answers.get("members")
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def visit_cells(visit: ExportVisit, now: datetime, zone: tzinfo,
                words: ExportWords | None = None) -> list[Cell]:
    """The visits sheet's row, in VISIT_COLUMNS order, every value in ``words``."""
    words = words or ExportWords()
    members = _members(visit.answers)
    head = next((m for m in members if m.get("relation") == "head"),
                members[0] if members else {})
    minutes = None
    if visit.started_at and visit.ended_at and visit.ended_at >= visit.started_at:
        minutes = round((visit.ended_at - visit.started_at).total_seconds() / 60)
    values: dict[str, Cell] = {
        "visit_id": visit.submission_id, "case_no": visit.case_no, "case_id": visit.case_id,
        "household_id": visit.household_id, "village_code": visit.village_code,
        "village": visit.village_name,
        "state": words.states.get(visit.state, visit.state), "revision": visit.revision,
        "risk": words.risk(visit.risk),
        "flags": words.separator.join(words.flags.get(c, c) for c in visit.flag_codes),
        "team": "、".join(visit.team_names),
        "received_at": local_text(visit.received_at, zone),
        "age_days": max(0, (now - visit.received_at).days),
        "started_at": local_text(visit.started_at, zone),
        "ended_at": local_text(visit.ended_at, zone), "duration_minutes": minutes,
        "times_sent_back": visit.times_sent_back,
        "head_name": _scalar(head.get("name")), "head_id_number": _scalar(head.get("id_number")),
        "contact_mobile": _scalar(visit.answers.get("contact_mobile")),
        "actual_address": _scalar(visit.answers.get("actual_address")),
        "member_count": _scalar(visit.computed.get("member_count", len(members) or None)),
        "housing_type": words.choice("housing_type", visit.answers.get("housing_type")),
        "housing_area": _scalar(visit.answers.get("housing_area")),
        "deposits": _scalar(visit.answers.get("deposits")),
        "household_monthly_income": _scalar(visit.computed.get("household_monthly_income")),
        "per_capita_monthly_income": _scalar(visit.computed.get("per_capita_monthly_income")),
        "notes": _scalar(visit.answers.get("notes")),
    }
    return [values[key] for key, _, _ in VISIT_COLUMNS]


def member_cells(visit: ExportVisit, words: ExportWords | None = None) -> list[list[Cell]]:
    """The members sheet's rows of one visit, in MEMBER_COLUMNS order; ``row`` is the index
    a review comment names (``members[row].field``)."""
    words = words or ExportWords()
    rows = []
    for index, member in enumerate(_members(visit.answers)):
        values = {key: words.choice(f"members.{key}", member.get(key))
                  if key in MEMBER_CHOICE_COLUMNS else _scalar(member.get(key))
                  for key, _, _ in MEMBER_COLUMNS}
        values.update(visit_id=visit.submission_id, village_code=visit.village_code, row=index)
        rows.append([values[key] for key, _, _ in MEMBER_COLUMNS])
    return rows


AUTHORISATION_SHEET = {"zh-CN": "导出授权", "en": "Authorisation"}
_AUTHORISATION_LABELS = {
    "zh-CN": ("完整导出（未脱敏）", "导出人", "导出时间", "授权人", "授权时间", "用途", "授权编号"),
    "en": ("Full export (not masked)", "Made by", "Made at", "Authorised by", "Authorised at",
           "Purpose", "Authorisation"),
}


def authorisation_rows(language: str, made_by: str, made_at: datetime, approver: str,
                       authorised_at: datetime, purpose_words: str, authorisation_id: str,
                       zone: tzinfo) -> list[list[str]]:
    """What a full export says about itself, inside the file: who made it and when, who
    authorised it, why (PIPL Art. 51; the file outlives the audit row's context)."""
    labels = _AUTHORISATION_LABELS[language]

    def shown(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return [[labels[0]], [labels[1], made_by], [labels[2], shown(made_at)],
            [labels[3], approver], [labels[4], shown(authorised_at)],
            [labels[5], purpose_words], [labels[6], authorisation_id]]
