"""Pure rules of complaints and reports (举报, 004: 举报箱、举报电话、电子邮箱、微信平台, 专人负责
核实、排查、处理及回复; 002: 公开监督举报电话): channels, the steps a report takes, its
deadlines in working days, what is overdue, who may see the reporter, and what a public
form may hold. No Flask, no SQLAlchemy.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

# How a report came in: staff enter the first five from the desk (004 names the box, the
# phone, e-mail and WeChat; a report made in person at the township's window is the fifth);
# ``web`` is the public form, which nobody signs in to.
STAFF_CHANNELS = ("box", "phone", "email", "wechat", "window")
WEB = "web"
CHANNELS = (*STAFF_CHANNELS, WEB)
# How the reporter wants the reply; ``none`` when they left no way to reach them (an
# anonymous report may): the reply is then kept on file under the report's number.
REPLY_CHANNELS = ("phone", "email", "wechat", "letter", "window", "none")
# 004: 核实 by home visit (入户), system comparison (系统比对) or phone (电话), as reviews do.
VERIFICATION_METHODS = ("home_visit", "system_comparison", "phone")
# A substantiated report leads to a periodic review of the recipient (动态管理, 004) or, by an
# approver, to stopping the allowance (004: written reasons).
CONSEQUENCES = ("periodic_review", "stop")

RECEIVED = "received"
ASSIGNED = "assigned"
VERIFYING = "verifying"
FOUND = "found"
ANSWERED = "answered"
STATUSES = (RECEIVED, ASSIGNED, VERIFYING, FOUND, ANSWERED)
OPEN_STATUSES = (RECEIVED, ASSIGNED, VERIFYING, FOUND)

# step -> the states it may start from, and the state it leads to
STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "assign": ((RECEIVED, ASSIGNED, VERIFYING), ASSIGNED),
    "verify": ((ASSIGNED, VERIFYING), VERIFYING),
    "find": ((VERIFYING,), FOUND),
    "reply": ((FOUND,), ANSWERED),
}

# The regulations say only 及时 (promptly). Doorstep's defaults, per jurisdiction settings
# (docs/decisions/0024-complaints.md): a handler named within 1 working day, the
# verification done within 10, the reply sent within 15, all counted from receipt.
DEFAULT_ASSIGN_WORKING_DAYS = 1
DEFAULT_VERIFY_WORKING_DAYS = 10
DEFAULT_REPLY_WORKING_DAYS = 15

# Bounds of what anyone may type, on the public form and the desk alike.
MAX_CONTENT = 2000
MAX_ABOUT = 100
MAX_NAME = 50
MAX_CONTACT = 100
MAX_NOTE = 1000
MAX_REPLY = 2000


def next_status(step: str, status: str) -> str | None:
    """The state ``step`` leads to from ``status``, or None when it may not be taken."""
    allowed_from, to = STEPS[step]
    return to if status in allowed_from else None


@dataclass(frozen=True)
class Deadlines:
    assign_due_on: date
    verify_due_on: date
    reply_due_on: date


def deadlines(received_on: date, settings: dict[str, Any],
              add_working_days: Callable[[date, int], date]) -> Deadlines:
    """Each step's due date, counted in working days from the day (Beijing) the report
    came in (``add_working_days`` is clock.add_working_days with the holidays entered)."""
    return Deadlines(
        add_working_days(received_on, settings["complaint_assign_working_days"]),
        add_working_days(received_on, settings["complaint_verify_working_days"]),
        add_working_days(received_on, settings["complaint_reply_working_days"]))


def overdue_steps(status: str, due: Deadlines, today: date) -> list[str]:
    """The steps past their due date and not yet done (a step is due by the end of its day):
    ``assign`` while nobody is named, ``verify`` until a finding, ``reply`` until answered."""
    late = []
    if status == RECEIVED and today > due.assign_due_on:
        late.append("assign")
    if status in (RECEIVED, ASSIGNED, VERIFYING) and today > due.verify_due_on:
        late.append("verify")
    if status != ANSWERED and today > due.reply_due_on:
        late.append("reply")
    return late


def sees_reporter(is_handler: bool, is_county_supervisor: bool) -> bool:
    """004 keeps the reporter's identity from everyone but the named handler and the county
    supervisor (the county supervises the township that handles it)."""
    return is_handler or is_county_supervisor


def consequence_problem(is_substantiated: bool, consequence: str | None,
                        has_linked_case: bool) -> str | None:
    """Why a finding's consequence is not acceptable, or None: only a substantiated report
    has one, and it needs a linked case to act on."""
    if consequence is None:
        return None
    if not is_substantiated:
        return "only a substantiated report opens a periodic review or a stop"
    if not has_linked_case:
        return "link the report to a case first"
    return None


# Characters a text field may not hold: controls other than tab and line breaks (a
# pasted binary, a terminal escape), lone surrogates and private-use characters.
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def text_problem(value: str, maximum: int) -> str | None:
    """Why a typed text is refused (too long, or holding control characters), or None.
    Markup is not refused: it is stored and always shown as text."""
    if len(value) > maximum:
        return f"at most {maximum} characters"
    for char in value:
        if char in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co"):
            return "holds control characters; type plain text"
    return None
