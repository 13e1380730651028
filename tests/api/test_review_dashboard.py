"""The supervisors' dashboard and its server-drawn charts (issue 10): who sees which area,
the figures per village and per field worker, and safe SVG."""

from __future__ import annotations

import random
import statistics
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from backend import clock
from backend.cases.models import Case
from backend.reviews.models import VisitReview
from tests.api.test_reviews import ISSUE, assigned_case, move, problem, push
from tests.visit_factory import submission

TOWNSHIP = "530621100"


@pytest.fixture
def visits(api):
    """Two visits of one Wenping case: a 25-minute one sent back with issues, and a 5-minute
    one stamped 5 km from home."""
    case = assigned_case(api)
    calm = submission(case, minutes=25)
    far = submission(case, minutes=5, offset_m=5000)
    push(api, [calm, far])
    assert move(api, calm, "has_issues", comments=ISSUE).status_code == 200
    return {"case": case, "calm": calm, "far": far}


def dashboard(api, username="wenping_reviewer", query=""):
    response = api.get(username, f"/api/reviews/dashboard{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_reviewer_sees_their_township_per_village_and_field_worker(api, visits):
    body = dashboard(api)
    assert body["scope_code"] == TOWNSHIP and body["scope_name"]
    village = next(v for v in body["villages"] if v["code"] == visits["case"]["jurisdiction_code"])
    assert village["name"] and village["visits"] >= 2
    assert all(v["code"].startswith(TOWNSHIP) for v in body["villages"])
    fw1 = next(w for w in body["field_workers"] if w["user_id"] == api.user_id("wenping_fw1"))
    assert fw1["name"] and fw1["visits"] >= 2
    assert body["totals"]["visits"] == sum(v["visits"] for v in body["villages"])
    assert body["totals"]["open_cases"] >= 1
    assert [c["metric"] for c in body["charts"]] == [
        "flags_per_100_visits", "has_issues_rate", "untouched_cases"]


def test_figures_of_just_these_visits(api, visits):
    village = visits["case"]["jurisdiction_code"]
    body = dashboard(api, query=f"?village={village}&days=1")
    [row] = body["villages"]
    assert row["visits"] == 2
    assert row["median_duration_minutes"] == 15.0  # median of 25 and 5
    assert row["has_issues_rate"] == 0.5
    assert row["flags_per_100_visits"] >= 100  # the far visit: far-from-home and too short


def _figures_in_python(rows) -> dict:
    """The figures as the dashboard computed them in Python over every review row before it
    grouped in SQL: the oracle the SQL must match."""
    groups: dict[tuple[str, str], list] = {}
    for row in rows:
        groups.setdefault(("all", ""), []).append(row)
        groups.setdefault(("village", row.jurisdiction_code), []).append(row)
        for user_id in filter(None, row.team_ids.split(",")):
            groups.setdefault(("member", user_id), []).append(row)
    figures = {}
    for key, members in groups.items():
        durations = [(r.ended_at - r.started_at).total_seconds() / 60 for r in members
                     if r.started_at and r.ended_at and r.ended_at >= r.started_at]
        count = len(members)
        figures[key] = {
            "visits": count,
            "median_duration_minutes": round(statistics.median(durations), 1)
            if durations else None,
            "flags_per_100_visits": round(100 * sum(
                len([c for c in r.flag_codes.split(",") if c]) for r in members) / count, 1),
            "has_issues_rate": round(sum(1 for r in members if r.sent_back_count) / count, 3)}
    return figures


def test_sql_figures_match_the_python_ones(api, db_session):
    """Varied visits (odd and even counts, seconds in the durations, missing and reversed
    stamps, teams of one to three, flags, sent back or not) give the same figures as the
    Python arithmetic the dashboard used before it grouped in SQL."""
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    cases = [c for c in items["items"] if c["household"]["home_lat"] is not None
             and c["kind"] != "extreme_poverty"]
    assert len({c["jurisdiction_code"] for c in cases}) >= 2
    records = [submission(cases[i % len(cases)]) for i in range(13)]
    push(api, records)
    rng = random.Random(7)
    people = [api.user_id(u) for u in ("wenping_fw1", "wenping_fw2", "wenping_assistant")]
    flag_lists = [",", ",stamp-far-from-home,", ",visit-too-short,photo-no-exif-location,",
                  ",a,b,c,"]
    now = clock.now()
    for index, record in enumerate(records):
        started = now - timedelta(hours=2, seconds=rng.randint(0, 7200))
        ended = started + timedelta(seconds=rng.randint(60, 5400))
        if index % 6 == 1:
            ended = None
        elif index % 6 == 4:
            ended = started - timedelta(minutes=3)  # a skewed clock: no duration
        team = people[:1 + index % 3] if index % 4 else people[1:2]
        db_session.execute(update(VisitReview).where(
            VisitReview.submission_id == record["id"]).values(
            started_at=started, ended_at=ended, flag_codes=rng.choice(flag_lists),
            sent_back_count=rng.choice([0, 0, 1, 2]), team_ids="," + ",".join(team) + ","))
    db_session.commit()  # a request's end closes the session: the changes must be in
    rows = db_session.execute(select(
        VisitReview.jurisdiction_code, VisitReview.team_ids, VisitReview.started_at,
        VisitReview.ended_at, VisitReview.flag_codes, VisitReview.sent_back_count).where(
        VisitReview.jurisdiction_code.like(TOWNSHIP + "%"))).all()
    assert len(rows) == 13
    expected = _figures_in_python(rows)
    body = dashboard(api)
    fields = ("visits", "median_duration_minutes", "flags_per_100_visits", "has_issues_rate")

    def figures(metrics: dict) -> dict:
        return {name: metrics[name] for name in fields}

    assert figures(body["totals"]) == expected[("all", "")]
    assert {v["code"]: figures(v) for v in body["villages"] if v["visits"]} == {
        code: f for (kind, code), f in expected.items() if kind == "village"}
    assert {w["user_id"]: figures(w) for w in body["field_workers"] if w["visits"]} == {
        uid: f for (kind, uid), f in expected.items() if kind == "member"}


def test_overdue_and_untouched_cases(api, visits, db_session):
    long_ago = clock.now() - timedelta(days=70)
    db_session.execute(update(Case).where(Case.jurisdiction_code.like(TOWNSHIP + "%"),
                                          Case.id != visits["case"]["id"]).values(
        updated_at=long_ago, deadline_on=(long_ago).date(), deadline_at=None))
    totals = dashboard(api)["totals"]
    assert totals["overdue_cases"] >= 1
    assert totals["untouched_60_days"] >= 1 and totals["untouched_120_days"] == 0
    assert totals["untouched_30_days"] >= totals["untouched_60_days"]


def test_county_supervisor_sees_the_county_and_approver_reads(api, visits):
    county = dashboard(api, "county_supervisor")
    townships = {v["code"][:9] for v in county["villages"]}
    assert TOWNSHIP in townships and len(townships) > 1
    assert dashboard(api, "wenping_approver")["scope_code"] == TOWNSHIP
    other = dashboard(api, "longtoushan_reviewer")
    assert not any(v["code"].startswith(TOWNSHIP) for v in other["villages"])


def test_a_village_outside_the_area_is_empty(api, visits):
    body = dashboard(api, "longtoushan_reviewer",
                     f"?village={visits['case']['jurisdiction_code']}")
    assert body["scope_code"] is None and body["villages"] == []
    assert body["totals"]["visits"] == 0


def test_field_workers_get_403(api):
    for username in ("wenping_fw1", "wenping_fw2"):
        problem(api.get(username, "/api/reviews/dashboard"), 403, "forbidden")
        problem(api.get(username, "/api/reviews/dashboard/charts/has_issues_rate.svg"),
                403, "forbidden")
    assert api.client.get("/api/reviews/dashboard").status_code == 401


@pytest.mark.parametrize("metric", ["flags_per_100_visits", "has_issues_rate",
                                    "untouched_cases"])
@pytest.mark.parametrize(("lang", "word"), [("zh-CN", "村"), ("en", "")])
def test_charts_are_safe_svg(api, visits, metric, lang, word):
    response = api.get("wenping_reviewer",
                       f"/api/reviews/dashboard/charts/{metric}.svg?lang={lang}")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    root = ET.fromstring(response.data)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text and root.find(f"{ns}desc").text
    assert root.get("lang") == lang
    svg = response.get_data(as_text=True)
    assert "<script" not in svg and "href" not in svg
    assert word in svg


def test_chart_words_follow_the_language(api, visits):
    zh = api.get("wenping_reviewer", "/api/reviews/dashboard/charts/has_issues_rate.svg")
    en = api.get("wenping_reviewer",
                 "/api/reviews/dashboard/charts/has_issues_rate.svg?lang=en")
    assert "退回补正率" in zh.get_data(as_text=True)
    assert "Visits sent back with issues" in en.get_data(as_text=True)


def test_unknown_chart_and_language(api):
    problem(api.get("wenping_reviewer", "/api/reviews/dashboard/charts/salaries.svg"),
            404, "not-found")
    problem(api.get("wenping_reviewer",
                    "/api/reviews/dashboard/charts/has_issues_rate.svg?lang=fr"),
            422, "validation-failed")


def test_open_case_figures_match_the_rules(api, visits, db_session):
    """The database counts the open cases (cases.service.open_case_counts); on varied cases
    (deadlines past, due today and to come, in Beijing; last changes either side of 30, 60
    and 120 days; a review more recent than its case; closed cases) its counts per village,
    per field worker and in all equal those of cases.rules.is_overdue and whole days
    untouched, taken here case by case."""
    from backend.cases import rules as case_rules
    from backend.cases.models import CaseTeamMember

    now = clock.now()
    today = now.astimezone(clock.SHANGHAI).date()
    ages = [1, 29.5, 30.5, 45, 59.6, 60.4, 100, 119.5, 121, 300, -1]
    deadlines = [dict(deadline_at=now - timedelta(hours=3), deadline_on=today + timedelta(9)),
                 dict(deadline_at=now + timedelta(days=2), deadline_on=today - timedelta(9)),
                 dict(deadline_at=None, deadline_on=today - timedelta(days=1)),
                 dict(deadline_at=None, deadline_on=today),
                 dict(deadline_at=None, deadline_on=today + timedelta(days=1)),
                 dict(deadline_at=None, deadline_on=None)]
    ids = list(db_session.scalars(select(Case.id).where(Case.jurisdiction_code.like(
        TOWNSHIP + "%")).order_by(Case.id)))
    assert len(ids) >= 6
    for index, case_id in enumerate(ids):
        status = "approved" if index % 7 == 6 else case_rules.OPEN_STATUSES[index % 5]
        db_session.execute(update(Case).where(Case.id == case_id).values(
            status=status, updated_at=now - timedelta(days=ages[index % len(ages)]),
            **deadlines[index % len(deadlines)]))
    reviewed_case = visits["case"]["id"]
    db_session.execute(update(Case).where(Case.id == reviewed_case).values(
        status="investigating", updated_at=now - timedelta(days=200)))
    db_session.execute(update(VisitReview).where(VisitReview.case_id == reviewed_case).values(
        updated_at=now - timedelta(days=45)))  # touched 45 days ago, not 200
    db_session.commit()

    body = dashboard(api)
    at = datetime.fromisoformat(body["generated_at"])
    reviewed = dict(db_session.execute(select(VisitReview.case_id, func.max(
        VisitReview.updated_at)).group_by(VisitReview.case_id)).all())
    team: dict[str, set[str]] = {}
    for case_id, user_id in db_session.execute(select(CaseTeamMember.case_id,
                                                      CaseTeamMember.user_id)):
        team.setdefault(case_id, set()).add(user_id)
    expected: dict[tuple[str, str], dict[str, int]] = {}
    for row in db_session.execute(select(Case).where(
            Case.jurisdiction_code.like(TOWNSHIP + "%"),
            Case.status.in_(case_rules.OPEN_STATUSES))).scalars():
        touched = max(row.updated_at, reviewed.get(row.id, row.updated_at))
        idle = max(0, (at - touched).days)
        figures = {"open_cases": 1,
                   "overdue_cases": int(case_rules.is_overdue(
                       row.deadline_on, row.deadline_at, row.status, at, clock.SHANGHAI)),
                   "untouched_30_days": int(idle >= 30), "untouched_60_days": int(idle >= 60),
                   "untouched_120_days": int(idle >= 120)}
        keys = [("all", ""), ("village", row.jurisdiction_code),
                *(("member", user_id) for user_id in team.get(row.id, ()))]
        for key in keys:
            sums = expected.setdefault(key, dict.fromkeys(figures, 0))
            for name, value in figures.items():
                sums[name] += value
    fields = ("open_cases", "overdue_cases", "untouched_30_days", "untouched_60_days",
              "untouched_120_days")
    assert expected[("all", "")]["overdue_cases"] >= 2
    assert 0 < expected[("all", "")]["untouched_120_days"] < expected[("all", "")][
        "untouched_30_days"]

    def figures(rows, key):
        return {row[key]: {name: row[name] for name in fields}
                for row in rows if row["open_cases"]}

    assert {name: body["totals"][name] for name in fields} == expected[("all", "")]
    assert figures(body["villages"], "code") == {
        code: f for (kind, code), f in expected.items() if kind == "village"}
    assert figures(body["field_workers"], "user_id") == {
        uid: f for (kind, uid), f in expected.items() if kind == "member"}
