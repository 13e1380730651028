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
            applied = clock.now() - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8))
            case, _ = cases.create(intake, {
                "household_id": household.id, "kind": kind, "temporary_subtype": subtype,
                "channel": ("window", "online", "village_committee")[index % 3],
                "applied_at": applied, "is_economic_check_authorized": True,
                "has_honesty_pledge": True, "note": None,
            })
            if index % 4 != 3:
                cases.assign_team(intake, case.id, f'"{case.version}"', team)


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


def seed_reviewed_visits(registry) -> int:
    """Home visits for the review screens (issue 10), pushed the way the phones push them so
    the integrity flags are real: a calm visit, one stamped far from home, one too short, one
    without an end stamp; then the township reviewer sends one back with a comment on a field
    and approves another. Only `flask seed-demo` calls this (tests start without visits)."""
    from backend.extensions import db
    from backend.reviews import service as reviews
    from backend.sync import service as sync

    rng = random.Random(10)
    users = {u.username: u for u in auth_users()}
    pushed = 0
    for _township, _, slug in TOWNSHIPS:
        fw1 = auth.caller_for(users[f"{slug}_fw1"])
        fw2_id = users[f"{slug}_fw2"].id
        reviewer = auth.caller_for(users[f"{slug}_reviewer"])
        intake = auth.caller_for(users[f"{slug}_intake"])  # sees the members' full IDs
        assigned = cases.list_visible(fw1, {"page": 1, "page_size": 100})[0]
        views = [c for c in cases.views(assigned, intake)
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
            review = reviews.get_visible(reviewer, accepted[0])
            reviews.move(reviewer, accepted[0], f'"{review.version}"', "has_issues", [
                {"field": "housing_area", "text": "住房面积与照片不符，请复核后补正。"}])
            review = reviews.get_visible(reviewer, accepted[-1])
            reviews.move(reviewer, accepted[-1], f'"{review.version}"', "approved", [])
    return pushed


DEMO_RECIPIENT_PIN = "204815"


def seed_checkins() -> list[tuple[str, str]]:
    """Recipient check-in demo (003): two approved households of 砚池社区 with an enrolled
    member each; the first is activated (phone + PIN), the second waits with a printed slip.

    Kept out of ``seed`` (the test suite's data): approving cases changes what other tests
    count. Returns (what, value) lines for the console.
    """
    import hashlib
    import io

    from PIL import Image, ImageDraw

    from backend.cases.models import Case
    from backend.checkins import service as checkins
    from backend.evidence import service as evidence
    from backend.households.models import Household

    village = VILLAGES[0][0]
    rows = list(db_session().scalars(select(Household).where(
        Household.jurisdiction_code == village, Household.home_lat.is_not(None))
        .order_by(Household.created_at, Household.id)))[:2]
    assistant_user = auth.find_by_username("wenping_assistant")
    assert assistant_user is not None  # seed() made it
    assistant = auth.caller_for(assistant_user)
    lines = []
    for index, household in enumerate(rows):
        for case in db_session().scalars(select(Case).where(Case.household_id == household.id)):
            case.status = "approved"
        image = Image.new("RGB", (320, 400), (200 + index * 20, 180, 160))
        ImageDraw.Draw(image).ellipse((90, 80, 230, 260), fill=(230, 200, 170))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        raw = out.getvalue()
        sha = hashlib.sha256(raw).hexdigest()
        evidence.upload(assistant, sha, raw, "image/jpeg", None)
        member = household.members[0]
        phone = member.phone or f"1390000{index:04d}"
        enrolment = checkins.enrol(assistant, {
            "household_id": household.id, "member_id": member.id, "phone": phone,
            "category": "monthly", "reference_photo_sha256": sha, "declared_residence": None})
        if index == 0:
            checkins.activate(enrolment.activation_code, DEMO_RECIPIENT_PIN)
            lines.append((f"recipient {member.name}", f"phone {phone}, PIN "
                                                      f"{DEMO_RECIPIENT_PIN}"))
        else:
            lines.append((f"recipient {member.name}",
                          f"activation slip /checkin/slip?code={enrolment.activation_code}"))
    return lines


def db_session():
    from backend.extensions import db

    return db.session


def _seed_workflow() -> None:
    """Cases at several stages of the workflow (issue 11), only among cases without a visit
    team: in 文屏镇 an emergency aid awaiting its signatures, a special case with missing
    documents and an economic check long enough to extend its deadline, one case on public
    notice (a relative of staff: sampled) and one approved recipient; in 龙头山镇 a refusal
    with its letter due and an obviously ineligible check; the standards, and the county's
    spot-check draw of this month.

    The notice and approval stages are written directly: the demo has no signed home
    visits, which the transitions require (004). Everything else goes through the
    workflow's services and guards."""
    from datetime import datetime
    from decimal import Decimal

    from backend.cases.models import Case
    from backend.extensions import db
    from backend.jurisdictions.scope import within
    from backend.workflow import rules as workflow_rules
    from backend.workflow import service as workflow
    from backend.workflow.models import AllowanceStandard, CaseWorkflow

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
        workflow.transition(approver, emergency.id, etag(emergency), {
            "to": "approved", "emergency": {"recipient_name": "受灾户户主", "reason": "房屋失火",
                                            "amount_yuan": Decimal("2000")}})
    special = pick(wenping, "special_case")
    if special is not None:
        workflow.record_application(intake, special.id, etag(special), {
            "pledge": {"scan_sha256s": []}, "authorization": {"scan_sha256s": []},
            "missing_documents": ["户口簿复印件", "近三个月收入证明", "残疾证复印件"]})
        workflow.record_economic_check(intake, special.id, etag(special), {
            "requested_at": special.applied_at,
            "returned_at": special.applied_at + timedelta(days=16), "result": "eligible"})
    long_intake = users["longtoushan_intake"]
    refused, ineligible = pick(longtou, "extreme_poverty"), pick(longtou, "extreme_poverty")
    if refused is not None:
        workflow.transition(users["longtoushan_approver"], refused.id, etag(refused), {
            "to": "refused", "reasons": ["家庭人均收入高于当地低保标准", "名下有未申报的机动车"]})
    if ineligible is not None:
        workflow.record_economic_check(long_intake, ineligible.id, etag(ineligible), {
            "requested_at": ineligible.applied_at,
            "returned_at": ineligible.applied_at + timedelta(days=3),
            "result": "obviously_ineligible"})
    checked = [c for c in wenping if c.kind == "extreme_poverty"]
    today = clock.today_in_china()
    for case, status in zip(checked[:2], ("public_notice", "approved"), strict=False):
        members = len(households.facts([case.household_id])[case.household_id].members)
        amount = workflow_rules.monthly_amount(Decimal(680), Decimal(300), members, 0)
        db.session.add(CaseWorkflow(
            case_id=case.id, jurisdiction_code=case.jurisdiction_code,
            pledge_scan_sha256s=[], authorization_scan_sha256s=[], missing_documents=[],
            reasons=[], needs_panel=False, notice_round=1,
            preliminary_review_by_id=users["wenping_reviewer"].user_id,
            preliminary_review_at=now, category=case.kind,
            per_capita_income_yuan=Decimal(300), standard_yuan=Decimal(680),
            members_count=members, monthly_amount_yuan=amount,
            notice_starts_on=today - timedelta(days=2 if status == "public_notice" else 12),
            notice_ends_on=today + timedelta(days=4) if status == "public_notice"
            else today - timedelta(days=6),
            decided_by_id=approver.user_id if status == "approved" else None,
            decided_at=datetime.now(clock.SHANGHAI) if status == "approved" else None,
            payment_starts_on=workflow_rules.payment_starts_on(today)
            if status == "approved" else None,
            bank_account="6222020200112233445" if status == "approved" else None,
            updated_at=now))
        cases.set_status(case, status)
    db.session.flush()
    workflow.draw_spot_checks(users["county_supervisor"], today.strftime("%Y-%m"))
    # 砚池社区's deliberation pool (004: at least 30, with township cadres and group leaders).
    workflow.replace_pool(intake, "530621100201", [
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
