"""Reviewing home visits (issue 10): states, roles, scoping, If-Match, comments, the team's
review tasks on pull, the queue and the diff between revisions."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.audit.models import AuditEvent
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.cases.models import CaseTeamMember
from backend.reviews.models import VisitReview
from tests.conftest import DEMO_PASSWORD
from tests.visit_factory import member, submission, survey_answers

TOWNSHIP = "530621100"


def assigned_case(api, username="wenping_fw1"):
    items = api.get(username, "/api/cases?assigned_to_me=true&page_size=100").get_json()["items"]
    return next(c for c in items if c["household"]["home_lat"] is not None
                and c["kind"] != "extreme_poverty")


def push(api, records, username="wenping_fw1"):
    response = api.post(username, "/api/sync/push",
                        json={"device_id": "device-aaaaaaaa", "records": records})
    results = response.get_json()["results"]
    assert all(r["status"] == "accepted" for r in results), results
    return results


@pytest.fixture
def visit(api):
    """A visit pushed by the team (fw1, fw2) of a Wenping case: its record and its review."""
    case = assigned_case(api)
    record = submission(case, data=survey_answers(members=[
        member(), member(name="李建国", relation="spouse", id_number="530621195501010014",
                         age=71)]))
    push(api, [record])
    return record


def review_of(api, record, username="wenping_reviewer"):
    response = api.get(username, f"/api/reviews/{record['id']}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def move(api, record, to, username="wenping_reviewer", version=None, comments=None,
         if_match=True):
    if version is None:
        version = review_of(api, record)["version"]
    headers = {"If-Match": f'"{version}"'} if if_match else {}
    return api.post(username, f"/api/reviews/{record['id']}/transitions",
                    json={"to": to, "comments": comments or []}, headers=headers)


def revise(api, record, **answers):
    """The team's fix: the same visit, a new revision."""
    edited = copy.deepcopy(record)
    edited["base_revision"] = push_revision = edited.get("_revision", 1)
    edited.pop("_revision", None)
    edited["data"].update(answers)
    result = push(api, [edited])[0]
    assert result["revision"] == push_revision + 1
    record["_revision"] = result["revision"]
    record["data"] = edited["data"]
    return result


def problem(response, status, slug):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["type"] == slug, body
    return body


ISSUE = [{"field": "housing_area", "text": "面积与照片不符，请复核"}]


# --- state machine through the API ---------------------------------------------------------

def test_first_revision_starts_received_and_is_audited(api, visit, db_session):
    review = review_of(api, visit)
    assert review["state"] == "received" and review["revision"] == 1
    assert review["allowed"] == ["has_issues", "approved", "rejected", "revisit_requested"]
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == visit["id"], AuditEvent.action == "review.received")) == 1


@pytest.mark.parametrize("target", ["approved", "rejected", "revisit_requested"])
def test_reviewer_decides_a_received_visit(api, visit, db_session, target):
    response = move(api, visit, target)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == target
    assert response.headers["ETag"] == f'"{response.get_json()["version"]}"'
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == visit["id"], AuditEvent.action == f"review.{target}")) == 1


def test_has_issues_then_resubmitted_then_approved(api, visit, db_session):
    response = move(api, visit, "has_issues", comments=ISSUE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "has_issues"
    assert [(c["field"], c["text"]) for c in body["comments"]] == [
        ("housing_area", "面积与照片不符，请复核")]
    revise(api, visit, housing_area=38.0)
    after = review_of(api, visit)
    assert after["state"] == "resubmitted" and after["revision"] == 2
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == visit["id"], AuditEvent.action == "review.revised")) == 1
    approved = move(api, visit, "approved")
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"


@pytest.mark.parametrize("target", ["has_issues", "rejected", "revisit_requested"])
def test_resubmitted_visit_can_be_sent_back_rejected_or_revisited(api, visit, target):
    move(api, visit, "has_issues", comments=ISSUE)
    revise(api, visit, housing_area=38.0)
    response = move(api, visit, target, comments=ISSUE if target == "has_issues" else None)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == target


def test_has_issues_needs_a_comment(api, visit):
    problem(move(api, visit, "has_issues"), 422, "review-comment-required")
    assert review_of(api, visit)["state"] == "received"


def test_illegal_transition_is_409_naming_both_states(api, visit):
    assert move(api, visit, "approved").status_code == 200
    body = problem(move(api, visit, "rejected"), 409, "review-transition-not-allowed")
    assert (body["from_state"], body["to_state"]) == ("approved", "rejected")
    assert "approved" in body["detail"] and "rejected" in body["detail"]


def test_has_issues_cannot_be_approved_before_the_fix(api, visit):
    move(api, visit, "has_issues", comments=ISSUE)
    body = problem(move(api, visit, "approved"), 409, "review-transition-not-allowed")
    assert (body["from_state"], body["to_state"]) == ("has_issues", "approved")


