"""Pure rules for printable documents: what each one says, and what none may ever say.

``compose(kind, content, lang)`` turns validated content into a ``Document``: a title, an
addressee and a list of blocks (paragraphs, labelled fields, numbered items, a table,
signature lines, the issuing office). The PDF and the HTML page are both drawn from that one
``Document``, so the paper and the screen cannot say different things.

``identity_numbers_in(content)`` is the last guard before anything is printed: no string of
a document may look like an 18-character resident ID or an 11-digit mobile number
(DOMAIN.md, Identity data; a public notice holds only the applicant's name, the household
members and the proposed amount, 004). The schemas already refuse unknown keys; this catches
a number typed into a free-text field (a reason, an item, a contact).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

KINDS = ("missing_documents_notice", "public_notice", "refusal_letter", "stop_notice",
         "approval_notice", "emergency_record", "approval_public_notice", "standing_notice")
# 004's three notices: review stage (public_notice), approval stage, standing (长期公示).
NOTICE_KINDS = ("public_notice", "approval_public_notice", "standing_notice")
FORMATS = ("pdf", "html")
LANGS = ("zh-CN", "en")
CATEGORIES = ("dibao", "low_income_margin", "extreme_poverty", "special_case", "temporary")
# Temporary aid is paid once, not monthly.
ONE_OFF_CATEGORIES = ("temporary",)
# households.rules.RELATIONS, shown in words; any other relation text is printed as given.
RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "sibling", "other")
# Emergency aid (急难型) from the township reserve: at most 5,000 yuan (001: 最高不超过5000元).
EMERGENCY_CAP_YUAN = Decimal(5000)

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991

# Shapes inside longer text, not glued to other digits or letters (a UUID or a hash is not
# an ID). Separators people type inside numbers (spaces, hyphens, dots) are removed first.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9][0-9]{9}(?![0-9A-Za-z])")
_SEPARATOR_IN_NUMBER = re.compile(r"(?<=[0-9])[\s\-.\u00a0\u3000]+(?=[0-9Xx])")


# ----------------------------------------------------------------------------- guard

def identity_numbers_in(content: Any, path: str = "") -> dict[str, str]:
    """``{"reasons.1": "resident_id"}``: every string of ``content`` that holds something
    shaped like a resident ID or a mobile number, by its path. Empty means printable."""
    found: dict[str, str] = {}
    if isinstance(content, Mapping):
        for key, value in content.items():
            found.update(identity_numbers_in(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(content, list | tuple):
        for index, value in enumerate(content):
            found.update(identity_numbers_in(value, f"{path}.{index}" if path else str(index)))
    elif isinstance(content, str | int) and not isinstance(content, bool):
        kind = _identity_shape(str(content))
        if kind:
            found[path] = kind
    return found


def _identity_shape(text: str) -> str | None:
    for candidate in (text, _SEPARATOR_IN_NUMBER.sub("", text)):
        if _RESIDENT_ID.search(candidate):
            return "resident_id"
        if _MOBILE.search(candidate):
            return "mobile"
    return None


# ----------------------------------------------------------------------------- words

def yuan(amount: Decimal) -> str:
    """``1,234.50``: two decimals, thousands grouped."""
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def yuan_in_capitals(amount: Decimal) -> str:
    """The amount as written on Chinese financial papers (大写): 1234.50 ->
    ``壹仟贰佰叁拾肆元伍角整``; 5000 -> ``伍仟元整``; 0.05 -> ``伍分``."""
    cents = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if cents < 0:
        raise ValueError("negative amount")
    whole, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    text = _integer_in_capitals(whole) + "元" if whole else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen and whole:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text if text != "整" else "零元整"


def _integer_in_capitals(number: int) -> str:
    groups: list[int] = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    text = ""
    needs_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            needs_zero = bool(text)
            continue
        if text and (needs_zero or group < 1000):
            text += "零"
        text += _group_in_capitals(group) + _BIG_UNITS[index]
        needs_zero = False
    return text


def _group_in_capitals(group: int) -> str:
    text = ""
    zero_pending = False
    for position in range(3, -1, -1):
        digit = group // 10 ** position % 10
        if digit == 0:
            zero_pending = bool(text)
            continue
        if zero_pending:
            text += "零"
            zero_pending = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def long_date(day: date, lang: str) -> str:
    if lang == "en":
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"


def long_instant(instant: datetime, lang: str) -> str:
    """An aware instant as Beijing time (the office's clock), minutes precision."""
    local = instant.astimezone(CHINA)
    if lang == "en":
        return local.strftime("%Y-%m-%d %H:%M") + " (Beijing time)"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "missing_documents_notice": "社会救助申请材料一次性告知书",
        "public_notice": "{category}拟批准对象公示",
        "approval_public_notice": "{category}审批结果公示",
        "standing_notice": "{village}社会救助对象长期公示（{month}）",
        "refusal_letter": "社会救助申请不予批准告知书",
        "stop_notice": "停止发放社会救助金告知书",
        "approval_notice": "社会救助批准通知书",
        "emergency_record": "急难型临时救助记录",
        "dibao": "最低生活保障", "low_income_margin": "低保边缘家庭",
        "extreme_poverty": "特困人员救助供养", "temporary": "临时救助",
        "special_case": "社会救助（一事一议）",
        "head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母",
        "grandchild": "孙子女", "sibling": "兄弟姐妹", "other": "其他",
        "case_no": "受理编号", "applicant": "申请人", "recipient": "救助对象",
        "category": "救助类别", "monthly_amount": "月救助金额", "members_count": "保障人数",
        "payment_starts_on": "发放起始日期", "reason": "救助事由", "amount": "救助金额",
        "decided_at": "决定时间", "signatures_due_on": "补齐签字期限",
        "name": "姓名", "relation": "与申请人关系", "members": "家庭成员",
        "persons": "{n}人", "yuan": "{amount}元", "yuan_month": "{amount}元/月",
        "capitals": "（大写：人民币{capitals}）",
        "dear": "{name}：",
        "missing_intro": "您在{township}提出的社会救助申请（受理编号：{case_no}）尚缺下列材料。"
                         "现一次性告知如下，请备齐后一并提交：",
        "missing_outro": "材料补齐后，我们将继续办理您的申请，不会以其他未告知的材料为由要求补正。"
                         "如有疑问，请向受理窗口咨询。",
        "notice_intro": "经{village}申请、{township}审核，以下家庭拟纳入{category}，现予公示。",
        "notice_period": "公示期：{starts_on}至{ends_on}。",
        "approval_notice_intro": "经{township}审核确认，以下{village}家庭已纳入{category}，"
                                 "现将审批结果予以公示。",
        "standing_intro": "现将{village}当前享受社会救助的家庭公示如下，接受群众监督。",
        "standing_empty": "本月本村（社区）无享受社会救助的家庭。",
        "standing_objection": "任何单位和个人如有异议，请通过以下方式反映：{contact}。",
        "standing_month": "{year}年{month}月",
        "notice_objection": "公示期内，任何单位和个人如有异议，请通过以下方式反映：{contact}。",
        "notice_privacy": "本公示仅用于社会救助审核监督，请勿摘抄、转发或用于其他用途。",
        "refusal_intro": "您的社会救助申请（受理编号：{case_no}）经审核，决定不予批准。理由如下：",
        "stop_intro": "经复核，决定停止发放您家庭的社会救助金（受理编号：{case_no}）。理由如下：",
        # 复查: the applicant's re-examination (002); 复核 is the periodic review (动态管理).
        "reexamination": "如对本决定有异议，可自收到本告知书之日起向{office}申请复查。",
        "approval_intro": "您的社会救助申请（受理编号：{case_no}）经审核确认，决定予以批准。",
        "approval_outro": "救助金按月发放至您的账户。家庭人口、收入或财产发生变化时，"
                          "请及时告知乡镇（街道）。",
        "approval_outro_one_off": "救助金一次性发放至您的账户。",
        "emergency_intro": "依照急难型临时救助先行救助的规定，作出以下救助决定：",
        "emergency_outro": "请于{due}前补齐相关签字手续。",
        "sign_handler": "经办人（签字）", "sign_recipient": "救助对象（签字）",
        "sign_leader": "审批人（签字）", "seal": "（盖章）",
    },
    "en": {
        "missing_documents_notice": "Notice of missing documents (listed all at once)",
        "public_notice": "Public notice: proposed recipients of {category}",
        "approval_public_notice": "Public notice: approved recipients of {category}",
        "standing_notice": "Standing notice of recipients in {village} ({month})",
        "refusal_letter": "Notice of refusal",
        "stop_notice": "Notice of stopping payment",
        "approval_notice": "Notice of approval",
        "emergency_record": "Emergency aid record",
        "dibao": "minimum living allowance (dibao)",
        "low_income_margin": "near-allowance household support",
        "extreme_poverty": "extreme-poverty support", "temporary": "temporary aid",
        "special_case": "social assistance (special case)",
        "head": "head of household", "spouse": "spouse", "child": "child", "parent": "parent",
        "grandchild": "grandchild", "sibling": "sibling", "other": "other",
        "case_no": "Case number", "applicant": "Applicant", "recipient": "Recipient",
        "category": "Category", "monthly_amount": "Monthly amount",
        "members_count": "Members covered", "payment_starts_on": "Payment starts on",
        "reason": "Reason", "amount": "Amount", "decided_at": "Decided at",
        "signatures_due_on": "Signatures due by",
        "name": "Name", "relation": "Relation to applicant", "members": "Household members",
        "persons": "{n}", "yuan": "{amount} yuan", "yuan_month": "{amount} yuan a month",
        "capitals": "(in words: RMB {capitals})",
        "dear": "To {name},",
        "missing_intro": "Your application for social assistance at {township} (case number "
                         "{case_no}) lacks the documents below. They are all listed here at "
                         "once; please bring them together:",
        "missing_outro": "Once they are complete we will carry on with your application and "
                         "ask for nothing that is not listed here. The intake desk answers "
                         "questions.",
        "notice_intro": "On the application through {village}, reviewed by {township}, the "
                        "household below is proposed for {category}. This notice is public.",
        "notice_period": "Notice period: {starts_on} to {ends_on}.",
        "approval_notice_intro": "Approved by {township}: the household of {village} below "
                                 "receives {category}. This notice makes the decision public.",
        "standing_intro": "The households of {village} that receive social assistance now, "
                          "posted for everyone to see.",
        "standing_empty": "No household of this village receives social assistance this month.",
        "standing_objection": "Anyone who objects may say so: {contact}.",
        "standing_month": "{year}-{month:02d}",
        "notice_objection": "Anyone who objects during the notice period may say so: "
                            "{contact}.",
        "notice_privacy": "This notice serves only the review of social assistance; do not "
                          "copy, forward or use it for anything else.",
        "refusal_intro": "Your application for social assistance (case number {case_no}) was "
                         "reviewed and is refused, for these reasons:",
        "stop_intro": "After review, payment of social assistance to your household (number "
                      "{case_no}) stops, for these reasons:",
        "reexamination": "If you disagree with this decision, you may ask {office} to "
                         "re-examine it, from the day you receive this notice.",
        "approval_intro": "Your application for social assistance (case number {case_no}) is "
                          "approved.",
        "approval_outro": "The allowance is paid monthly to your account. Tell the township "
                          "when the household's members, income or property change.",
        "approval_outro_one_off": "The aid is paid once to your account.",
        "emergency_intro": "Under the emergency-aid fast track (help first), this aid was "
                           "decided:",
        "emergency_outro": "Signatures are to be completed by {due}.",
        "sign_handler": "Handled by (signature)", "sign_recipient": "Recipient (signature)",
        "sign_leader": "Approved by (signature)", "seal": "(seal)",
    },
}


