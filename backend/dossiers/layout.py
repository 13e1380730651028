"""The dossier as plain data (pure: no Flask, no database): sections of blocks, and the
words the printed file uses. ``contents.gather`` fills it; ``pdf.render`` draws it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from backend.dossiers.rules import PlotPoint, beijing


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # 1: a visit or a case inside a section; 2: a part of it


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Fields:
    rows: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Grid:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    small: bool = False


@dataclass(frozen=True)
class Photos:
    items: Sequence[tuple[bytes, str]]  # (JPEG thumbnail, caption)


@dataclass(frozen=True)
class Plot:
    points: Sequence[PlotPoint]
    rings_m: Sequence[float]
    has_home: bool


Block = Heading | Para | Fields | Grid | Photos | Plot


@dataclass
class Section:
    title: str
    blocks: list[Block]


@dataclass
class Dossier:
    lang: str
    title: str
    case_no: str
    household_name: str
    generated_by: str
    generated_at: datetime
    sections: list[Section] = field(default_factory=list)

    def footer(self, page: int, pages: int) -> str:
        w = words(self.lang)
        return w["footer"].format(who=self.generated_by, at=beijing(self.generated_at)[:16],
                                  page=page, pages=pages)

    def text_pieces(self) -> Iterator[str]:
        """Every string the PDF prints (the embedded font holds exactly these characters)."""
        w = words(self.lang)
        yield from (self.title, self.case_no, self.household_name, self.generated_by,
                    self.footer(0, 0), w["contents"], w["cover_case"], w["cover_household"],
                    w["cover_generated"], w["home"], w["metres"], "0123456789")
        for section in self.sections:
            yield section.title
            for block in section.blocks:
                if isinstance(block, Heading | Para):
                    yield block.text
                elif isinstance(block, Fields):
                    for label, value in block.rows:
                        yield label
                        yield value
                elif isinstance(block, Grid):
                    yield from block.headers
                    for row in block.rows:
                        yield from row
                elif isinstance(block, Photos):
                    yield from (caption for _, caption in block.items)
                elif isinstance(block, Plot):
                    yield from (p.label for p in block.points)


_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "社会救助家庭档案（一户一档）", "contents": "目录",
        "cover_case": "案件编号", "cover_household": "户主", "cover_generated": "生成",
        "footer": "由 {who} 于 {at}（北京时间）生成 · 第 {page} 页 / 共 {pages} 页",
        "household": "家庭基本情况", "head": "户主", "village": "所在村（社区）",
        "address": "住址", "cases": "案件", "name": "姓名", "relation": "与户主关系",
        "id_number": "身份证号", "age": "年龄",
        "application": "申请及承诺", "visits": "入户调查", "economic_check": "经济状况核对",
        "panel": "民主评议记录", "notices": "公示", "decision": "审批决定",
        "periodic_reviews": "动态管理复核", "checkins": "签到记录", "complaints": "投诉举报",
        "audit": "办理留痕（审计链）",
        "case_no": "案件编号", "visit_n": "第 {n} 次入户调查", "started": "开始",
        "ended": "结束", "received": "服务器收到", "team": "调查人员", "answers": "调查内容",
        "photos": "现场照片（带水印）", "photo_n": "照片 {n} · {sha}", "photo_short": "照{n}",
        "map": "定位与登记住址", "map_note": "示意图：以登记住址为中心，圆圈为 250、500、1000 米；"
        "未使用在线地图。", "stamp_start": "开始", "stamp_end": "结束",
        "signatures": "调查人员签名（设备签名）", "signer": "签名人", "key": "密钥",
        "signed_at": "签名时间", "valid": "签名有效", "no_signatures": "尚无签名。",
        "flags": "完整性提示", "severity": "级别", "flag": "提示", "detail": "说明",
        "no_flags": "没有完整性提示。", "yes": "是", "no": "否", "none": "无。", "sep": "、",
        "pledge": "诚信承诺书", "pledge_by": "承诺登记", "authorization": "核对授权书",
        "authorization_by": "授权登记", "missing_documents": "待补材料",
        "requested_at": "提请核对时间", "returned_at": "核对结果返回", "result": "核对结果",
        "panel_members": "评议人员", "panel_record": "评议记录",
        "notice_round": "公示轮次", "notice_period": "公示期", "objections": "异议",
        "status": "状态", "decided_at": "决定时间", "decided_by": "审批人",
        "monthly_amount": "月救助金额（元）", "members_count": "保障人数",
        "reasons": "理由", "payment_starts_on": "发放起始日期",
        "opened_at": "发起时间", "captured_at": "签到时间", "outcome": "结果",
        "outcome_on_time": "按时", "outcome_late": "逾期", "proxy": "代签",
        "flagged": "有提示", "at": "时间", "complaint": "内容",
        "seq": "序号", "action": "操作", "actor": "操作人", "prev_hash": "前一哈希",
        "row_hash": "本行哈希", "system": "系统", "other_action": "其他操作",
        "audit_note": "每行的哈希连接前一行，任何删改都会使其后的哈希对不上。",
        "home": "登记住址", "metres": "米",
    },
    "en": {
        "title": "Household file (one household, one file)", "contents": "Contents",
        "cover_case": "Case number", "cover_household": "Head of household",
        "cover_generated": "Generated",
        "footer": "Generated by {who} at {at} (Beijing time) · page {page} of {pages}",
        "household": "Household", "head": "Head", "village": "Village", "address": "Address",
        "cases": "Cases", "name": "Name", "relation": "Relation", "id_number": "ID number",
        "age": "Age", "application": "Application and pledge", "visits": "Home visits",
        "economic_check": "Economic check", "panel": "Panel record", "notices": "Notices",
        "decision": "Decision", "periodic_reviews": "Periodic reviews",
        "checkins": "Check-in history", "complaints": "Complaints",
        "audit": "Audit trail (hash chain)",
        "case_no": "Case number", "visit_n": "Home visit {n}", "started": "Started",
        "ended": "Ended", "received": "Server received", "team": "Investigators",
        "answers": "Answers", "photos": "Photos (watermarked)", "photo_n": "Photo {n} · {sha}",
        "photo_short": "P{n}", "map": "Stamps against the registered home",
        "map_note": "Drawn plot centred on the registered home, rings at 250, 500 and "
                    "1,000 m; no map tiles are used.", "stamp_start": "start",
        "stamp_end": "end", "signatures": "Investigators' signatures (device keys)",
        "signer": "Signer", "key": "Key", "signed_at": "Signed at", "valid": "Valid",
        "no_signatures": "No signatures yet.", "flags": "Integrity flags",
        "severity": "Severity", "flag": "Flag", "detail": "Detail",
        "no_flags": "No integrity flags.", "yes": "yes", "no": "no", "none": "None.",
        "sep": ", ", "pledge": "Honesty pledge", "pledge_by": "Pledge recorded",
        "authorization": "Check authorized", "authorization_by": "Authorization recorded",
        "missing_documents": "Missing documents", "requested_at": "Check requested",
        "returned_at": "Result returned", "result": "Result", "panel_members": "Panel",
        "panel_record": "Record", "notice_round": "Notice round",
        "notice_period": "Notice period", "objections": "Objections", "status": "Status",
        "decided_at": "Decided at", "decided_by": "Approver",
        "monthly_amount": "Monthly amount (yuan)", "members_count": "Members covered",
        "reasons": "Reasons", "payment_starts_on": "Payment starts",
        "opened_at": "Opened", "captured_at": "Checked in", "outcome": "Outcome",
        "outcome_on_time": "on time", "outcome_late": "late", "proxy": "Proxy",
        "flagged": "flagged", "at": "At", "complaint": "Complaint",
        "seq": "Seq", "action": "Action", "actor": "By", "prev_hash": "Previous hash",
        "row_hash": "Row hash", "system": "system", "other_action": "other",
        "audit_note": "Each row's hash links to the previous row: deleting or changing a "
                      "row breaks every hash after it.", "home": "home", "metres": "m",
    },
}


def words(lang: str) -> dict[str, str]:
    return _WORDS[lang if lang in _WORDS else "zh-CN"]