def test_new_visit_of_the_case_supersedes_a_requested_revisit(api, visit):
    assert move(api, visit, "revisit_requested").status_code == 200
    case = api.get("wenping_fw1", f"/api/cases/{visit['case_id']}").get_json()
    second = submission(case)
    push(api, [second])
    assert review_of(api, visit)["state"] == "superseded"
    assert review_of(api, second)["state"] == "received"


# --- If-Match --------------------------------------------------------------------------------

def test_change_without_if_match_is_428(api, visit):
    problem(move(api, visit, "approved", if_match=False), 428, "precondition-required")
    problem(api.post("wenping_reviewer", f"/api/reviews/{visit['id']}/comments",
                     json={"text": "x"}), 428, "precondition-required")


def test_stale_if_match_is_412(api, visit):
    version = review_of(api, visit)["version"]
    ok = api.post("wenping_reviewer", f"/api/reviews/{visit['id']}/comments",
                  json={"text": "先看看照片"}, headers={"If-Match": f'"{version}"'})
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["version"] == version + 1
    body = problem(move(api, visit, "approved", version=version), 412, "stale-version")
    assert body["current_version"] == version + 1
    assert review_of(api, visit)["state"] == "received"


# --- comments --------------------------------------------------------------------------------

def test_comment_on_a_repeat_field(api, visit):
    version = review_of(api, visit)["version"]
    response = api.post("wenping_reviewer", f"/api/reviews/{visit['id']}/comments",
                        json={"field": "members[1].id_number", "text": "身份证号与户口簿不符"},
                        headers={"If-Match": f'"{version}"'})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["comments"][0]["field"] == "members[1].id_number"


@pytest.mark.parametrize("field", ["house_size", "members[5].name", "members[0].shoe_size",
                                   "housing_area[0].x"])
def test_comment_on_an_unknown_field_is_422(api, visit, field):
    version = review_of(api, visit)["version"]
    body = problem(api.post("wenping_reviewer", f"/api/reviews/{visit['id']}/comments",
                            json={"field": field, "text": "?"},
                            headers={"If-Match": f'"{version}"'}), 422, "review-field-unknown")
    assert body["errors"]
    problem(move(api, visit, "has_issues", comments=[{"field": field, "text": "?"}]),
            422, "review-field-unknown")
    assert review_of(api, visit)["comments"] == []


# --- roles and scope -------------------------------------------------------------------------

def test_field_worker_never_sees_the_queue(api, visit):
    problem(api.get("wenping_fw1", "/api/reviews"), 403, "forbidden")
    problem(api.get("wenping_fw3", f"/api/reviews/{visit['id']}"), 403, "forbidden")
    problem(move(api, visit, "approved", username="wenping_fw3", version=1), 403, "forbidden")


def test_other_townships_reviewer_gets_404(api, visit):
    for username in ("longtoushan_reviewer", "longtoushan_approver"):
        problem(api.get(username, f"/api/reviews/{visit['id']}"), 404, "review-not-found")
    problem(move(api, visit, "approved", username="longtoushan_reviewer", version=1),
            404, "review-not-found")
    problem(api.post("longtoushan_reviewer", f"/api/reviews/{visit['id']}/comments",
                     json={"text": "x"}, headers={"If-Match": '"1"'}), 404, "review-not-found")
    problem(api.get("longtoushan_reviewer", f"/api/reviews/{visit['id']}/diff"),
            404, "review-not-found")
    queue = api.get("longtoushan_reviewer", "/api/reviews").get_json()
    assert visit["id"] not in [r["submission_id"] for r in queue["items"]]


def test_approver_reads_but_does_not_change(api, visit):
    assert review_of(api, visit, "wenping_approver")["allowed"] == []
    problem(move(api, visit, "approved", username="wenping_approver"), 403, "forbidden")
    problem(api.post("wenping_approver", f"/api/reviews/{visit['id']}/comments",
                     json={"text": "x"}, headers={"If-Match": '"1"'}), 403, "forbidden")


def test_county_supervisor_reads_every_township_and_comments(api, visit):
    ids = [r["submission_id"] for r in api.get("county_supervisor", "/api/reviews?limit=200")
           .get_json()["items"]]
    assert visit["id"] in ids
    version = review_of(api, visit, "county_supervisor")["version"]
    response = api.post("county_supervisor", f"/api/reviews/{visit['id']}/comments",
                        json={"text": "抽查：请补拍住房照片"},
                        headers={"If-Match": f'"{version}"'})
    assert response.status_code == 201, response.get_json()
    problem(move(api, visit, "approved", username="county_supervisor"), 403, "forbidden")