def words(lang: str) -> dict[str, str]:
    return _WORDS[lang]


# ----------------------------------------------------------------------------- documents

@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Fields:
    """Labelled values, one per row."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Items:
    """A numbered list (missing documents, reasons)."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class SignatureLines:
    """Blank lines for hand signatures."""

    labels: tuple[str, ...]


Block = Paragraph | Fields | Items | Table | SignatureLines


@dataclass(frozen=True)
class Document:
    kind: str
    lang: str
    title: str
    addressee: str
    blocks: tuple[Block, ...]
    office: str
    dated: str
    blocks_after_office: tuple[Block, ...] = field(default=())

    def text_lines(self) -> list[str]:
        """Every piece of text the document shows, in reading order (for tests and search)."""
        lines = [self.title, self.addressee]
        for block in (*self.blocks, *self.blocks_after_office):
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Fields):
                lines.extend(f"{label} {value}" for label, value in block.rows)
            elif isinstance(block, Items):
                lines.extend(block.items)
            elif isinstance(block, Table):
                lines.extend([block.caption, *block.headers])
                lines.extend(" ".join(row) for row in block.rows)
            else:
                lines.extend(block.labels)
        lines.extend([self.office, self.dated])
        return [line for line in lines if line]


def compose(kind: str, content: Mapping[str, Any], lang: str = "zh-CN") -> Document:
    """The document ``kind`` says for already validated ``content`` (see schemas)."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    return _COMPOSERS[kind](content, lang)


def _relation(relation: str, w: dict[str, str]) -> str:
    return w[relation] if relation in RELATIONS else relation


def _missing_documents(c: Mapping[str, Any], lang: str) -> Document:
    w = words(lang)
    return Document(
        kind="missing_documents_notice", lang=lang, title=w["missing_documents_notice"],
        addressee=w["dear"].format(name=c["applicant_name"]),
        blocks=(Paragraph(w["missing_intro"].format(township=c["township"],
                                                    case_no=c["case_no"])),
                Items(tuple(c["items"])),
                Paragraph(w["missing_outro"])),
        office=c["office"], dated=long_date(c["issued_on"], lang))


def _public_notice(c: Mapping[str, Any], lang: str,
                   kind: str = "public_notice") -> Document:
    """The review-stage notice (审核公示) or, with ``kind="approval_public_notice"``, the
    approval-stage one (审批公示, 004); the same content, limited by 004."""
    w = words(lang)
    category = w[c["category"]]
    amount = w["yuan_month"].format(amount=yuan(c["monthly_amount_yuan"]))
    intro = "notice_intro" if kind == "public_notice" else "approval_notice_intro"
    return Document(
        kind=kind, lang=lang, title=w[kind].format(category=category),
        addressee="",
        blocks=(Paragraph(w[intro].format(village=c["village"], township=c["township"],
                                          category=category)),
                Fields(((w["applicant"], c["applicant_name"]), (w["category"], category),
                        (w["monthly_amount"], amount))),
                Table(caption=w["members"], headers=(w["name"], w["relation"]),
                      rows=tuple((m["name"], _relation(m["relation"], w))
                                 for m in c["members"])),
                Paragraph(w["notice_period"].format(starts_on=long_date(c["starts_on"], lang),
                                                    ends_on=long_date(c["ends_on"], lang))),
                Paragraph(w["notice_objection"].format(contact=c["objection_contact"])),
                Paragraph(w["notice_privacy"])),
        office=c["township"], dated=long_date(c["starts_on"], lang))


def _approval_public_notice(c: Mapping[str, Any], lang: str) -> Document:
    return _public_notice(c, lang, "approval_public_notice")


def _standing_notice(c: Mapping[str, Any], lang: str) -> Document:
    """长期公示 (004): every current recipient household of one village, for one month:
    the applicant's name, the adult members and the monthly amount, nothing else."""
    w = words(lang)
    month: date = c["month"]
    shown_month = w["standing_month"].format(year=month.year, month=month.month)
    rows = tuple((r["applicant_name"], "、".join(r["members"]) if lang == "zh-CN"
                  else ", ".join(r["members"]), w[r["category"]],
                  w["yuan_month"].format(amount=yuan(r["monthly_amount_yuan"])))
                 for r in c["recipients"])
    listing: tuple[Block, ...] = (
        Table(headers=(w["applicant"], w["members"], w["category"], w["monthly_amount"]),
              rows=rows),) if rows else (Paragraph(w["standing_empty"]),)
    return Document(
        kind="standing_notice", lang=lang,
        title=w["standing_notice"].format(village=c["village"], month=shown_month),
        addressee="",
        blocks=(Paragraph(w["standing_intro"].format(village=c["village"])), *listing,
                Paragraph(w["standing_objection"].format(contact=c["objection_contact"])),
                Paragraph(w["notice_privacy"])),
        office=c["township"], dated=long_date(c["issued_on"], lang))


