"""Demo data: one county, two townships, four villages, ~40 households, every case kind.

Names and ID numbers are made up; the ID numbers carry valid check characters so the
forms accept them (GB 11643-1999).
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from backend import clock
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.models import User
from backend.cases import service as cases
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.privacy import catalogue

COUNTY = ("530621", "鲁甸县")
TOWNSHIPS = [("530621100", "文屏镇", "wenping"), ("530621101", "龙头山镇", "longtoushan")]
VILLAGES = [
    ("530621100201", "砚池社区", "530621100"),
    ("530621100202", "大水井村", "530621100"),
    ("530621101201", "龙井村", "530621101"),
    ("530621101202", "光明村", "530621101"),
]
# Rough village centres (Ludian county, Yunnan) so homes have plausible GPS.
VILLAGE_CENTRES = {
    "530621100201": (27.1917, 103.5586), "530621100202": (27.2050, 103.5712),
    "530621101201": (27.0967, 103.4070), "530621101202": (27.0801, 103.3923),
}
SURNAMES = "张王李赵陈杨刘黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ["秀英", "桂兰", "建国", "志强", "丽华", "国华", "永福", "春梅", "海燕", "德明",
         "玉兰", "文军", "小红", "晓东", "金凤", "明亮", "家宝", "子涵", "雨桐", "浩然"]
ROLE_SETS = [
    ("fw1", [roles.FIELD_WORKER]), ("fw2", [roles.FIELD_WORKER]), ("fw3", [roles.FIELD_WORKER]),
    ("assistant", [roles.VILLAGE_ASSISTANT]), ("intake", [roles.INTAKE_CLERK]),
    ("reviewer", [roles.REVIEWER]), ("approver", [roles.APPROVER]), ("admin", [roles.ADMIN]),
]
CASE_PLAN = [("dibao", None), ("extreme_poverty", None), ("low_income_margin", None),
             ("temporary", "emergency"), ("temporary", "expenditure"), ("special_case", None)]


def resident_id(area: str, born: date, sequence: int) -> str:
    """Build a valid 18-character resident ID (ISO 7064 MOD 11-2 check character)."""
    body = f"{area}{born:%Y%m%d}{sequence:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def seed(password: str) -> dict | None:
    if jurisdictions.get(COUNTY[0]) is not None and auth.find_by_username("county_supervisor"):
        return None
    rng = random.Random(20261125)
    rows = [f"{COUNTY[0]},{COUNTY[1]},"]
    rows += [f"{code},{name},{COUNTY[0]}" for code, name, _ in TOWNSHIPS]
    rows += [f"{code},{name},{parent}" for code, name, parent in VILLAGES]
    jurisdictions.import_csv("code,name,parent_code\n" + "\n".join(rows) + "\n")
    # Fucheng-style township: no panel review, 12 working days for dibao, extreme
    # poverty and temporary aid alike (002).
    jurisdictions.update_settings("530621101", {"dibao_deadline_working_days": 12,
                                                "temporary_deadline_working_days": 12,
                                                "is_panel_review_held": False,
                                                "is_review_stage_notice_held": False})
    # Where objections to every notice go (004): each township's own line and desk.
    for (code, name, _), phone in zip(TOWNSHIPS, ("0870-5121234", "0870-5341234"),
                                      strict=True):
        jurisdictions.update_settings(code, {
            "objection_phone": phone,
            "objection_address": f"鲁甸县{name}人民政府社会事务办（民政窗口）"})
    for code, name, slug in TOWNSHIPS:
        for suffix, role_list in ROLE_SETS:
            number = suffix[-1] if suffix[-1].isdigit() else ""
            auth.create_user(f"{slug}_{suffix}", password, role_list, code,
                             display_name=f"{name}{_role_label(role_list[0])}{number}")
    auth.create_user("county_supervisor", password, [roles.COUNTY_SUPERVISOR], COUNTY[0],
                     display_name="县民政局督查员")
    # The county administrator sets what townships may not, e.g. integrity thresholds.
    auth.create_user("county_admin", password, [roles.ADMIN], COUNTY[0],
                     display_name="县民政局管理员")
    _seed_households(rng)
    _seed_workflow()
    return demo_logins()


def demo_logins() -> dict[str, list[tuple[str, str]]]:
    """The demo's usernames and roles by township (then the county), as ``seed`` makes them:
    printed by every `make run`, also when the database is already there."""
    logins = {name: [(f"{slug}_{suffix}", ", ".join(role_list)) for suffix, role_list in ROLE_SETS]
              for _, name, slug in TOWNSHIPS}
    logins[COUNTY[1]] = [("county_supervisor", roles.COUNTY_SUPERVISOR),
                         ("county_admin", roles.ADMIN)]
    return logins


def demo_recipients() -> list[tuple[str, str]]:
    """Console lines for recipients enrolled in an existing demo database: an activation
    code is stored only as its hash, so a pending one cannot be printed again (staff print a
    new slip from the check-in desk)."""
    from backend.auth.passwords import verify_password
    from backend.checkins.models import Recipient
    from backend.households.models import Member

    lines = []
    for recipient, name in db_session().execute(
            select(Recipient, Member.name).join(Member, Member.id == Recipient.member_id)
            .order_by(Recipient.enrolled_at)):
        user = auth.get_user(recipient.user_id) if recipient.activated_at else None
        if user is not None and verify_password(user.password_hash, DEMO_RECIPIENT_PIN):
            lines.append((f"recipient {name}", f"phone {recipient.phone}, PIN "
                                               f"{DEMO_RECIPIENT_PIN}"))
        elif user is not None:
            lines.append((f"recipient {name}", f"phone {recipient.phone}, PIN chosen on the "
                                               "phone (staff reset it from the check-in desk)"))
        else:
            lines.append((f"recipient {name}", "not activated yet: print a new slip from "
                                               "the check-in desk (签到管理)"))
    return lines


def _role_label(role: str) -> str:
    return {"field_worker": "调查员", "village_assistant": "协理员", "intake_clerk": "受理员",
            "reviewer": "初审员", "approver": "审批人", "admin": "管理员"}[role]


def _seed_households(rng: random.Random) -> None:
    users = {u.username: u for u in auth_users()}
    for township, _, slug in TOWNSHIPS:
        intake = auth.caller_for(users[f"{slug}_intake"])
        team = [users[f"{slug}_fw1"].id, users[f"{slug}_fw2"].id]
        villages = [v for v in VILLAGES if v[2] == township]
        for index in range(20):
            village = villages[index % 2][0]
            members = _members(rng, village, size=1 + rng.randrange(5))
            lat, lon = VILLAGE_CENTRES[village]
            household, _ = households.create(intake, {
                "jurisdiction_code": village,
                "address": f"{dict((v[0], v[1]) for v in VILLAGES)[village]}{rng.randint(1, 12)}组"
                           f"{rng.randint(1, 80)}号",
                "home_lat": lat + rng.uniform(-0.01, 0.01) if index % 5 else None,
                "home_lon": lon + rng.uniform(-0.01, 0.01) if index % 5 else None,
                "is_relative_of_staff": index == 7,
                "relative_of_staff_note": "村委会成员之兄" if index == 7 else None,
                "members": members,
            })
            kind, subtype = CASE_PLAN[index % len(CASE_PLAN)]
            days, hours = rng.randint(0, 20), rng.randint(0, 8)
            applied = clock.now() - _age(township, index, subtype, days, hours)
            case, _ = cases.create(intake, {
                "household_id": household.id, "kind": kind, "temporary_subtype": subtype,
                "channel": ("window", "online", "village_committee")[index % 3],
                "applied_at": applied, "is_economic_check_authorized": True,
                "has_honesty_pledge": True, "note": None,
            })
            if index % 4 != 3:
                cases.assign_team(intake, case.id, f'"{case.version}"', team)


# The one case overdue on purpose, so the due list has something to show (said in the demo
# tour, README and `make run`): 龙头山镇's special case, applied 20 working days ago (002: 12
# working days), counted in working days so that a seed just after the Spring Festival or the
# National Day week still shows it overdue. Every other case is within its deadline on the day
# the demo is seeded.
OVERDUE_ON_PURPOSE = ("530621101", 11)
OVERDUE_WORKING_DAYS = 20
# 002: 龙头山镇 decides in 12 working days; 9 calendar days never exceed them.
SHORT_DEADLINE_MAX_DAYS = 9


def _age(township: str, index: int, subtype: str | None, days: int, hours: int) -> timedelta:
    """How long ago a demo case was applied for: emergency aid within the day (001, 002:
    24 hours), 龙头山镇's cases within its 12 working days, one case overdue on purpose."""
    if (township, index) == OVERDUE_ON_PURPOSE:
        today = clock.today_in_china()
        applied_on = clock.subtract_working_days(today, OVERDUE_WORKING_DAYS)
        return timedelta(days=(today - applied_on).days, hours=hours)
    if subtype == "emergency":
        return timedelta(hours=hours + 1)
    if township == "530621101":
        return timedelta(days=min(days, SHORT_DEADLINE_MAX_DAYS), hours=hours)
    return timedelta(days=days, hours=hours)