def test_reviewer_on_the_visit_team_may_not_review_it(api, visit, db_session):
    user = auth.create_user("wenping_fw_reviewer", DEMO_PASSWORD,
                            [roles.FIELD_WORKER, roles.REVIEWER], TOWNSHIP)
    db_session.add(CaseTeamMember(case_id=visit["case_id"], user_id=user.id,
                                  assigned_at=clock.now()))
    db_session.commit()  # a savepoint of the test's transaction: sign-in ends its read
    assert review_of(api, visit, "wenping_fw_reviewer")["allowed"] == []
    problem(move(api, visit, "approved", username="wenping_fw_reviewer"), 403,
            "review-own-visit")
    problem(api.post("wenping_fw_reviewer", f"/api/reviews/{visit['id']}/comments",
                     json={"text": "x"}, headers={"If-Match": '"1"'}), 403, "review-own-visit")
    assert review_of(api, visit)["state"] == "received"


# --- the team's phones -------------------------------------------------------------------

def test_has_issues_reaches_the_team_only_and_leaves_after_the_fix(api, visit):
    fw1_cursor = api.get("wenping_fw1", "/api/sync/pull").get_json()["cursor"]
    other_cursor = api.get("wenping_fw3", "/api/sync/pull").get_json()["cursor"]
    move(api, visit, "has_issues", comments=ISSUE)
    pulled = api.get("wenping_fw1", f"/api/sync/pull?cursor={fw1_cursor}").get_json()
    assert pulled["review_tasks"] == [{
        "submission_id": visit["id"], "case_id": visit["case_id"], "state": "has_issues",
        "revision": 1, "comments": [{"field": "housing_area", "text": ISSUE[0]["text"],
                                     "created_at": pulled["review_tasks"][0]["comments"][0][
                                         "created_at"]}]}]
    teammate = api.get("wenping_fw2", "/api/sync/pull").get_json()
    assert [t["submission_id"] for t in teammate["review_tasks"]] == [visit["id"]]
    assert "review_tasks" not in api.get(
        "wenping_fw3", f"/api/sync/pull?cursor={other_cursor}").get_json()
    assert "review_tasks" not in api.get(
        "longtoushan_fw1", "/api/sync/pull").get_json()
    again = api.get("wenping_fw1", f"/api/sync/pull?cursor={pulled['cursor']}").get_json()
    assert "review_tasks" not in again
    revise(api, visit, housing_area=38.0)
    fixed = api.get("wenping_fw1", f"/api/sync/pull?cursor={pulled['cursor']}").get_json()
    assert fixed["review_tasks"] == []


def test_requested_revisit_reaches_the_team(api, visit):
    move(api, visit, "revisit_requested", comments=[{"field": None, "text": "请再次入户"}])
    tasks = api.get("wenping_fw1", "/api/sync/pull").get_json()["review_tasks"]
    assert [(t["state"], t["case_id"]) for t in tasks] == [("revisit_requested",
                                                            visit["case_id"])]
    assert tasks[0]["comments"][0]["text"] == "请再次入户"


def test_an_old_five_field_cursor_still_pulls(api):
    import base64
    import json

    from backend.sync.rules import decode

    cursor = api.get("wenping_fw1", "/api/sync/pull").get_json()["cursor"]
    five = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[:5]
    old = base64.urlsafe_b64encode(json.dumps(five).encode()).decode().rstrip("=")
    assert decode(old) is not None
    assert api.get("wenping_fw1", f"/api/sync/pull?cursor={old}").status_code == 200


# --- the queue ---------------------------------------------------------------------------------

def test_queue_sorts_by_risk_then_age_and_counts_states(api, db_session):
    case = assigned_case(api)
    calm = submission(case)
    far = submission(case, offset_m=5000)  # stamp-far-from-home: an alert
    push(api, [calm])
    push(api, [far])
    body = api.get("wenping_reviewer", "/api/reviews?limit=200").get_json()
    ids = [r["submission_id"] for r in body["items"]]
    assert ids.index(far["id"]) < ids.index(calm["id"])
    risky = body["items"][ids.index(far["id"])]
    assert "stamp-far-from-home" in risky["flag_codes"] and risky["risk"] >= 10_000
    assert body["counts"]["received"] >= 2 and set(body["counts"]) >= {"has_issues", "approved"}
    flagged = api.get("wenping_reviewer", "/api/reviews?flag=stamp-far-from-home").get_json()
    assert far["id"] in [r["submission_id"] for r in flagged["items"]]
    assert calm["id"] not in [r["submission_id"] for r in flagged["items"]]
    fw2 = api.user_id("wenping_fw2")
    by_member = api.get("wenping_reviewer", f"/api/reviews?member={fw2}").get_json()
    assert {far["id"], calm["id"]} <= {r["submission_id"] for r in by_member["items"]}
    village = case["jurisdiction_code"]
    other = "530621100202" if village.endswith("201") else "530621100201"
    assert not {far["id"], calm["id"]} & {r["submission_id"] for r in api.get(
        "wenping_reviewer", f"/api/reviews?village={other}").get_json()["items"]}
    db_session.execute(VisitReview.__table__.update().where(
        VisitReview.submission_id == calm["id"]).values(
        received_at=db_session.scalar(select(VisitReview.received_at).where(
            VisitReview.submission_id == calm["id"])).replace(year=2026, month=1, day=1)))
    old = api.get("wenping_reviewer", "/api/reviews?min_age_days=30").get_json()
    assert [r["submission_id"] for r in old["items"]] == [calm["id"]]
    young = api.get("wenping_reviewer", "/api/reviews?max_age_days=1").get_json()
    assert calm["id"] not in [r["submission_id"] for r in young["items"]]
    move(api, calm, "approved")
    approved = api.get("wenping_reviewer", "/api/reviews?state=approved").get_json()
    assert [r["submission_id"] for r in approved["items"]] == [calm["id"]]
    assert approved["counts"]["approved"] == 1


