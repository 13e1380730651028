"""Demo data that obeys its own rules (issue 19): `make run`'s `flask seed-demo` leaves every
case in a state it could have reached. Each case's moves are read back from its timeline
(the audit rows) and walked through the workflow's own table and ``guard_problems`` with
what the case has stored; none breaks a rule. Only the case the demo tour names is overdue.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from backend import clock
from tests.api.test_demo_seed import fresh_app  # noqa: F401 - the fixture


def moves_of(case_id: str) -> list[tuple[str, str, str]]:
    """The statuses the case went through, in order, from its audit rows: (from, to, the
    audit action that moved it)."""
    from backend.audit import service as audit

    status, moves = "accepted", []
    for event in audit.events_for("case", case_id):
        to = (event.after or {}).get("status")
        if to and to != status:
            moves.append((status, to, event.action))
            status = to
    return moves


def test_every_seeded_case_passes_the_guards_of_every_move_it_made(fresh_app):  # noqa: F811
    from backend.cases.models import Case
    from backend.extensions import db
    from backend.workflow import rules, transitions

    result = fresh_app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with fresh_app.app_context(), fresh_app.test_request_context():
        walked: dict[str, int] = {}
        for case in db.session.scalars(select(Case).order_by(Case.id)):
            key = rules.kind_key(case.kind, case.temporary_subtype)
            moves = moves_of(case.id)
            assert (moves[-1][1] if moves else "accepted") == case.status, (case.id, moves)
            facts = transitions.stored_facts(case)
            for frm, to, action in moves:
                # Assigning a team ends intake for every kind (emergency aid keeps its fast
                # track from there): the intake row's guards, pledge and authorization.
                step = (rules.TRANSITIONS[(frm, to)] if action == "case.team_assigned"
                        else rules.transition_for(frm, to, key))
                assert step is not None, (case.id, key, frm, to)
                assert rules.guard_problems(step, facts) == [], (case.id, key, frm, to)
            walked[case.status] = walked.get(case.status, 0) + 1
        # The tour's stages are all there, reached through their guards.
        assert walked.get("public_notice", 0) >= 1 and walked.get("approved", 0) >= 3
        assert walked.get("refused", 0) >= 1 and walked.get("investigating", 0) >= 1
        # 张秀英's case of old: on notice with a visit, a pledge and a full timeline.
        noticed = db.session.scalars(select(Case).where(Case.status == "public_notice")).all()
        for case in noticed:
            assert [to for _, to, _ in moves_of(case.id)] == [
                "investigating", "panel_review", "reviewing", "public_notice"]
            assert case.has_honesty_pledge and case.is_economic_check_authorized


@pytest.mark.parametrize("seeded_on", [
    None,  # today
    datetime(2026, 10, 12, 2, tzinfo=UTC),  # the Monday after the National Day week
    datetime(2026, 2, 25, 2, tzinfo=UTC),  # two days after the Spring Festival holiday
], ids=["today", "after-national-day", "after-spring-festival"])
def test_only_the_case_the_tour_names_is_overdue(fresh_app, seeded_on):  # noqa: F811
    """Counted in working days, the tour's overdue case is overdue whatever day `make run`
    seeds it (25 calendar days were fewer than 12 working days after a long holiday)."""
    from backend import demo

    clock.freeze(seeded_on)
    try:
        result = fresh_app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        assert "overdue on purpose" in result.output
        overdue = _overdue_cases(fresh_app)
    finally:
        clock.freeze(None)
    township, _ = demo.OVERDUE_ON_PURPOSE
    assert overdue == [(township, "special_case")]


def _overdue_cases(app) -> list[tuple[str, str]]:
    from backend.auth import service as auth
    from backend.cases.models import Case
    from backend.extensions import db
    from backend.workflow import due

    with app.app_context(), app.test_request_context():
        overdue = set()
        for username in ("wenping_intake", "wenping_reviewer", "wenping_approver",
                         "longtoushan_intake", "longtoushan_reviewer", "longtoushan_approver",
                         "county_supervisor"):
            caller = auth.caller_for(auth.find_by_username(username))
            overdue |= {item["case_id"] for item in due.due(caller, "overdue")}
        cases = db.session.scalars(select(Case).where(Case.id.in_(overdue))).all()
        return [(c.jurisdiction_code[:9], c.kind) for c in cases]
