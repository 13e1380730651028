"""Pure rules of the visit review (初审): the state machine, risk, field paths and the diff.

Review states of one visit (a ``visit_submission``), as field-data servers have them::

    received ──► has_issues ──► resubmitted ──► approved | rejected
        │            ▲               │
        └────────────┴── revisit_requested ──► superseded (a new visit of the case arrived)

``TRANSITIONS`` is the whole table: (from, to) -> who may make the move. ``reviewer`` is a
person with the reviewer role acting in their own township; ``system`` is the server itself
reacting to a synced visit (a first revision, a new revision, a new visit of the same case).
Re-visit: we chose a review state (``revisit_requested``) that the team pulls as a task over
a flag on the case, so that the request is scoped, versioned and audited like every other
review step and disappears from the phones by itself when the new visit arrives.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Literal

from backend import geodesy

RECEIVED = "received"
HAS_ISSUES = "has_issues"
RESUBMITTED = "resubmitted"
APPROVED = "approved"
REJECTED = "rejected"
REVISIT_REQUESTED = "revisit_requested"
SUPERSEDED = "superseded"
STATES = (RECEIVED, HAS_ISSUES, RESUBMITTED, APPROVED, REJECTED, REVISIT_REQUESTED, SUPERSEDED)

Actor = Literal["reviewer", "system"]
REVIEWER: Actor = "reviewer"
SYSTEM: Actor = "system"

TRANSITIONS: dict[tuple[str, str], Actor] = {
    (RECEIVED, HAS_ISSUES): REVIEWER,
    (RECEIVED, APPROVED): REVIEWER,
    (RECEIVED, REJECTED): REVIEWER,
    (RECEIVED, REVISIT_REQUESTED): REVIEWER,
    (RESUBMITTED, HAS_ISSUES): REVIEWER,
    (RESUBMITTED, APPROVED): REVIEWER,
    (RESUBMITTED, REJECTED): REVIEWER,
    (RESUBMITTED, REVISIT_REQUESTED): REVIEWER,
    (HAS_ISSUES, REVISIT_REQUESTED): REVIEWER,
    # A new revision of the visit arrived from the phone: it needs reviewing again.
    (HAS_ISSUES, RESUBMITTED): SYSTEM,
    (APPROVED, RESUBMITTED): SYSTEM,
    (REJECTED, RESUBMITTED): SYSTEM,
    (REVISIT_REQUESTED, RESUBMITTED): SYSTEM,
    # A new visit of the same case arrived after a re-visit was requested.
    (REVISIT_REQUESTED, SUPERSEDED): SYSTEM,
}
# States whose visit goes back to the team's phones as a task.
TASK_STATES = (HAS_ISSUES, REVISIT_REQUESTED)
# States a reviewer still has to act on.
OPEN_STATES = (RECEIVED, RESUBMITTED)


def may_move(state: str, target: str, actor: Actor) -> bool:
    """Whether ``actor`` may move a review from ``state`` to ``target``."""
    return TRANSITIONS.get((state, target)) == actor


def targets(state: str, actor: Actor) -> list[str]:
    """Where ``actor`` may move a review from ``state`` (for the screens' buttons)."""
    return [to for (frm, to), who in TRANSITIONS.items() if frm == state and who == actor]


def after_new_revision(state: str) -> str:
    """The state after the team sent a new revision of the visit (system move, or stay)."""
    return RESUBMITTED if may_move(state, RESUBMITTED, SYSTEM) else state


# --- risk ---------------------------------------------------------------------------------

# One alert outweighs any realistic number of warnings (a visit has at most a few dozen
# flags); the queue sorts by this score, riskiest first, then by age (oldest first).
SEVERITY_WEIGHTS: Mapping[str, int] = {"alert": 10_000, "warning": 100, "info": 1}


def risk_score(severities: Iterable[str]) -> int:
    return sum(SEVERITY_WEIGHTS.get(s, 0) for s in severities)


# --- field paths --------------------------------------------------------------------------

_PATH = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d{1,4})\]\.([A-Za-z_][A-Za-z0-9_]*))?$")


@dataclass(frozen=True)
class FieldPath:
    name: str  # top-level field, or the repeat group
    index: int | None = None  # row of the repeat group
    member: str | None = None  # field inside the repeat group


def parse_field(path: str) -> FieldPath | None:
    """``housing_area`` or ``members[0].id_number``; None for anything else."""
    match = _PATH.fullmatch(path)
    if match is None:
        return None
    name, index, member = match.groups()
    return FieldPath(name, int(index) if index is not None else None, member)