def test_queue_rows_name_the_household_head_without_a_case_read(api, visit):
    """The desk shows the head's name from the queue page itself; the evidence view too."""
    case = api.get("wenping_reviewer", f"/api/cases/{visit['case_id']}").get_json()
    head = case["household"]["head_name"]
    assert head
    items = api.get("wenping_reviewer", "/api/reviews?limit=200").get_json()["items"]
    row = next(r for r in items if r["submission_id"] == visit["id"])
    assert row["head_name"] == head
    assert all(r["head_name"] for r in items)  # every demo household has a head
    assert review_of(api, visit)["head_name"] == head


def test_every_demo_household_has_a_head(db_session):
    from backend.households.models import Household, Member

    headless = db_session.scalars(select(Household.id).where(~select(Member.id).where(
        Member.household_id == Household.id, Member.relation == "head").exists())).all()
    assert db_session.scalar(select(func.count()).select_from(Household)) > 0
    assert headless == []


def test_queue_keyset_pages_cover_everything_once(api):
    case = assigned_case(api)
    records = [submission(case, offset_m=5000 if i % 2 else 0) for i in range(5)]
    push(api, records)
    seen, cursor = [], None
    while True:
        url = "/api/reviews?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get("wenping_reviewer", url).get_json()
        seen += [r["submission_id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted({r["id"] for r in records} | set(seen))
    assert len(seen) == len(set(seen)) >= 5
    everything = api.get("wenping_reviewer", "/api/reviews?limit=200").get_json()["items"]
    assert seen == [r["submission_id"] for r in everything]


def test_bad_page_cursor_is_422(api):
    problem(api.get("wenping_reviewer", "/api/reviews?cursor=%%%bad"), 422, "validation-failed")


# --- the diff --------------------------------------------------------------------------------

def test_diff_between_revisions_masked_per_role(api, visit):
    move(api, visit, "has_issues", comments=ISSUE)
    members = copy.deepcopy(visit["data"]["members"])
    members[1]["id_number"] = "530621195501010057"
    revise(api, visit, housing_area=38.0, members=members, notes="儿子电话 13912345678")
    diff = api.get("wenping_reviewer", f"/api/reviews/{visit['id']}/diff").get_json()
    assert (diff["from_revision"], diff["to_revision"]) == (1, 2)
    changes = {c["field"]: c for c in diff["changes"]}
    assert set(changes) == {"housing_area", "members[1].id_number", "notes"}
    assert (changes["housing_area"]["before"], changes["housing_area"]["after"]) == (45.5, 38.0)
    # Issue 22: a resident ID is masked for every role (the reviewer reveals one with a
    # purpose); the diff still shows that it changed, and the last four digits tell how.
    assert (changes["members[1].id_number"]["before"],
            changes["members[1].id_number"]["after"]) == ("5306**********0014",
                                                          "5306**********0057")
    masked = api.get("county_supervisor", f"/api/reviews/{visit['id']}/diff?from=1&to=2")
    ids = {c["field"]: c for c in masked.get_json()["changes"]}["members[1].id_number"]
    assert (ids["before"], ids["after"]) == ("5306**********0014", "5306**********0057")
    # A number typed into free text is masked too (the same masker as every other read).
    notes = {c["field"]: c for c in masked.get_json()["changes"]}["notes"]
    assert "13912345678" not in notes["after"] and "5678" in notes["after"]


def test_diff_of_a_missing_revision_is_422(api, visit):
    problem(api.get("wenping_reviewer", f"/api/reviews/{visit['id']}/diff?to=3"),
            422, "validation-failed")
