from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, Subquery, exists, false, func, or_, select, update

from backend import clock, versions
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.bulk import any_of, chunks
from backend.dbtypes import new_id
from backend.encryption.columns import blind_index
from backend.errors import ProblemError
from backend.events import VisitAccepted
from backend.extensions import db
from backend.households import rules
from backend.households.models import ID_NUMBER_PURPOSE, Household, Member, StaffRelative
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.privacy import catalogue
from backend.privacy import rules as privacy

TeamScope = Callable[[Caller], Select]
_team_scopes: list[TeamScope] = []


def use_team_scope(scope: TeamScope) -> None:
    """Register (at app start) a query of the household ids whose case team a caller is on.

    Cases own visit teams, and cases build on households, so households ask for the answer
    through this hook instead of reading the cases' tables.
    """
    if scope not in _team_scopes:
        _team_scopes.append(scope)


def _visible_households(caller: Caller) -> Select:
    query = select(Household).where(within(Household.jurisdiction_code, caller))
    if not caller.reads_all_cases_in_scope:
        if not _team_scopes:
            return query.where(false())
        query = query.where(or_(*(Household.id.in_(scope(caller)) for scope in _team_scopes)))
    return query


def get_visible(caller: Caller, household_id: str) -> Household:
    household = db.session.scalar(_visible_households(caller).where(Household.id == household_id))
    if household is None:
        raise ProblemError("household-not-found", "No household with that id in your area.")
    return household


def full_number(caller: Caller, household_id: str, member_id: str, field: str) -> tuple[
        str | None, str]:
    """A member's full ``id_number`` or ``phone`` and the household's jurisdiction, for a
    reveal (the privacy package checks the role and the purpose, and audits the read)."""
    household = get_visible(caller, household_id)
    member = next((m for m in household.members if m.id == member_id), None)
    if member is None or field not in ("id_number", "phone"):
        raise ProblemError("household-not-found", "No such member in this household.")
    return getattr(member, field), household.jurisdiction_code


