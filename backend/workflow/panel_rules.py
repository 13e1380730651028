"""Pure rules of the panel as it was held (004: 评议人员签字; 001): the pool frozen by the
draw, attendance per drawn member, and the counts derived from it (never typed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from backend.workflow.rules import PanelRecord

ATTENDANCE = ("present", "absent", "substitute")
SIGNATURE_KINDS = ("scan", "on_screen")


@dataclass(frozen=True)
class DrawnMember:
    """A pool member as frozen in the draw (name and role as they were then)."""

    id: str
    name: str
    role: str


@dataclass(frozen=True)
class Attendance:
    status: str  # present / absent / substitute
    reason: str | None = None
    substitute_name: str | None = None
    signature_kind: str | None = None  # scan / on_screen
    signature_sha256: str | None = None


def pool_digest(members: Iterable[DrawnMember]) -> str:
    """SHA-256 of the pool as drawn: one ``id, role, name`` line per member, sorted by id, so
    an auditor can prove the stored members are the pool the seed was drawn from."""
    lines = sorted(f"{m.id}\t{m.role}\t{m.name}" for m in members)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def attendance_problems(drawn: Sequence[DrawnMember], attendance: dict[str, Attendance]
                        ) -> list[str]:
    """What is wrong with the attendance of a drawn panel (004: those who attend sign):
    every drawn member is accounted for and nobody else; an absent member or a substitute
    has a reason, a substitute a name; whoever sat (present or substitute) signed, as a
    scan of the paper or on the screen."""
    problems = []
    ids = {m.id for m in drawn}
    for member_id in sorted(set(attendance) - ids):
        problems.append(f"{member_id}: 不是抽取的评议人员 (not a drawn member)")
    for m in drawn:
        entry = attendance.get(m.id)
        if entry is None:
            problems.append(f"{m.name}: 未登记出席情况 (attendance not recorded)")
            continue
        if entry.status not in ATTENDANCE:
            problems.append(f"{m.name}: 出席情况无效 (status {entry.status!r})")
            continue
        if entry.status != "present" and not (entry.reason or "").strip():
            problems.append(f"{m.name}: 缺席或替换需说明原因 (a reason is required)")
        if entry.status == "substitute" and not (entry.substitute_name or "").strip():
            problems.append(f"{m.name}: 需填写替换人员姓名 (the substitute's name)")
        if entry.status != "absent" and (entry.signature_kind not in SIGNATURE_KINDS
                                         or not entry.signature_sha256):
            problems.append(f"{m.name}: 缺少签名 (a signature, scanned or on screen)")
    return problems


def panel_counts(drawn: Sequence[DrawnMember], attendance: dict[str, Attendance],
                 held_on: date) -> PanelRecord:
    """The counts the guards read, derived from the attendance (never typed): members who
    sat (present or substitute); the seats that need a person of a role (township cadre,
    group leader, discipline officer) count only when that drawn member attended in person."""
    def sat(m: DrawnMember) -> bool:
        entry = attendance.get(m.id)
        return entry is not None and entry.status in ("present", "substitute")

    def in_person(role: str) -> list[DrawnMember]:
        return [m for m in drawn if m.role == role and attendance.get(m.id) is not None
                and attendance[m.id].status == "present"]

    # The group-leader seat is the applicant's own group leader, whom the draw puts first;
    # another village group's leader drawn later sits in a villager's seat and fills nothing.
    seat = next((m for m in drawn if m.role == "group_leader"), None)
    is_leader_present = seat is not None and seat in in_person("group_leader")
    return PanelRecord(held_on, sum(1 for m in drawn if sat(m)),
                       len(in_person("township_cadre")), is_leader_present,
                       bool(in_person("discipline_officer")))