def _written_reasons(kind: str, intro: str, c: Mapping[str, Any], lang: str) -> Document:
    w = words(lang)
    return Document(
        kind=kind, lang=lang, title=w[kind], addressee=w["dear"].format(name=c["applicant_name"]),
        blocks=(Paragraph(w[intro].format(case_no=c["case_no"])),
                Items(tuple(c["reasons"])),
                Paragraph(w["reexamination"].format(office=c["reexamination_office"]))),
        office=c["office"], dated=long_date(c["decided_on"], lang))


def _refusal(c: Mapping[str, Any], lang: str) -> Document:
    return _written_reasons("refusal_letter", "refusal_intro", c, lang)


def _stop(c: Mapping[str, Any], lang: str) -> Document:
    return _written_reasons("stop_notice", "stop_intro", c, lang)


def _approval(c: Mapping[str, Any], lang: str) -> Document:
    w = words(lang)
    amount: Decimal = c["monthly_amount_yuan"]
    one_off = c["category"] in ONE_OFF_CATEGORIES
    shown = w["yuan" if one_off else "yuan_month"].format(amount=yuan(amount))
    if lang == "zh-CN":
        shown += w["capitals"].format(capitals=yuan_in_capitals(amount))
    decided_on = c.get("decided_on")
    return Document(
        kind="approval_notice", lang=lang, title=w["approval_notice"],
        addressee=w["dear"].format(name=c["applicant_name"]),
        blocks=(Paragraph(w["approval_intro"].format(case_no=c["case_no"])),
                Fields(((w["category"], w[c["category"]]),
                        (w["members_count"], w["persons"].format(n=c["members_count"])),
                        (w["amount" if one_off else "monthly_amount"], shown),
                        (w["payment_starts_on"], long_date(c["payment_starts_on"], lang)))),
                Paragraph(w["approval_outro_one_off" if one_off else "approval_outro"])),
        office=c["office"], dated=long_date(decided_on, lang) if decided_on else "")