def list_visible(caller: Caller, village: str | None, q: str | None, page: int,
                 page_size: int) -> tuple[list[Household], int]:
    query = _visible_households(caller)
    if village:
        query = query.where(within(Household.jurisdiction_code, village))
    if q:
        query = query.where(Household.id.in_(matching_ids(q)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(Household.created_at.desc(), Household.id)
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    return list(rows), total


def matching_ids(text: str) -> Select:
    """Ids of households whose address or a member's name contains ``text``, or with a
    member whose ID number is ``text`` in full (a subquery). ID numbers are sealed at rest:
    a whole number is found through its blind index, never a part of one (ADR 0020)."""
    pattern = f"%{text}%"
    id_index = blind_index(ID_NUMBER_PURPOSE, text.strip().upper())
    return select(Household.id).where(or_(
        Household.address.like(pattern),
        exists(select(Member.id).where(Member.household_id == Household.id, or_(
            Member.name.like(pattern), Member.id_number_index == id_index)))))


def _member_rows(members: list[dict]) -> list[Member]:
    rows = []
    for position, member in enumerate(members):
        id_number = (member.get("id_number") or "").upper() or None
        birth_on, sex = rules.birth_date_and_sex(id_number) if id_number else (None, None)
        rows.append(Member(
            id=member.get("id") or new_id(), position=position, name=member["name"],
            relation=member["relation"], id_number=id_number, phone=member.get("phone"),
            sex=sex, birth_on=birth_on))
    return rows


def check_members(members: list[dict]) -> None:
    errors = {}
    for index, member in enumerate(members):
        for field, messages in rules.member_problems(member).items():
            errors[f"members[{index}].{field}"] = messages
    heads = [m for m in members if m.get("relation") == "head"]
    if len(heads) != 1:
        errors["members"] = ["需要且只能有一位户主 (exactly one member must be the head)"]
    if errors:
        raise ProblemError("validation-failed", "Some member details are not valid.", errors)


def create(caller: Caller, payload: dict) -> tuple[Household, bool]:
    """Register a household; a replay with the same client id returns the first one."""
    if not caller.has(*roles.ROLES_CREATING_CASES):
        raise ProblemError("forbidden", "Only intake clerks and village assistants register "
                           "households.")
    client_id = payload.get("id")
    if client_id:
        existing = db.session.get(Household, client_id)
        if existing is not None:
            if not caller.covers(existing.jurisdiction_code):
                raise ProblemError("conflict", "That id is already used.")
            return existing, False
    village = payload["jurisdiction_code"]
    place = jurisdictions.require(village)
    if place.level != "village" or not caller.covers(village):
        raise ProblemError("outside-jurisdiction",
                           "Choose a village or community inside your jurisdiction.",
                           {"jurisdiction_code": ["not a village in your area"]})
    check_members(payload["members"])
    now = clock.now()
    household = Household(
        id=client_id or new_id(), jurisdiction_code=village, address=payload["address"],
        home_lat=payload.get("home_lat"), home_lon=payload.get("home_lon"),
        home_located_at=now if payload.get("home_lat") is not None else None,
        is_relative_of_staff=payload.get("is_relative_of_staff", False),
        relative_of_staff_note=payload.get("relative_of_staff_note"),
        created_by_id=caller.user_id, created_at=now, updated_at=now,
        members=_member_rows(payload["members"]),
    )
    db.session.add(household)
    for relative in payload.get("staff_relatives") or []:
        db.session.add(StaffRelative(household_id=household.id, user_id=relative["user_id"],
                                     relation=relative["relation"]))
        household.is_relative_of_staff = True
    db.session.flush()
    audit.record("household.created", "household", household.id, jurisdiction_code=village,
                 after={"address": household.address, "members": len(household.members),
                        "is_relative_of_staff": household.is_relative_of_staff})
    return household, True


def set_relative_of_staff(caller: Caller, household_id: str, if_match: str | None,
                          body: dict) -> Household:
    """Declare (or withdraw) after registration that the household is a close relative of
    staff (近亲属备案, 004: its cases are all checked by the county); audited with who, when,
    before and after."""
    if not caller.has(*roles.ROLES_CREATING_CASES):
        raise ProblemError("forbidden", "Only intake clerks, village assistants and "
                                        "administrators change the relative-of-staff flag.")
    household = get_visible(caller, household_id)
    versions.check_if_match(if_match, household.version, "household")
    before = {"is_relative_of_staff": household.is_relative_of_staff,
              "relative_of_staff_note": household.relative_of_staff_note}
    household.is_relative_of_staff = body["is_relative_of_staff"]
    household.relative_of_staff_note = body.get("relative_of_staff_note")
    household.updated_at = clock.now()
    db.session.flush()
    audit.record("household.relative_of_staff_changed", "household", household.id,
                 jurisdiction_code=household.jurisdiction_code, before=before,
                 after={"is_relative_of_staff": household.is_relative_of_staff,
                        "relative_of_staff_note": household.relative_of_staff_note})
    return household


def staff_relative_ids(household_id: str) -> set[str]:
    return set(db.session.scalars(
        select(StaffRelative.user_id).where(StaffRelative.household_id == household_id)))


def staff_relative_ids_by_household(household_ids: Iterable[str]) -> dict[str, set[str]]:
    """The declared staff relatives (user ids) of each household, in a few queries."""
    found: dict[str, set[str]] = {}
    for chunk in chunks(household_ids):
        for household_id, user_id in db.session.execute(select(
                StaffRelative.household_id, StaffRelative.user_id).where(
                StaffRelative.household_id.in_(chunk))):
            found.setdefault(household_id, set()).add(user_id)
    return found


@dataclass(frozen=True)
class HomeView:
    """Where a household lives, for checks made elsewhere (visit integrity)."""

    id: str
    jurisdiction_code: str
    home: tuple[float, float] | None


def home_locations() -> Subquery:
    """(id, jurisdiction_code, home_lat, home_lon) of the households: for another package to
    join its rows to, reading a home in the same statement as what points at it (a
    check-in's recipient, a visit's case); `home_from_joined` reads one back."""
    return select(Household.id, Household.jurisdiction_code, Household.home_lat,
                  Household.home_lon).subquery("home")


def home_from_joined(household_id: str | None, jurisdiction_code: str | None,
                     lat: float | None, lon: float | None) -> HomeView | None:
    """The HomeView of a `home_locations` row joined to another statement (None: no row)."""
    if household_id is None or jurisdiction_code is None:
        return None
    return HomeView(household_id, jurisdiction_code,
                    (lat, lon) if lat is not None and lon is not None else None)


@functools.cache
def _homes() -> Select:
    """Built once, run with ``ids`` (backend/bulk.py: every push reads its homes)."""
    return select(Household.id, Household.jurisdiction_code, Household.home_lat,
                  Household.home_lon).where(any_of(Household.id))


@functools.cache
def _unlocated() -> Select:
    return select(Household.id).where(any_of(Household.id),
                                      Household.home_lat.is_(None))


def homes(household_ids: Iterable[str]) -> dict[str, HomeView]:
    found: dict[str, HomeView] = {}
    for chunk in chunks(household_ids):
        for row in db.session.execute(_homes(), {"ids": chunk}):
            home = home_from_joined(row.id, row.jurisdiction_code, row.home_lat, row.home_lon)
            assert home is not None
            found[row.id] = home
    return found


def on_visits_accepted(accepted: list[VisitAccepted]) -> None:
    """A household without a registered location takes its first visit's start stamp.

    One conditional UPDATE (only WHERE the location is still unknown), so of two pushes
    locating the same home at once the first to commit keeps its fix and the other changes
    nothing; neither fails. The version is not checked nor bumped: the location is derived
    from evidence, not an edit a device could hold a stale copy of (``updated_at`` moves,
    so devices pull it). A synced batch of a thousand visits asks once which of its homes
    are still unlocated and updates only those, not one UPDATE per visit.
    """
    first_fix: dict[str, tuple[tuple[float, float], str]] = {}  # fix, jurisdiction
    for event in accepted:
        if event.home_fix is not None:
            first_fix.setdefault(event.household_id, (event.home_fix, event.jurisdiction_code))
    unlocated: set[str] = set()
    for chunk in chunks(first_fix):
        unlocated.update(db.session.scalars(_unlocated(), {"ids": chunk}))
    now = clock.now()
    for household_id, ((lat, lon), jurisdiction_code) in first_fix.items():
        if household_id not in unlocated:
            continue
        located = db.session.execute(
            update(Household)
            .where(Household.id == household_id, Household.home_lat.is_(None))
            .values(home_lat=lat, home_lon=lon, home_located_at=now, updated_at=now)
            .execution_options(synchronize_session="fetch"))
        if located.rowcount == 1:  # type: ignore[attr-defined]
            audit.record("household.located", "household", household_id,
                         before={"lat": None, "lon": None}, after={"lat": lat, "lon": lon},
                         jurisdiction_code=jurisdiction_code)


def to_view(household: Household, caller: Caller) -> dict:
    return views([household], caller)[household.id]


def views_by_id(household_ids: Iterable[str], caller: Caller,
                purpose: str = catalogue.CASE_WORK) -> dict[str, dict]:
    """The views of many households in a few queries (a page of cases, a pull)."""
    rows: list[Household] = []
    for chunk in chunks(household_ids):
        rows.extend(db.session.scalars(select(Household).where(Household.id.in_(chunk))))
    return views(rows, caller, purpose)


def views(households: list[Household], caller: Caller,
          purpose: str = catalogue.CASE_WORK) -> dict[str, dict]:
    names = jurisdictions.names({h.jurisdiction_code for h in households})
    today = clock.today_in_china()
    answer = {}
    for household in households:
        members = [
            privacy.mask_member({
                "id": m.id, "name": m.name, "relation": m.relation, "id_number": m.id_number,
                "phone": m.phone, "sex": m.sex, "birth_on": m.birth_on,
            }, caller, today, purpose)
            for m in household.members
        ]
        head = rules.head_of(members)
        answer[household.id] = {
            "id": household.id, "jurisdiction_code": household.jurisdiction_code,
            "village_name": names.get(household.jurisdiction_code),
            "address": household.address, "head_name": head["name"] if head else None,
            "home_lat": household.home_lat, "home_lon": household.home_lon,
            "is_relative_of_staff": household.is_relative_of_staff,
            "version": household.version, "created_at": household.created_at,
            "updated_at": household.updated_at, "members": members,
        }
    return answer


def own_view(household_id: str, caller: Caller) -> dict:
    """A recipient's own household as the catalogue shows it for ``own_view`` (the caller
    is already known to belong to it)."""
    household = db.session.get(Household, household_id)
    if household is None:
        raise ProblemError("household-not-found", "No such household.")
    today = clock.today_in_china()
    members = [privacy.mask_member({
        "id": m.id, "name": m.name, "relation": m.relation, "id_number": m.id_number,
        "phone": m.phone, "sex": m.sex, "birth_on": m.birth_on,
    }, caller, today, catalogue.OWN_VIEW) for m in household.members]
    return {"id": household.id, "address": household.address, "members": members}


def head_names(household_ids: Iterable[str], caller: Caller) -> dict[str, str | None]:
    """The head's name of each household as the privacy masker shows it to the caller (a
    queue page names its households in one query, not one case read per row)."""
    members: dict[str, list[dict]] = {}
    for chunk in chunks(household_ids):
        for row in db.session.execute(select(
                Member.household_id, Member.name, Member.relation).where(
                Member.household_id.in_(chunk)).order_by(Member.household_id, Member.position)):
            members.setdefault(row.household_id, []).append(
                {"name": row.name, "relation": row.relation})
    found: dict[str, str | None] = {}
    today = clock.today_in_china()
    for household_id, people in members.items():
        head = rules.head_of(people)
        found[household_id] = privacy.mask_member(head, caller, today)["name"] if head else None
    return found


@dataclass(frozen=True)
class MemberFacts:
    name: str
    relation: str
    birth_on: date | None
    id_number: str | None


@dataclass(frozen=True)
class HouseholdFacts:
    """What the case workflow needs of a household (notices, payment lists, spot checks)."""

    id: str
    jurisdiction_code: str
    address: str
    is_relative_of_staff: bool
    members: tuple[MemberFacts, ...]

    @property
    def head(self) -> MemberFacts | None:
        return next((m for m in self.members if m.relation == "head"),
                    self.members[0] if self.members else None)


def facts(household_ids: Iterable[str]) -> dict[str, HouseholdFacts]:
    """Households with their members, in a few queries (a declared staff relative counts
    as a relative of staff even without the household's flag)."""
    found: dict[str, HouseholdFacts] = {}
    for chunk in chunks(household_ids):
        relatives = set(db.session.scalars(select(StaffRelative.household_id).where(
            StaffRelative.household_id.in_(chunk))))
        members: dict[str, list[MemberFacts]] = {}
        for row in db.session.execute(select(
                Member.household_id, Member.name, Member.relation, Member.birth_on,
                Member.id_number).where(Member.household_id.in_(chunk))
                .order_by(Member.household_id, Member.position)):
            members.setdefault(row.household_id, []).append(
                MemberFacts(row.name, row.relation, row.birth_on, row.id_number))
        for home in db.session.execute(select(
                Household.id, Household.jurisdiction_code, Household.address,
                Household.is_relative_of_staff).where(Household.id.in_(chunk))):
            found[home.id] = HouseholdFacts(
                home.id, home.jurisdiction_code, home.address,
                bool(home.is_relative_of_staff) or home.id in relatives,
                tuple(members.get(home.id, [])))
    return found


def relatives_of_staff(household_ids: Iterable[str]) -> set[str]:
    """Which of the households are relatives of staff (flagged, or a declared relative)."""
    found: set[str] = set()
    for chunk in chunks(household_ids):
        found.update(db.session.scalars(select(Household.id).where(
            Household.id.in_(chunk), Household.is_relative_of_staff.is_(True))))
        found.update(db.session.scalars(select(StaffRelative.household_id).where(
            StaffRelative.household_id.in_(chunk))))
    return found