def auth_users() -> list[User]:
    from backend.extensions import db

    return list(db.session.scalars(select(User)))


def _members(rng: random.Random, village: str, size: int) -> list[dict]:
    surname = rng.choice(SURNAMES)
    head_born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 40))
    members = [_person(rng, surname, "head", head_born, village)]
    relations = ["spouse", "child", "child", "parent", "grandchild"]
    for position in range(1, size):
        relation = relations[position - 1]
        offset = {"spouse": rng.randint(-1500, 1500), "child": 365 * rng.randint(20, 30),
                  "parent": -365 * rng.randint(22, 30), "grandchild": 365 * rng.randint(42, 55)}
        born = head_born + timedelta(days=offset[relation])
        born = min(born, date(2024, 1, 1))
        family = surname if relation != "spouse" else rng.choice(SURNAMES)
        members.append(_person(rng, family, relation, born, village))
    return members


def _person(rng: random.Random, surname: str, relation: str, born: date, village: str) -> dict:
    sequence = rng.randint(1, 999)
    return {
        "name": surname + rng.choice(GIVEN), "relation": relation,
        "id_number": resident_id(village[:6], born, sequence),
        "phone": f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}" if born.year < 2006
        else None,
    }


def _survey(members: list[dict], kind: str, rng: random.Random) -> dict:
    """Answers to household_survey v1 for a household's members (as a phone would send)."""
    today = clock.today_in_china()
    answers: dict = {
        "address_confirmed": True, "actual_address": None,
        "contact_mobile": next((m["phone"] for m in members if m.get("phone")), None),
        "housing_type": "owned", "housing_area": float(rng.randint(25, 90)),
        "has_running_water": True, "heating": "stove", "appliances": ["tv"],
        "visit_location": None, "house_photo": None,
        "members": [{
            "name": m["name"], "relation": m["relation"], "id_number": m["id_number"],
            "sex": "male" if int(m["id_number"][16]) % 2 else "female",
            "age": today.year - int(m["id_number"][6:10]), "health": "chronic_illness",
            "disability_grade": None, "education": "primary", "marital_status": "married",
            "work_status": "unable_to_work", "can_work": False, "income_wages": 0,
            "income_business": 0, "income_property": 0,
            "income_transfer": rng.choice([0, 150, 300])} for m in members],
        "deposits": rng.choice([0, 800, 1500]), "securities": None, "vehicle_count": 0,
        "vehicle_value": None, "owns_other_housing": False, "other_housing_area": None,
        "owns_business": False, "medical_expense": 200, "education_expense": None,
        "utilities_expense": 30, "supporters": [], "notes": "",
    }
    if kind == "extreme_poverty":
        answers.update({item: True for item in (
            "eats_alone", "dresses_alone", "transfers_alone", "uses_toilet_alone",
            "walks_indoors_alone", "bathes_alone")})
    return answers


