"""Separation of duties (001: 受理、初审、审核确认经办人员不能为同一人; 003: 审批权限与监督职能
有效分离; 004: 近亲属 are checked, never checkers), as one pure rule over a case's whole
duty history.

A duty is taken through a *path*: an endpoint or a step that does the work of that duty.
``PATHS`` is the catalogue (slug -> duty); every service that does such work records a
``DutyTaken`` and asks ``conflict`` first. The rule reads the whole history, so an earlier
preliminary reviewer stays remembered after an objection reopens a case, and a duty taken
through a side door (the pledge on a PATCH, the visit's approval in the review queue)
counts as much as one taken through the transition endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

INTAKE = "intake"
PRELIMINARY_REVIEW = "preliminary_review"
APPROVAL = "approval"
SUPERVISION = "supervision"
DUTIES = (INTAKE, PRELIMINARY_REVIEW, APPROVAL, SUPERVISION)

# Pairs of duties one person never holds on the same case, with the rule's source.
KEPT_APART: dict[frozenset[str], str] = {
    frozenset({INTAKE, PRELIMINARY_REVIEW}): "001",
    frozenset({INTAKE, APPROVAL}): "001",
    frozenset({PRELIMINARY_REVIEW, APPROVAL}): "001",
    # 003: 实现低保审批权限与监督职能有效分离. The county's check (001: 区民政局…随机抽查)
    # checks the township's work; nobody checks their own intake or review either.
    frozenset({SUPERVISION, APPROVAL}): "003",
    frozenset({SUPERVISION, INTAKE}): "003",
    frozenset({SUPERVISION, PRELIMINARY_REVIEW}): "003",
}
RELATIVE_SOURCE = "004"  # a declared close relative (近亲属备案) takes no duty on the case

# path slug -> the duty it takes. A transition's path is ``transition:<from>:<to>`` (a
# periodic review's ``review:<from>:<to>``).
PATHS: dict[str, str] = {
    "case.create": INTAKE,                      # POST /api/cases
    "case.update.pledge": INTAKE,               # PATCH /api/cases/<id> has_honesty_pledge
    "case.update.authorization": INTAKE,        # PATCH … is_economic_check_authorized
    "case.application": INTAKE,                 # PUT /api/cases/<id>/application
    "case.team.intake_complete": INTAKE,        # PUT /api/cases/<id>/team leaving `accepted`
    "transition:accepted:investigating": INTAKE,
    "periodic_review.open": INTAKE,             # POST /api/cases/<id>/periodic-reviews
    "visit_review.approved": PRELIMINARY_REVIEW,  # POST /api/reviews/<id>/transitions (初审)
    "visit_review.rejected": PRELIMINARY_REVIEW,
    "panel.draw": PRELIMINARY_REVIEW,           # POST /api/cases/<id>/panel/draw
    "transition:investigating:panel_review": PRELIMINARY_REVIEW,
    "transition:investigating:reviewing": PRELIMINARY_REVIEW,
    "transition:panel_review:reviewing": PRELIMINARY_REVIEW,
    "transition:accepted:approved": APPROVAL,
    "transition:investigating:approved": APPROVAL,
    "transition:reviewing:approved": APPROVAL,
    "transition:public_notice:approved": APPROVAL,
    "transition:approved:stopped": APPROVAL,
    # a periodic review (动态管理): opening it is its intake; starting the chosen method is
    # no duty; its findings are the preliminary review; its outcome is an approval
    "review:investigating:reviewing": PRELIMINARY_REVIEW,
    "review:reviewing:continued": APPROVAL,
    "review:reviewing:adjusted": APPROVAL,
    "review:reviewing:stopped": APPROVAL,
    **{f"transition:{state}:refused": APPROVAL
       for state in ("accepted", "investigating", "panel_review", "reviewing",
                     "public_notice")},
    "spot_check.draw": SUPERVISION,             # POST /api/spot-checks/draws
    "spot_check.record": SUPERVISION,           # PUT /api/spot-checks/<case id>
}


def transition_path(frm: str, to: str, is_periodic_review: bool = False) -> str:
    return f"{'review' if is_periodic_review else 'transition'}:{frm}:{to}"


def duty_of_path(path: str) -> str | None:
    """The duty a path takes, or None (a withdrawal, an objection, posting the notice)."""
    return PATHS.get(path)


@dataclass(frozen=True)
class DutyTaken:
    """One entry of a case's duty history: who took which duty, when, through which path,
    holding which roles then."""

    user_id: str
    duty: str
    path: str
    at: datetime | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conflict:
    """Why ``user_id`` may not take ``duty`` on the case: an earlier duty of theirs that
    is kept apart from it (``earlier``), or being a declared relative of the household."""

    duty: str
    path: str
    source: str
    earlier: DutyTaken | None = None
    is_relative: bool = False


def conflict(history: Iterable[DutyTaken], user_id: str, duty: str, path: str,
             relative_ids: Iterable[str] = ()) -> Conflict | None:
    """The first reason the person may not take ``duty`` through ``path``, or None.

    A declared relative of the household takes no duty at all (004). Otherwise the
    earliest entry of theirs, in the whole history, holding a duty kept apart from this
    one (001, 003). Taking the same duty again (a second preliminary review after an
    objection) is no conflict."""
    if duty not in DUTIES:
        raise ValueError(f"unknown duty {duty!r}")
    if user_id in set(relative_ids):
        return Conflict(duty, path, RELATIVE_SOURCE, None, True)
    for entry in history:
        if entry.user_id != user_id or entry.duty == duty:
            continue
        source = KEPT_APART.get(frozenset({entry.duty, duty}))
        if source is not None:
            return Conflict(duty, path, source, entry)
    return None


def message(found: Conflict) -> str:
    """The conflict in words (zh-CN first, English after), naming the earlier duty, the
    person's role then and the path it was taken through."""
    if found.is_relative:
        return ("您是该户申报的近亲属, 不得经办本案任何环节 (you are a declared relative of "
                f"this household and take no duty on its case; {found.path}; 004)")
    earlier = found.earlier
    assert earlier is not None
    roles = ", ".join(earlier.roles) or "-"
    return (f"您已在本案经办 {earlier.duty} (角色 {roles}, 途径 {earlier.path}), 不得再经办 "
            f"{found.duty} (you did the {earlier.duty} of this case as {roles} through "
            f"{earlier.path}; someone else must do its {found.duty} through {found.path}; "
            f"{found.source}: 受理、初审、审核确认经办人员不能为同一人)")
