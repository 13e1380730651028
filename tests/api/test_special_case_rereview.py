"""The county checks special cases' re-reviews (001: at least twice a year, at a 100% rate):
per half-year, which special cases were due one, which had it, the rate per township, and
who is still missing, scoped to the caller's area."""

from __future__ import annotations

from datetime import datetime

import pytest

from backend import clock
from backend.cases.models import Case
from tests.api.test_periodic_review import approved, open_review, reviewed
from tests.api.test_workflow import move, ok, problem

CHINA = clock.SHANGHAI
REPORT = "/api/periodic-reviews/special-cases"


@pytest.fixture(autouse=True)
def _clock():
    clock.freeze(datetime(2026, 12, 1, 10, 0, tzinfo=CHINA))
    yield
    clock.freeze(None)


def special_case(api, db_session) -> str:
    """An approved Wenping case, made a special case (一事一议) for the report's sake: its
    own path to approval (a 12-member panel) is tested in test_workflow."""
    case_id = approved(api, db_session)["id"]
    db_session.get(Case, case_id).kind = "special_case"
    db_session.flush()
    return case_id


def report(api, username="county_supervisor", **query):
    return ok(api.get(username, REPORT, query_string=query))


def township(body, code="530621100"):
    return next(t for t in body["townships"] if t["township_code"] == code)


def test_a_case_approved_before_the_half_is_due_and_counts_once_reviewed(api, db_session):
    case_id = special_case(api, db_session)
    # Approved in 2026's second half: new in that period, due from the next one.
    now = report(api)
    assert (now["year"], now["half"]) == (2026, 2)
    assert case_id not in [m["case_id"] for m in now["missing"]]
    assert township(now)["new_in_period"] >= 1

    clock.freeze(datetime(2027, 1, 20, 10, 0, tzinfo=CHINA))
    before = report(api)
    assert (before["year"], before["half"], before["period_start"]) == (2027, 1, "2027-01-01")
    assert before["required_rate"] == 1.0 and before["is_met"] is False
    missing = next(m for m in before["missing"] if m["case_id"] == case_id)
    assert missing["last_reviewed_on"] is None and missing["open_review_case_id"] is None
    assert missing["applicant_name"]
    wenping = township(before)
    assert wenping["township_name"] == "文屏镇" and wenping["expected"] >= 1

    review_id = ok(open_review(api, case_id), 201)["case_id"]
    under_way = next(m for m in report(api)["missing"] if m["case_id"] == case_id)
    assert under_way["open_review_case_id"] == review_id
    reviewed(api, review_id)
    ok(move(api, review_id, "continued", "wenping_approver"))

    after = report(api)
    assert case_id not in [m["case_id"] for m in after["missing"]]
    assert township(after)["reviewed"] == wenping["reviewed"] + 1
    assert township(after)["expected"] == wenping["expected"]
    assert after["reviewed"] == before["reviewed"] + 1
    assert after["is_met"] is (after["reviewed"] == after["expected"])
    # The same half of 2026 as it was: approved within it, so never counted as missed.
    past = report(api, year=2026, half=2)
    assert case_id not in [m["case_id"] for m in past["missing"]]
    # The next half-year needs a re-review again, with this one as the last.
    clock.freeze(datetime(2027, 7, 2, 10, 0, tzinfo=CHINA))
    next_half = next(m for m in report(api)["missing"] if m["case_id"] == case_id)
    assert next_half["last_reviewed_on"] == "2027-01-20"


def test_scoped_to_the_callers_area_and_roles(api, db_session):
    case_id = special_case(api, db_session)
    clock.freeze(datetime(2027, 2, 1, 10, 0, tzinfo=CHINA))
    for username in ("wenping_reviewer", "wenping_approver", "county_supervisor"):
        assert case_id in [m["case_id"] for m in report(api, username)["missing"]], username
    other = report(api, "longtoushan_reviewer")
    assert case_id not in [m["case_id"] for m in other["missing"]]
    assert "530621100" not in [t["township_code"] for t in other["townships"]]
    for username in ("wenping_fw1", "wenping_intake", "wenping_assistant"):
        problem(api.get(username, REPORT), 403, "forbidden")


def test_a_period_that_is_not_a_half_year_is_refused(api):
    for query in ({"half": 3}, {"half": 0}, {"year": 1999, "half": 1}, {"year": "x"}):
        body = problem(api.get("county_supervisor", REPORT, query_string=query), 422,
                       "validation-failed")
        assert body["errors"], query