def calm_survey(members: list[dict], kind: str) -> dict:
    """A household's survey answers as a calm visit records them (the decided demo cases)."""
    return _survey(members, kind, random.Random(19))


def demo_tour() -> list[str]:
    """What `make run` says about the demo's cases (the README's tour says the same)."""
    return [
        "demo tour: every seeded case reached its state through the workflow's own steps;",
        "  文屏镇: one case on its 7-day review-stage notice, two approved recipients with",
        "  visits attested by two phones, a panel held and the county's spot check; an",
        "  emergency aid awaiting its signatures; a special case with missing documents.",
        "  龙头山镇 (002: no panel, no review-stage notice, 12 working days): a refusal and",
        "  an obviously ineligible economic check.",
        f"  overdue on purpose: 龙头山镇's special case, {OVERDUE_WORKING_DAYS} working days",
        "  old, so the due list shows one overdue case; no other case is past its deadline.",
    ]


def seed_reviewed_visits(registry) -> int:
    """Home visits for the review screens (issue 10), pushed the way the phones push them so
    the integrity flags are real: a calm visit, one stamped far from home, one too short, one
    without an end stamp; then the township reviewer sends one back with a comment on a field
    and approves another. Only `flask seed-demo` calls this (tests start without visits)."""
    from backend.extensions import db
    from backend.reviews import moves as review_moves
    from backend.reviews import queue as review_queue
    from backend.sync import service as sync

    rng = random.Random(10)
    users = {u.username: u for u in auth_users()}
    pushed = 0
    for _township, _, slug in TOWNSHIPS:
        fw1 = auth.caller_for(users[f"{slug}_fw1"])
        fw2_id = users[f"{slug}_fw2"].id
        reviewer = auth.caller_for(users[f"{slug}_reviewer"])
        intake = auth.caller_for(users[f"{slug}_intake"])
        assigned = cases.list_visible(fw1, {"page": 1, "page_size": 100})[0]
        # The seed writes survey answers with the members' real numbers, as a phone would
        # after asking the household: read them as the catalogue's full-export row shows
        # them to intake (the desk itself masks every resident ID, issue 22).
        views = [c for c in cases.views(assigned, intake, catalogue.FULL_EXPORT)
                 if c["household"]["home_lat"] is not None]
        records = []
        for index, case in enumerate(views[:8]):
            home = case["household"]
            offset_m = 1800.0 if index % 4 == 1 else 0.0
            minutes = 4 if index % 4 == 2 else rng.randint(18, 45)
            start = clock.now() - timedelta(days=rng.randint(1, 40), minutes=minutes + 30)
            end = start + timedelta(minutes=minutes)
            lat = home["home_lat"] + offset_m / 111_320
            stamps = [{"kind": "start", "lat": lat, "lon": home["home_lon"], "accuracy_m": 12,
                       "captured_at": start.isoformat(), "user_id": fw1.user_id},
                      {"kind": "end", "lat": lat, "lon": home["home_lon"], "accuracy_m": 15,
                       "captured_at": end.isoformat(), "user_id": fw2_id}]
            if index % 4 == 3:
                stamps = stamps[:1]
            records.append({
                "type": "visit_submission", "id": str(uuid.UUID(int=rng.getrandbits(128),
                                                                version=4)),
                "case_id": case["id"], "form_id": "household_survey", "form_version": 1,
                "base_revision": None, "started_at": start.isoformat(),
                "ended_at": end.isoformat(), "captured_at": end.isoformat(),
                "data": _survey(home["members"], case["kind"], rng), "stamps": stamps,
                "photos": [], "attestations": []})
        results = sync.push(registry, fw1, "demo-device-0001", None, records)
        accepted = [r["id"] for r in results if r["status"] == "accepted"]
        pushed += len(accepted)
        db.session.flush()
        if len(accepted) >= 2:
            review = review_queue.get_visible(reviewer, accepted[0])
            review_moves.move(reviewer, accepted[0], f'"{review.version}"', "has_issues", [
                {"field": "housing_area", "text": "住房面积与照片不符，请复核后补正。"}])
            review = review_queue.get_visible(reviewer, accepted[-1])
            review_moves.move(reviewer, accepted[-1], f'"{review.version}"', "approved", [])
    return pushed


