"""The sensitivity catalogue (pure): every personal field with its mark and where the mark
comes from, and one table saying, per role and purpose, how each mark is shown.

Marks follow the sensitive-information mark (敏感信息标识, §4.1.8) that MZ/T 073-2024
(居民家庭经济状况核对 数据元) gives each economic-check data element, in four grades:

- ``public``: may be published (the public notice's name, members count and amount, 004);
- ``internal``: staff of the case's jurisdiction only (address, relation, housing);
- ``sensitive``: personal information whose leak harms the person (phone, birth date, income,
  property, a position): masked unless the work needs it;
- ``highly_sensitive``: PIPL Art. 28 sensitive personal information (resident ID, health and
  disability, bank account, biometrics): masked by default; seen in full only by an audited
  reveal with a purpose (显示完整号码) or an authorised full export.

Nothing else decides masking: ``backend.privacy.rules.Disclosure`` is read from ``TABLE``.
Packages whose fields are not here yet (complaints and their reporters) add theirs with
``register`` at import time; an unregistered field is shown as ``highly_sensitive``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.auth.rules import (
    ADMIN,
    APPROVER,
    COUNTY_SUPERVISOR,
    FIELD_WORKER,
    INTAKE_CLERK,
    RECIPIENT,
    REVIEWER,
    VILLAGE_ASSISTANT,
)

PUBLIC = "public"
INTERNAL = "internal"
SENSITIVE = "sensitive"
HIGHLY_SENSITIVE = "highly_sensitive"
MARKS = (PUBLIC, INTERNAL, SENSITIVE, HIGHLY_SENSITIVE)

FULL = "full"
MASKED = "masked"
HIDDEN = "hidden"

MZT = "MZ/T 073-2024"


@dataclass(frozen=True)
class Entry:
    mark: str
    source: str


# --- the fields --------------------------------------------------------------------------------

FIELDS: dict[str, Entry] = {
    # Household (家庭基本信息, MZ/T 073-2024 group 1: applicant and household)
    "household.address": Entry(INTERNAL,
                               f"{MZT} group 1, 家庭住址 (internal: known in the village)"),
    "household.home_lat": Entry(SENSITIVE,
                                "a home's position locates a person (PIPL Art. 28, 行踪轨迹)"),
    "household.home_lon": Entry(SENSITIVE,
                                "a home's position locates a person (PIPL Art. 28, 行踪轨迹)"),
    "household.is_relative_of_staff": Entry(INTERNAL,
                                            "近亲属备案 (004): staff of the case only"),
    # Members (家庭成员信息, MZ/T 073-2024 group 1)
    "member.name": Entry(PUBLIC,
                         f"{MZT} group 1, 姓名; published on the public notice (004)"),
    "member.relation": Entry(INTERNAL, f"{MZT} group 1, 与申请人关系"),
    "member.sex": Entry(INTERNAL, f"{MZT} group 1, 性别"),
    "member.age": Entry(INTERNAL, "derived from the birth date in years (ADR 0019)"),
    "member.birth_on": Entry(SENSITIVE,
                             f"{MZT} group 1, 出生日期; rebuilds a masked ID (ADR 0019)"),
    "member.phone": Entry(SENSITIVE,
                          f"{MZT} group 1, 联系电话; DOMAIN.md Identity data"),
    "member.id_number": Entry(HIGHLY_SENSITIVE,
                              f"{MZT} group 1, 公民身份号码 (marked sensitive); PIPL Art. 28"),
    # Payments (MZ/T 073-2024 group 3: property, 银行账户)
    "payment.bank_account": Entry(HIGHLY_SENSITIVE,
                                  f"{MZT} group 3, 银行账号; PIPL Art. 28 金融账户"),
    # Check-ins (003)
    "checkin.captured_at": Entry(INTERNAL, "the time of a check-in (003)"),
    "checkin.outcome": Entry(INTERNAL, "on time or late (003)"),
    "checkin.lat": Entry(SENSITIVE, "where a person was: PIPL Art. 28 行踪轨迹"),
    "checkin.lon": Entry(SENSITIVE, "where a person was: PIPL Art. 28 行踪轨迹"),
    "checkin.photo": Entry(HIGHLY_SENSITIVE, "a face photo: PIPL Art. 28 生物识别"),
    "checkin.face_result": Entry(HIGHLY_SENSITIVE,
                                 "a face-embedding distance: PIPL Art. 28 生物识别, Art. 29"),
    "recipient.phone": Entry(SENSITIVE, f"{MZT} group 1, 联系电话"),
    "recipient.reference_photo": Entry(HIGHLY_SENSITIVE,
                                       "a face photo: PIPL Art. 28 生物识别"),
}

# Survey answers: a field may declare its own ``sensitivity``; otherwise its ``format``
# decides, then its name, then its section, after MZ/T 073-2024's five groups.
ANSWER_FORMATS: dict[str, Entry] = {
    "resident_id": FIELDS["member.id_number"],
    "mobile": FIELDS["member.phone"],
}
ANSWER_NAMES: dict[str, Entry] = {
    "name": FIELDS["member.name"],
    "relation": FIELDS["member.relation"],
    "sex": FIELDS["member.sex"],
    "age": FIELDS["member.age"],
    "health": Entry(HIGHLY_SENSITIVE, f"{MZT} group 1, 健康状况; PIPL Art. 28 医疗健康"),
    "disability_grade": Entry(HIGHLY_SENSITIVE,
                              f"{MZT} group 1, 残疾等级; PIPL Art. 28 医疗健康"),
    "visit_location": Entry(SENSITIVE,
                            "where the visit took place: PIPL Art. 28 行踪轨迹"),
    "house_photo": Entry(INTERNAL, "a photo of the dwelling (evidence, 004)"),
    "notes": Entry(SENSITIVE,
                   "free text may hold anything; numbers in it are masked by shape"),
}
ANSWER_SECTIONS: dict[str, Entry] = {
    "household": Entry(INTERNAL, f"{MZT} group 1, 家庭基本信息"),
    "members": Entry(SENSITIVE, f"{MZT} group 1 and 2, 成员信息 and 收入"),
    "property": Entry(SENSITIVE, f"{MZT} group 3, 财产"),
    "expenditure": Entry(SENSITIVE, f"{MZT} group 4, 支出"),
    "supporters": Entry(SENSITIVE, f"{MZT} group 2, 赡养抚养扶养"),
    "self_care": Entry(HIGHLY_SENSITIVE, "生活自理能力 is health data: PIPL Art. 28"),
    "summary": Entry(SENSITIVE, f"{MZT} group 2, 家庭收入 (derived)"),
}
UNKNOWN = Entry(HIGHLY_SENSITIVE, "not in the catalogue: treated as the most sensitive")


def register(key: str, mark: str, source: str) -> None:
    """A package adds its own fields (complaints, reporters) when it is imported."""
    if mark not in MARKS:
        raise ValueError(f"unknown sensitivity mark {mark!r}")
    FIELDS[key] = Entry(mark, source)


def entry(key: str) -> Entry:
    return FIELDS.get(key, UNKNOWN)


def mark_of(key: str) -> str:
    return entry(key).mark


def answer_entry(section: dict[str, Any], field: dict[str, Any]) -> Entry:
    """The mark of one survey field (``iter_fields``'s section and field)."""
    declared = field.get("sensitivity")
    if declared in MARKS:
        return Entry(declared, "declared in the form definition")
    if field.get("format") in ANSWER_FORMATS:
        return ANSWER_FORMATS[field["format"]]
    if field.get("name") in ANSWER_NAMES:
        return ANSWER_NAMES[field["name"]]
    return ANSWER_SECTIONS.get(section.get("name", ""), UNKNOWN)


# --- who sees what, for which purpose ------------------------------------------------------------

# Purposes a read serves. Desk pages and case views read for ``case_work``; the phone's
# pull is ``phone_pull`` (only what a visit needs, PIPL Art. 6); spreadsheets are
# ``export`` unless an approver authorised a ``full_export``; PDFs ``pdf``; the
# recipient's own view ``own_view``; receivers outside (webhooks, the department feed)
# read under their subscription's purpose.
CASE_WORK = "case_work"
PHONE_PULL = "phone_pull"
EXPORT = "export"
FULL_EXPORT = "full_export"
PDF = "pdf"
OWN_VIEW = "own_view"
REVEAL = "reveal"
JOINT_HANDLING = "joint_handling"
DASHBOARD = "dashboard"
REPORTING = "reporting"
STATISTICS = "statistics"
PURPOSES = (CASE_WORK, PHONE_PULL, EXPORT, FULL_EXPORT, PDF, OWN_VIEW, REVEAL,
            JOINT_HANDLING, DASHBOARD, REPORTING, STATISTICS)

# The roles are auth's (one list of names); a receiver is the catalogue's own.
RECEIVER = "receiver"  # a system outside: a webhook subscription or the department feed
STAFF = (FIELD_WORKER, VILLAGE_ASSISTANT, INTAKE_CLERK, REVIEWER, APPROVER,
         COUNTY_SUPERVISOR, ADMIN)
DECIDING = (INTAKE_CLERK, REVIEWER, APPROVER)


def _row(public: str, internal: str, sensitive: str, highly: str) -> dict[str, str]:
    return {PUBLIC: public, INTERNAL: internal, SENSITIVE: sensitive, HIGHLY_SENSITIVE: highly}


_ALL_FULL = _row(FULL, FULL, FULL, FULL)
_FULL_BUT_HIGHLY = _row(FULL, FULL, FULL, MASKED)
_MASKED_SENSITIVE = _row(FULL, FULL, MASKED, MASKED)
_NOTHING = _row(HIDDEN, HIDDEN, HIDDEN, HIDDEN)

# (role, purpose) -> mark -> how it is shown. A pair not here shows nothing.
TABLE: dict[tuple[str, str], dict[str, str]] = {}
for _role in STAFF:
    # The desk: a resident ID is masked for everyone (seen in full only by a reveal); the
    # phone is shown to those who reach or decide on the household.
    TABLE[(_role, CASE_WORK)] = _FULL_BUT_HIGHLY if _role in (
        FIELD_WORKER, VILLAGE_ASSISTANT, *DECIDING) else _MASKED_SENSITIVE
    # A spreadsheet or a PDF leaves the system: masked whatever the role.
    TABLE[(_role, EXPORT)] = _MASKED_SENSITIVE
    TABLE[(_role, PDF)] = _MASKED_SENSITIVE
    # The phone's pull: what a visit needs (the phone number to reach the household, never
    # a full ID number), and never more than the same person's desk shows. Which cases it
    # carries at all is the team scope (a field worker's assigned visits only).
    TABLE[(_role, PHONE_PULL)] = TABLE[(_role, CASE_WORK)]
for _role in DECIDING:
    # Those who check eligibility against registers may reveal a number with a purpose,
    # and make a full export with an approver's authorisation.
    TABLE[(_role, REVEAL)] = _ALL_FULL
    TABLE[(_role, FULL_EXPORT)] = _ALL_FULL
# A recipient sees their own household: their own numbers are theirs (PIPL Art. 45), but
# a lost phone must not hand over every member's ID number: masked all the same.
TABLE[(RECIPIENT, OWN_VIEW)] = _FULL_BUT_HIGHLY
# Systems outside, by the subscription's purpose (ADR 0014; feeds).
TABLE[(RECEIVER, JOINT_HANDLING)] = _row(FULL, FULL, MASKED, FULL)
TABLE[(RECEIVER, DASHBOARD)] = _row(HIDDEN, FULL, MASKED, MASKED)
TABLE[(RECEIVER, REPORTING)] = _MASKED_SENSITIVE
TABLE[(RECEIVER, STATISTICS)] = _row(HIDDEN, FULL, MASKED, MASKED)

# Reasons a person may give for a reveal (显示完整号码) or a full export.
REVEAL_PURPOSES = (
    "verify_household_register",   # 核对户籍 / 比对登记信息
    "bank_payment_setup",          # 办理银行代发
    "cross_department_check",      # 跨部门核对 (一件事联办)
    "correct_record",              # 更正记录 (a recipient's correction request)
    "contact_household",           # 联系申请人
)


# The purposes' words where no dictionary is at hand (inside an exported file).
REVEAL_PURPOSE_WORDS = {
    "zh-CN": {"verify_household_register": "核对户籍登记", "bank_payment_setup": "办理银行代发",
              "cross_department_check": "跨部门核对", "correct_record": "更正记录",
              "contact_household": "联系申请人"},
    "en": {"verify_household_register": "Check against the household register",
           "bank_payment_setup": "Set up bank payment",
           "cross_department_check": "Cross-department check",
           "correct_record": "Correct a record", "contact_household": "Contact the household"},
}


def shown(roles: frozenset[str] | set[str], purpose: str, mark: str) -> str:
    """How a mark is shown to someone holding ``roles`` for ``purpose``: the most open of
    their roles' cells (a person who is both supervisor and reviewer reads as a reviewer)."""
    order = {HIDDEN: 0, MASKED: 1, FULL: 2}
    best = HIDDEN
    for role in roles:
        cell = TABLE.get((role, purpose), _NOTHING)[mark]
        if order[cell] > order[best]:
            best = cell
    return best


def field_shown(roles: frozenset[str] | set[str], purpose: str, key: str) -> str:
    return shown(roles, purpose, mark_of(key))


def may_reveal(roles: frozenset[str] | set[str], key: str) -> bool:
    return field_shown(roles, REVEAL, key) == FULL


def may_export_full(roles: frozenset[str] | set[str]) -> bool:
    return shown(roles, FULL_EXPORT, HIGHLY_SENSITIVE) == FULL