def form_fields(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field of a form definition by path: ``name`` and ``group.member``."""
    found: dict[str, dict[str, Any]] = {}
    for section in definition.get("sections") or []:
        for field in section.get("fields") or []:
            found[field["name"]] = field
            for member in field.get("fields") or []:
                found[f"{field['name']}.{member['name']}"] = member
    return found


def field_problem(path: str, definition: Mapping[str, Any],
                  answers: Mapping[str, Any]) -> str | None:
    """Why ``path`` names no field of the visit (None when it does): the name must be in the
    form definition, and a repeat row must exist in the reviewed answers."""
    parsed = parse_field(path)
    if parsed is None:
        return "not a field path (name, or group[row].name)"
    known = form_fields(definition)
    field = known.get(parsed.name)
    if field is None:
        return f"the form has no field '{parsed.name}'"
    if parsed.member is None:
        return None
    if field.get("type") != "repeat" or f"{parsed.name}.{parsed.member}" not in known:
        return f"the form has no field '{parsed.name}[].{parsed.member}'"
    rows = answers.get(parsed.name)
    if not isinstance(rows, list) or parsed.index is None or parsed.index >= len(rows):
        return f"the visit has no row {parsed.index} in '{parsed.name}'"
    return None


# --- diff ---------------------------------------------------------------------------------

Change = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FieldChange:
    field: str  # path, e.g. members[1].income_wages
    change: Change
    before: Any
    after: Any


def _flatten(answers: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in answers.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, row in enumerate(value):
                for member, inner in row.items():
                    flat[f"{name}[{index}].{member}"] = inner
        else:
            flat[name] = value
    return flat


def diff_answers(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """Field by field, what changed between two revisions' answers (repeat rows by position;
    an answer that is absent and one that is null are the same: not given)."""
    old, new = _flatten(before), _flatten(after)
    changes = []
    for path in sorted(set(old) | set(new), key=_sort_key):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        kind: Change = "added" if a is None else "removed" if b is None else "changed"
        changes.append(FieldChange(path, kind, a, b))
    return changes


def _sort_key(path: str) -> tuple[str, int, str]:
    parsed = parse_field(path)
    if parsed is None:
        return (path, -1, "")
    return (parsed.name, -1 if parsed.index is None else parsed.index, parsed.member or "")


# --- queue paging -------------------------------------------------------------------------


def encode_page_cursor(risk_rank: int, received_at_iso: str, submission_id: str) -> str:
    """Where the next queue page starts: the last row's sort key (keyset paging)."""
    text = json.dumps([risk_rank, received_at_iso, submission_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_page_cursor(text: str) -> tuple[int, str, str] | None:
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    if (isinstance(values, list) and len(values) == 3 and isinstance(values[0], int)
            and not isinstance(values[0], bool) and isinstance(values[1], str)
            and isinstance(values[2], str) and len(values[1]) <= 40 and len(values[2]) <= 36):
        return values[0], values[1], values[2]
    return None


# --- evidence -----------------------------------------------------------------------------

LatLon = tuple[float, float]


def distance_m(a: LatLon | None, b: LatLon | None) -> float | None:
    """Metres between two points on the WGS-84 ellipsoid (geopy), rounded to 0.1 m; None when
    either is unknown."""
    if a is None or b is None:
        return None
    return round(geodesy.distance_m(a, b), 1)


def exif_instant(local: str | None, offset: str | None, default_zone: tzinfo) -> datetime | None:
    """The instant a camera wrote as local time (``2026-11-20T10:15:02``) with its offset
    (``+08:00``); cameras writing no offset are taken to be in ``default_zone`` (Asia/Shanghai:
    these phones are in China). None when unreadable."""
    if not local:
        return None
    try:
        taken = datetime.fromisoformat(local)
    except ValueError:
        return None
    if taken.tzinfo is not None:
        return taken
    if offset and re.fullmatch(r"[+-]\d{2}:\d{2}", offset):
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = offset[1:].split(":")
        return taken.replace(tzinfo=timezone(sign * timedelta(hours=int(hours),
                                                              minutes=int(minutes))))
    return taken.replace(tzinfo=default_zone)


def minutes_outside(moment: datetime | None, start: datetime | None,
                    end: datetime | None) -> float | None:
    """How many minutes ``moment`` lies before ``start`` or after ``end`` (0 inside the visit);
    None when a time is unknown."""
    if moment is None or start is None or end is None:
        return None
    if moment < start:
        return round((start - moment).total_seconds() / 60, 1)
    if moment > end:
        return round((moment - end).total_seconds() / 60, 1)
    return 0.0


def distance_rings(threshold_m: float) -> list[float]:
    """Rings the evidence map draws around the home: half the home-distance threshold, the
    threshold itself, and twice it."""
    return [threshold_m / 2, float(threshold_m), threshold_m * 2.0]


# The order of timeline entries that share an instant: what happens first in a visit's life.
TIMELINE_ORDER = ("started", "ended", "received", "revised", "attested", "review_moved",
                  "commented")


def timeline_key(entry: Mapping[str, Any]) -> tuple[datetime, int]:
    return (entry["at"], TIMELINE_ORDER.index(entry["event"]))


def visit_minutes(started_at: datetime | None, ended_at: datetime | None) -> float | None:
    """How long the visit lasted by its stamps (end − start), in minutes; None when a stamp
    is missing or the end comes before the start (a flag says so)."""
    if started_at is None or ended_at is None or ended_at < started_at:
        return None
    return round((ended_at - started_at).total_seconds() / 60, 1)