DEMO_RECIPIENT_PIN = "204815"


def seed_checkins(approved_case_ids: list[str]) -> list[tuple[str, str]]:
    """Recipient check-in demo (003): the households of the approved demo cases
    (demo_cases.seed_decided_cases), an enrolled member each; the first is activated (phone
    + PIN), the second waits with a printed slip.

    Kept out of ``seed`` (the test suite's data): approving cases changes what other tests
    count. Returns (what, value) lines for the console.
    """
    import hashlib
    import io

    from PIL import Image, ImageDraw

    from backend.cases.models import Case
    from backend.checkins import enrolment as checkin_enrolment
    from backend.evidence import service as evidence
    from backend.households.models import Household

    rows = [db_session().get(Household, household_id) for household_id in db_session().scalars(
        select(Case.household_id).where(Case.id.in_(approved_case_ids))
        .order_by(Case.applied_at, Case.id))][:2]
    assistant_user = auth.find_by_username("wenping_assistant")
    assert assistant_user is not None  # seed() made it
    assistant = auth.caller_for(assistant_user)
    lines = []
    for index, household in enumerate(rows):
        image = Image.new("RGB", (320, 400), (200 + index * 20, 180, 160))
        ImageDraw.Draw(image).ellipse((90, 80, 230, 260), fill=(230, 200, 170))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        raw = out.getvalue()
        sha = hashlib.sha256(raw).hexdigest()
        evidence.upload(assistant, sha, raw, "image/jpeg", None)
        member = household.members[0]
        phone = member.phone or f"1390000{index:04d}"
        enrolment = checkin_enrolment.enrol(assistant, {
            "household_id": household.id, "member_id": member.id, "phone": phone,
            "category": "monthly", "reference_photo_sha256": sha, "declared_residence": None})
        if index == 0:
            checkin_enrolment.activate(enrolment.activation_code, DEMO_RECIPIENT_PIN)
            lines.append((f"recipient {member.name}", f"phone {phone}, PIN "
                                                      f"{DEMO_RECIPIENT_PIN}"))
        else:
            lines.append((f"recipient {member.name}",
                          f"activation slip {_base_url()}/checkin/slip?code="
                          f"{enrolment.activation_code}"))
    return lines


