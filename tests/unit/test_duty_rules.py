"""The separation-of-duties rule over a case's whole duty history (001: 受理、初审、审核确认
经办人员不能为同一人; 003: 审批权限与监督职能有效分离; 004: declared relatives take no duty)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import permutations

import pytest

from backend.duties import rules
from backend.workflow import rules as workflow

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def taken(user: str, duty: str, path: str = "x", roles=("reviewer",)) -> rules.DutyTaken:
    return rules.DutyTaken(user, duty, path, AT, tuple(roles))


@pytest.mark.parametrize("first,second", list(permutations(rules.DUTIES, 2)))
def test_every_pair_of_duties_is_kept_apart_for_one_person_001_003(first, second):
    found = rules.conflict([taken("u1", first, "p1")], "u1", second, "p2")
    assert found is not None
    assert found.earlier is not None and found.earlier.duty == first
    assert found.earlier.path == "p1" and found.path == "p2"
    expected = "001" if rules.SUPERVISION not in (first, second) else "003"
    assert found.source == expected
    # Another person may take it.
    assert rules.conflict([taken("u1", first)], "u2", second, "p2") is None


@pytest.mark.parametrize("duty", rules.DUTIES)
def test_the_same_duty_again_is_no_conflict(duty):
    assert rules.conflict([taken("u1", duty)], "u1", duty, "p") is None


def test_the_whole_history_is_read_not_only_the_latest_001():
    # The first preliminary reviewer, replaced by a second after an objection, stays
    # remembered: they may not approve.
    history = [taken("first", rules.PRELIMINARY_REVIEW, "transition:panel_review:reviewing"),
               taken("second", rules.PRELIMINARY_REVIEW, "transition:panel_review:reviewing")]
    found = rules.conflict(history, "first", rules.APPROVAL,
                           "transition:public_notice:approved")
    assert found is not None and found.earlier == history[0]


def test_a_declared_relative_takes_no_duty_at_all_004():
    for duty in rules.DUTIES:
        found = rules.conflict([], "cousin", duty, "p", relative_ids={"cousin"})
        assert found is not None and found.is_relative and found.source == "004"
    assert rules.conflict([], "stranger", rules.INTAKE, "p", relative_ids={"cousin"}) is None


def test_an_unknown_duty_is_a_programming_error():
    with pytest.raises(ValueError):
        rules.conflict([], "u", "lunch", "p")


def test_the_message_names_the_earlier_duty_the_role_and_the_path():
    found = rules.conflict([taken("u", rules.INTAKE, "case.update.pledge",
                                  ("intake_clerk", "reviewer"))],
                           "u", rules.PRELIMINARY_REVIEW, "visit_review.approved")
    text = rules.message(found)
    for part in ("intake", "intake_clerk", "case.update.pledge", "preliminary_review",
                 "visit_review.approved", "001"):
        assert part in text


def test_every_path_the_issue_lists_takes_its_duty():
    expected = {
        "case.update.pledge": rules.INTAKE,               # PATCH pledge
        "case.update.authorization": rules.INTAKE,        # PATCH authorization
        "visit_review.approved": rules.PRELIMINARY_REVIEW,  # the home visit's 初审
        "transition:investigating:panel_review": rules.PRELIMINARY_REVIEW,
        "transition:approved:stopped": rules.APPROVAL,
        "review:reviewing:continued": rules.APPROVAL,
        "review:reviewing:adjusted": rules.APPROVAL,
        "review:reviewing:stopped": rules.APPROVAL,
        "spot_check.draw": rules.SUPERVISION,
        "spot_check.record": rules.SUPERVISION,
    }
    for path, duty in expected.items():
        assert rules.duty_of_path(path) == duty, path


def test_every_workflow_transition_has_its_duty_in_the_catalogue():
    """The transition tables and the path catalogue agree: a move that decides, reviews or
    takes in has a path with that duty; posting the notice, an objection and a withdrawal
    take none."""
    for (frm, to), step in workflow.TRANSITIONS.items():
        assert rules.duty_of_path(rules.transition_path(frm, to)) == step.duty, (frm, to)
    for (frm, to), step in workflow.REVIEW_TRANSITIONS.items():
        assert rules.duty_of_path(rules.transition_path(frm, to, True)) == step.duty, (frm, to)
    assert rules.duty_of_path(rules.transition_path("reviewing", "public_notice")) is None
    assert rules.duty_of_path(rules.transition_path("accepted", "withdrawn")) is None
