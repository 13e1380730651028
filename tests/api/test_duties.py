"""Separation of duties on every path (issue 19; 001: 受理、初审、审核确认经办人员不能为同一人;
003: 审批权限与监督职能有效分离; 004: a declared relative is checked, never a checker).

The matrix: every path that takes a duty × every earlier duty kept apart from it (and being
a declared relative of the household). The earlier duty is put in the case's history as if
taken through another path; the path must answer 422 ``separation-of-duties`` naming the
earlier duty, the person's roles and both paths, and change nothing. A path that stops
reading the history, or a new path that takes a duty without it, fails here. Then the
walks: each walkaround the issue found, through the real endpoints, and a whole case whose
history names every path it went through.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from backend import clock
from backend.auth import service as auth
from backend.cases.models import Case
from backend.dbtypes import new_id
from backend.duties import rules as duty_rules
from backend.duties.models import CaseDuty
from backend.households.models import StaffRelative
from backend.workflow.models import SpotCheck, SpotCheckDraw
from tests.api.test_sync import attested_visit, push
from tests.api.test_workflow import (
    complete_visit,
    create_case,
    draw_and_check,
    economic_check,
    held,
    investigating,
    later,
    move,
    ok,
    problem,
    wf,
)
from tests.conftest import DEMO_PASSWORD

COUNTY = "530621"
EVERY_ROLE = ["intake_clerk", "reviewer", "approver", "county_supervisor"]


@pytest.fixture(autouse=True)
def _unfrozen():
    yield
    clock.freeze(None)


@pytest.fixture
def me(db_session):
    """One person holding every role that takes a duty, for the whole county."""
    user = auth.create_user("duty_matrix", DEMO_PASSWORD, EVERY_ROLE, COUNTY,
                            display_name="全角色")
    db_session.commit()
    return user


def set_status(db_session, case_id: str, status: str) -> None:
    db_session.execute(update(Case).where(Case.id == case_id).values(status=status))
    db_session.commit()


def case_in(api, db_session, status: str, **body) -> dict:
    case = create_case(api, db_session, **body)
    if status != "accepted":
        set_status(db_session, case["id"], status)
    return case


def review_case_in(api, db_session, status: str) -> dict:
    subject = case_in(api, db_session, "approved")
    opened = ok(api.post("wenping_intake", f"/api/cases/{subject['id']}/periodic-reviews"),
                201)
    set_status(db_session, opened["case_id"], status)
    return {"id": opened["case_id"], "household_id": subject["household_id"]}


def version_of(api, case_id: str) -> str:
    return f'"{wf(api, case_id)["version"]}"'


# Each path: (slug, how to put a case where the path applies, how to call it as `user`).
def _patch(field):
    def act(api, ctx, user):
        return api.patch(user, f"/api/cases/{ctx['id']}", json={field: True},
                         headers={"If-Match": version_of(api, ctx["id"])})
    return act


def _transition(to, **body):
    def act(api, ctx, user):
        return move(api, ctx["id"], to, user, **body)
    return act


def _visit_review(to):
    def prepare(api, db_session):
        case = investigating(api, db_session)
        record = complete_visit(api, case, approve=False)
        return {**case, "submission": record["id"]}

    def act(api, ctx, user):
        review = ok(api.get("wenping_reviewer", f"/api/reviews/{ctx['submission']}"))
        return api.post(user, f"/api/reviews/{ctx['submission']}/transitions",
                        json={"to": to, "comments": []},
                        headers={"If-Match": f'"{review["version"]}"'})
    return prepare, act


def _application(api, ctx, user):
    return api.put(user, f"/api/cases/{ctx['id']}/application",
                   json={"pledge": {"scan_sha256s": ["a" * 64]}},
                   headers={"If-Match": version_of(api, ctx["id"])})


def _team(api, ctx, user):
    team = [api.user_id("wenping_fw1"), api.user_id("wenping_fw2")]
    return api.put(user, f"/api/cases/{ctx['id']}/team", json={"user_ids": team},
                   headers={"If-Match": version_of(api, ctx["id"])})


def _panel_draw(api, ctx, user):
    return api.post(user, f"/api/cases/{ctx['id']}/panel-draw",
                    json={"group_leader_id": None},
                    headers={"If-Match": version_of(api, ctx["id"])})


def _spot_check_draw(api, ctx, user):
    month = clock.today_in_china().strftime("%Y-%m")
    return api.post(user, "/api/spot-checks/draws", json={"month": month})


def _sampled(api, db_session):
    case = case_in(api, db_session, "public_notice")
    draw = SpotCheckDraw(id=new_id(), county_code=COUNTY, month="2026-01", seed="s",
                         ratios={}, population_sha256="0" * 64, population_count=1,
                         sampled_count=1, drawn_by_id=api.user_id("county_supervisor"),
                         drawn_at=clock.now())
    db_session.add(draw)
    db_session.flush()
    db_session.add(SpotCheck(case_id=case["id"], draw_id=draw.id, is_sampled=True,
                             reason="ratio"))
    db_session.commit()
    return case


def _spot_check_record(api, ctx, user):
    return api.put(user, f"/api/spot-checks/{ctx['id']}", json={"outcome": "confirmed"})


def _open_review(api, ctx, user):
    return api.post(user, f"/api/cases/{ctx['id']}/periodic-reviews")


def _create(api, ctx, user):
    return api.post(user, "/api/cases", json={
        "household_id": ctx["household_id"], "kind": "dibao", "channel": "window",
        "is_economic_check_authorized": True, "has_honesty_pledge": True})


_REASONS = {"reasons": ["不符合条件"]}
_EMERGENCY = {"emergency": {"recipient_name": "张三", "reason": "火灾", "amount_yuan": "800"}}
_NO_PLEDGE = {"has_honesty_pledge": False, "is_economic_check_authorized": False}

PATHS = {
    # intake
    "case.update.pledge": (lambda a, d: case_in(a, d, "accepted", **_NO_PLEDGE),
                           _patch("has_honesty_pledge")),
    "case.update.authorization": (lambda a, d: case_in(a, d, "accepted", **_NO_PLEDGE),
                                  _patch("is_economic_check_authorized")),
    "case.application": (lambda a, d: case_in(a, d, "accepted", **_NO_PLEDGE), _application),
    "case.team.intake_complete": (lambda a, d: case_in(a, d, "accepted"), _team),
    "transition:accepted:investigating": (lambda a, d: case_in(a, d, "accepted"),
                                          _transition("investigating")),
    # preliminary review
    "visit_review.approved": _visit_review("approved"),
    "visit_review.rejected": _visit_review("rejected"),
    "panel.draw": (lambda a, d: case_in(a, d, "investigating"), _panel_draw),
    "transition:investigating:panel_review": (lambda a, d: case_in(a, d, "investigating"),
                                              _transition("panel_review")),
    "transition:investigating:reviewing": (lambda a, d: case_in(a, d, "investigating"),
                                           _transition("reviewing")),
    "transition:panel_review:reviewing": (lambda a, d: case_in(a, d, "panel_review"),
                                          _transition("reviewing")),
    "review:investigating:reviewing": (lambda a, d: review_case_in(a, d, "investigating"),
                                       _transition("reviewing")),
    # approval
    "transition:public_notice:approved": (lambda a, d: case_in(a, d, "public_notice"),
                                          _transition("approved")),
    "transition:reviewing:approved": (
        lambda a, d: case_in(a, d, "reviewing", kind="temporary",
                             temporary_subtype="expenditure"), _transition("approved")),
    "transition:accepted:approved": (
        lambda a, d: case_in(a, d, "accepted", kind="temporary",
                             temporary_subtype="emergency"), _transition("approved",
                                                                          **_EMERGENCY)),
    "transition:investigating:approved": (
        lambda a, d: case_in(a, d, "investigating", kind="temporary",
                             temporary_subtype="emergency"), _transition("approved",
                                                                          **_EMERGENCY)),
    **{f"transition:{state}:refused": ((lambda s: lambda a, d: case_in(a, d, s))(state),
                                       _transition("refused", **_REASONS))
       for state in ("accepted", "investigating", "panel_review", "reviewing",
                     "public_notice")},
    "transition:approved:stopped": (lambda a, d: case_in(a, d, "approved"),
                                    _transition("stopped", **_REASONS)),
    "review:reviewing:continued": (lambda a, d: review_case_in(a, d, "reviewing"),
                                   _transition("continued")),
    "review:reviewing:adjusted": (lambda a, d: review_case_in(a, d, "reviewing"),
                                  _transition("adjusted",
                                              proposal={"per_capita_income_yuan": "100"})),
    "review:reviewing:stopped": (lambda a, d: review_case_in(a, d, "reviewing"),
                                 _transition("stopped", **_REASONS)),
    # supervision
    "spot_check.draw": (lambda a, d: case_in(a, d, "investigating"), _spot_check_draw),
    "spot_check.record": (_sampled, _spot_check_record),
}
# Paths that open the case they take a duty on: only the relative column applies.
OPENING = {
    "case.create": (lambda a, d: case_in(a, d, "accepted"), _create),
    "periodic_review.open": (lambda a, d: case_in(a, d, "approved"), _open_review),
}

MATRIX = [(path, earlier) for path in PATHS for earlier in (
    *[d for d in duty_rules.DUTIES
      if frozenset({d, duty_rules.PATHS[path]}) in duty_rules.KEPT_APART], "relative")]
MATRIX += [(path, "relative") for path in OPENING]


def test_the_matrix_covers_every_path_that_takes_a_duty():
    """A new path in the catalogue without a row here fails: add it to PATHS above."""
    assert set(PATHS) | set(OPENING) == set(duty_rules.PATHS)


@pytest.mark.parametrize("path,earlier", MATRIX)
def test_every_path_refuses_a_second_duty_001_003_004(api, db_session, me, path, earlier):
    prepare, act = (PATHS | OPENING)[path]
    ctx = prepare(api, db_session)
    if earlier == "relative":
        db_session.add(StaffRelative(household_id=ctx["household_id"], user_id=me.id,
                                     relation="表兄"))
    else:
        db_session.add(CaseDuty(case_id=ctx["id"], jurisdiction_code="530621100",
                                duty=earlier, user_id=me.id, path=f"earlier.{earlier}",
                                roles=["intake_clerk"], at=clock.now() - timedelta(hours=1)))
    db_session.commit()
    before = db_session.scalar(select(Case.version).where(Case.id == ctx["id"]))
    entries = db_session.scalar(select(CaseDuty.id).where(CaseDuty.path == path).limit(1))
    body = problem(act(api, ctx, me.username), 422, "separation-of-duties")
    assert body["path"] == path and body["duty"] == duty_rules.PATHS[path]
    assert body["roles"] == sorted(EVERY_ROLE)
    if earlier == "relative":
        assert body["is_relative"] is True and body["rule"] == "004"
    else:
        assert body["done"] == earlier
        assert body["earlier"]["path"] == f"earlier.{earlier}"
        assert body["earlier"]["roles"] == ["intake_clerk"]
        assert body["rule"] == ("003" if "supervision" in (earlier, body["duty"]) else "001")
        assert f"earlier.{earlier}" in body["detail"]
    db_session.expire_all()
    # Nothing half-happened: the case is as it was and no entry was added.
    assert db_session.scalar(select(Case.version).where(Case.id == ctx["id"])) == before
    assert db_session.scalar(select(CaseDuty.id).where(CaseDuty.path == path)
                             .limit(1)) == entries


# --- the walkarounds the issue found, through the real endpoints --------------------------


def _user(db_session, name, roles_list, code="530621100"):
    user = auth.create_user(name, DEMO_PASSWORD, roles_list, code, display_name=name)
    db_session.commit()
    return user


def test_patching_the_pledge_is_intake_and_bars_the_preliminary_review_001(api, db_session):
    clerk = _user(db_session, "clerk_reviewer", ["intake_clerk", "reviewer"])
    case = create_case(api, db_session, **_NO_PLEDGE)
    ok(api.patch(clerk.username, f"/api/cases/{case['id']}",
                 json={"has_honesty_pledge": True, "is_economic_check_authorized": True},
                 headers={"If-Match": '"1"'}))
    view = wf(api, case["id"])
    assert view["application"]["pledge"]["by"]["user_id"] == clerk.id
    assert view["application"]["pledge"]["at"]
    assert [(e["duty"], e["path"]) for e in view["duty_history"]] == [
        ("intake", "case.create"), ("intake", "case.update.pledge"),
        ("intake", "case.update.authorization")]
    ok(api.put("wenping_intake", f"/api/cases/{case['id']}/team", json={"user_ids": [
        api.user_id("wenping_fw1"), api.user_id("wenping_fw2")]},
        headers={"If-Match": version_of(api, case["id"])}))
    record = complete_visit(api, case, approve=False)
    review = ok(api.get(clerk.username, f"/api/reviews/{record['id']}"))
    body = problem(api.post(clerk.username, f"/api/reviews/{record['id']}/transitions",
                            json={"to": "approved", "comments": []},
                            headers={"If-Match": f'"{review["version"]}"'}),
                   422, "separation-of-duties")
    assert body["earlier"]["path"] == "case.update.pledge"
    problem(move(api, case["id"], "panel_review", clerk.username), 422, "separation-of-duties")


def test_approving_the_visit_is_preliminary_review_and_bars_the_approval_001(api, db_session):
    both = _user(db_session, "reviewer_approver", ["reviewer", "approver"])
    case = investigating(api, db_session)
    record = complete_visit(api, case, approve=False)
    review = ok(api.get(both.username, f"/api/reviews/{record['id']}"))
    ok(api.post(both.username, f"/api/reviews/{record['id']}/transitions",
                json={"to": "approved", "comments": []},
                headers={"If-Match": f'"{review["version"]}"'}))
    body = problem(move(api, case["id"], "refused", both.username, **_REASONS), 422,
                   "separation-of-duties")
    assert body["done"] == "preliminary_review"
    assert body["earlier"]["path"] == "visit_review.approved"


def test_every_preliminary_reviewer_is_remembered_after_an_objection_001(api, db_session):
    first = _user(db_session, "first_reviewer", ["reviewer", "approver"])
    case = investigating(api, db_session)
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(move(api, case["id"], "panel_review", first.username))
    panel = held(api, case["id"])
    ok(move(api, case["id"], "reviewing", first.username, panel=panel,
            proposal={"per_capita_income_yuan": "300"}))
    ok(move(api, case["id"], "public_notice", "wenping_reviewer"))
    ok(move(api, case["id"], "investigating", "wenping_intake",
            objection={"raised_by_name": "邻居", "content": "有车"}))
    ok(move(api, case["id"], "panel_review", "wenping_reviewer"))
    ok(move(api, case["id"], "reviewing", "wenping_reviewer", panel=panel,
            proposal={"per_capita_income_yuan": "300"}))
    ok(move(api, case["id"], "public_notice", "wenping_reviewer"))
    later(days=7)
    draw_and_check(api, case["id"])
    body = problem(move(api, case["id"], "approved", first.username), 422,
                   "separation-of-duties")
    assert body["done"] == "preliminary_review"
    reviewers = {e["person"]["user_id"] for e in wf(api, case["id"])["duty_history"]
                 if e["duty"] == "preliminary_review"}
    assert reviewers == {first.id, api.user_id("wenping_reviewer")}


def test_moving_into_panel_review_is_preliminary_review_001(api, db_session):
    clerk = _user(db_session, "clerk_reviewer2", ["intake_clerk", "reviewer"])
    case = create_case(api, db_session, intake=clerk.username)
    ok(api.put("wenping_intake", f"/api/cases/{case['id']}/team", json={"user_ids": [
        api.user_id("wenping_fw1"), api.user_id("wenping_fw2")]}, headers={"If-Match": '"1"'}))
    complete_visit(api, case)
    body = problem(move(api, case["id"], "panel_review", clerk.username), 422,
                   "separation-of-duties")
    assert body["done"] == "intake" and body["earlier"]["path"] == "case.create"


def test_supervision_is_kept_apart_from_approval_003(api, db_session):
    both = _user(db_session, "supervisor_approver", ["county_supervisor", "approver"], COUNTY)
    case = investigating(api, db_session)
    month = clock.today_in_china().strftime("%Y-%m")
    ok(api.post(both.username, "/api/spot-checks/draws", json={"month": month}), 201)
    body = problem(move(api, case["id"], "refused", both.username, **_REASONS), 422,
                   "separation-of-duties")
    assert body["done"] == "supervision" and body["rule"] == "003"
    assert body["earlier"]["path"] == "spot_check.draw"


def test_a_declared_relative_takes_no_duty_at_all_004(api, db_session):
    relative = _user(db_session, "relative_reviewer", ["reviewer", "approver"])
    case = investigating(api, db_session)
    db_session.add(StaffRelative(household_id=case["household_id"], user_id=relative.id,
                                 relation="侄子"))
    db_session.commit()
    record = complete_visit(api, case, approve=False)
    review = ok(api.get(relative.username, f"/api/reviews/{record['id']}"))
    body = problem(api.post(relative.username, f"/api/reviews/{record['id']}/transitions",
                            json={"to": "approved", "comments": []},
                            headers={"If-Match": f'"{review["version"]}"'}),
                   422, "separation-of-duties")
    assert body["is_relative"] is True
    problem(move(api, case["id"], "refused", relative.username, **_REASONS), 422,
            "separation-of-duties")


def test_a_whole_case_names_every_path_in_its_history(api, db_session):
    case = investigating(api, db_session)
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(move(api, case["id"], "panel_review", "wenping_reviewer"))
    panel = held(api, case["id"])
    ok(move(api, case["id"], "reviewing", "wenping_reviewer", panel=panel,
            proposal={"per_capita_income_yuan": "300"}))
    ok(move(api, case["id"], "public_notice", "wenping_reviewer"))
    later(days=7)
    draw_and_check(api, case["id"])
    ok(move(api, case["id"], "approved", "wenping_approver"))
    ok(move(api, case["id"], "stopped", "wenping_approver", **_REASONS))
    history = wf(api, case["id"])["duty_history"]
    steps = [(e["duty"], e["path"], e["person"]["user_id"]) for e in history]
    intake, reviewer, approver, county = (api.user_id(u) for u in (
        "wenping_intake", "wenping_reviewer", "wenping_approver", "county_supervisor"))
    expected = [("intake", "case.create", intake),
                ("intake", "case.team.intake_complete", intake),
                ("preliminary_review", "visit_review.approved", reviewer),
                ("preliminary_review", "transition:investigating:panel_review", reviewer),
                ("preliminary_review", "panel.draw", reviewer),
                ("preliminary_review", "transition:panel_review:reviewing", reviewer),
                ("supervision", "spot_check.draw", county)]
    assert steps[:len(expected)] == expected
    assert steps[-2:] == [("approval", "transition:public_notice:approved", approver),
                          ("approval", "transition:approved:stopped", approver)]
    assert all(e["at"] and e["roles"] for e in history)


def test_a_review_visit_pushed_by_the_team_takes_no_duty(api, db_session):
    """Field workers take no duty: attesting a visit is evidence, not a decision."""
    case = investigating(api, db_session)
    push(api, [attested_visit(api, case)])
    assert [e["path"] for e in wf(api, case["id"])["duty_history"]] == [
        "case.create", "case.team.intake_complete"]