def _base_url() -> str:
    """Where `make run` serves the app (HOST and PORT), so a printed link opens as it is."""
    import os

    return os.environ.get("DOORSTEP_BASE_URL", "http://127.0.0.1:5000").rstrip("/")


def db_session():
    from backend.extensions import db

    return db.session


def _seed_workflow() -> None:
    """Cases at several stages of the workflow (issue 11), only among cases without a visit
    team: in 文屏镇 an emergency aid awaiting its signatures, a special case with missing
    documents and an economic check long enough to extend its deadline; in 龙头山镇 a refusal
    with its letter due and an obviously ineligible check; the standards, and the county's
    spot-check draw of this month. Every step goes through the workflow's services and
    guards; the cases on notice and approved need signed home visits, so `flask seed-demo`
    makes them afterwards (demo_cases.seed_decided_cases)."""
    from decimal import Decimal

    from backend.cases.models import Case
    from backend.extensions import db
    from backend.jurisdictions.scope import within
    from backend.workflow import panel, paperwork, spot_checks, transitions
    from backend.workflow.models import AllowanceStandard

    users = {u.username: auth.caller_for(u) for u in auth_users()}
    intake, approver = users["wenping_intake"], users["wenping_approver"]
    now = clock.now()
    for code, since, yuan in ((COUNTY[0], date(2026, 1, 1), "650"),
                              ("530621100", date(2026, 7, 1), "680")):
        db.session.add(AllowanceStandard(
            id=_uuid(), jurisdiction_code=code, year=since.year, effective_on=since,
            monthly_yuan=Decimal(yuan), created_at=now))
    db.session.flush()
    # Only cases without a visit team change: the teams' phones keep their open cases.
    free = [c for c in db.session.scalars(select(Case).where(
        within(Case.jurisdiction_code, "530621")).order_by(Case.applied_at)) if not c.team]
    wenping = [c for c in free if c.jurisdiction_code.startswith("530621100")]
    longtou = [c for c in free if c.jurisdiction_code.startswith("530621101")]

    def etag(case: Case) -> str:
        return f'"{case.version}"'

    def pick(cases_: list[Case], kind: str, subtype: str | None = None) -> Case | None:
        found = [c for c in cases_ if c.kind == kind and c.temporary_subtype == subtype]
        if found:
            cases_.remove(found[0])
        return found[0] if found else None

    emergency = pick(wenping, "temporary", "emergency")
    if emergency is not None:
        transitions.transition(approver, emergency.id, etag(emergency), {
            "to": "approved", "emergency": {"recipient_name": "受灾户户主", "reason": "房屋失火",
                                            "amount_yuan": Decimal("2000")}})
    special = pick(wenping, "special_case")
    if special is not None:
        paperwork.record_application(intake, special.id, etag(special), {
            "pledge": {"scan_sha256s": []}, "authorization": {"scan_sha256s": []},
            "missing_documents": ["户口簿复印件", "近三个月收入证明", "残疾证复印件"]})
        paperwork.record_economic_check(intake, special.id, etag(special), {
            "requested_at": special.applied_at,
            # 16 days (001: the deadline extends) when the case is that old; never a return
            # in the future (issue 19: the check's dates are checked).
            "returned_at": min(special.applied_at + timedelta(days=16), clock.now()),
            "result": "eligible"})
    long_intake = users["longtoushan_intake"]
    refused, ineligible = pick(longtou, "extreme_poverty"), pick(longtou, "extreme_poverty")
    if refused is not None:
        transitions.transition(users["longtoushan_approver"], refused.id, etag(refused), {
            "to": "refused", "reasons": ["家庭人均收入高于当地低保标准", "名下有未申报的机动车"]})
    if ineligible is not None:
        paperwork.record_economic_check(long_intake, ineligible.id, etag(ineligible), {
            "requested_at": ineligible.applied_at,
            "returned_at": min(ineligible.applied_at + timedelta(days=3), clock.now()),
            "result": "obviously_ineligible"})
    today = clock.today_in_china()
    spot_checks.draw_spot_checks(users["county_supervisor"], today.strftime("%Y-%m"))
    # 砚池社区's deliberation pool (004: at least 30, with township cadres and group leaders).
    panel.replace_pool(intake, "530621100201", [
        *({"name": f"{SURNAMES[i % len(SURNAMES)]}{GIVEN[i % len(GIVEN)]}", "role": "villager"}
          for i in range(26)),
        {"name": "镇干部李明", "role": "township_cadre"},
        {"name": "镇干部赵强", "role": "township_cadre"},
        {"name": "镇干部孙丽", "role": "township_cadre"},
        {"name": "一组组长王福", "role": "group_leader"},
        {"name": "二组组长陈海", "role": "group_leader"},
        {"name": "镇纪委刘正", "role": "discipline_officer"}])


def _uuid() -> str:
    from backend.dbtypes import new_id

    return new_id()