def _emergency(c: Mapping[str, Any], lang: str) -> Document:
    w = words(lang)
    amount: Decimal = c["amount_yuan"]
    shown = w["yuan"].format(amount=yuan(amount))
    if lang == "zh-CN":
        shown += w["capitals"].format(capitals=yuan_in_capitals(amount))
    decided_at: datetime | None = c.get("decided_at")
    decided_on: date = (decided_at.astimezone(CHINA).date() if decided_at is not None
                        else c["decided_on"])
    decided = long_instant(decided_at, lang) if decided_at is not None \
        else long_date(decided_on, lang)
    return Document(
        kind="emergency_record", lang=lang, title=w["emergency_record"], addressee="",
        blocks=(Paragraph(w["emergency_intro"]),
                Fields(((w["case_no"], c["case_no"]), (w["recipient"], c["recipient_name"]),
                        (w["reason"], c["reason"]), (w["amount"], shown),
                        (w["decided_at"], decided),
                        (w["signatures_due_on"], long_date(c["signatures_due_on"], lang)))),
                Paragraph(w["emergency_outro"].format(
                    due=long_date(c["signatures_due_on"], lang)))),
        office=c["office"], dated=long_date(decided_on, lang),
        blocks_after_office=(SignatureLines((w["sign_handler"], w["sign_recipient"],
                                             w["sign_leader"])),))


_COMPOSERS = {
    "missing_documents_notice": _missing_documents,
    "public_notice": _public_notice,
    "refusal_letter": _refusal,
    "stop_notice": _stop,
    "approval_notice": _approval,
    "emergency_record": _emergency,
    "approval_public_notice": _approval_public_notice,
    "standing_notice": _standing_notice,
}
