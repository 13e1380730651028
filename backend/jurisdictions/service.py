from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable

from sqlalchemy import ColumnExpressionArgument, Label, Select, func, select

from backend import clock
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.auth.service import Place
from backend.bulk import any_of, chunks, json_rows
from backend.errors import ProblemError
from backend.extensions import db
from backend.jurisdictions import rules
from backend.jurisdictions.models import Jurisdiction, JurisdictionSetting
from backend.jurisdictions.scope import within


def get(code: str) -> Jurisdiction | None:
    return db.session.get(Jurisdiction, code)


def place(code: str) -> Place | None:
    """The place as auth sees it (code, name, level), or None."""
    found = get(code)
    return Place(found.code, found.name, found.level) if found is not None else None


def require(code: str) -> Jurisdiction:
    place = get(code)
    if place is None:
        raise ProblemError("jurisdiction-not-found", f"No jurisdiction with code {code}.")
    return place


def names(codes: set[str]) -> dict[str, str]:
    """Names of many places in one query."""
    if not codes:
        return {}
    return dict(db.session.execute(
        select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(codes))).all())


def ancestors_root_first(code: str) -> list[str]:
    chain = [code]
    parent = rules.parent_code_of(code)
    while parent:
        chain.append(parent)
        parent = rules.parent_code_of(parent)
    return list(reversed(chain))


def township_of(code: str) -> str:
    return code[:9] if len(code) >= 9 else code


@functools.cache
def _overrides_of() -> Select:
    """Built once (backend/bulk.py: prebuilt statements): every push and pull asks it."""
    return select(JurisdictionSetting.jurisdiction_code, JurisdictionSetting.key,
                  JurisdictionSetting.value).where(
        any_of(JurisdictionSetting.jurisdiction_code, "codes"))


def _overrides_by_place(codes: Iterable[str]) -> dict[str, dict]:
    by_place: dict[str, dict] = {code: {} for code in codes}
    for chunk in chunks(by_place):
        for code, key, value in db.session.execute(_overrides_of(), {"codes": chunk}):
            by_place[code][key] = value
    return by_place


def _overrides_root_first(code: str) -> list[dict]:
    chain = ancestors_root_first(code)
    by_place = _overrides_by_place(chain)
    return [by_place[c] for c in chain]


def overrides_of_place_joinable(dialect: str, place: ColumnExpressionArgument[str]) -> Label:
    """The overrides of the place in the column ``place`` of the statement this is added to
    (a case's village, a recipient's) and of its ancestors, as one JSON list of ``[place,
    key, value]``: a push reads what it is about and its settings in one round trip (issue
    23). The ancestors are the code's 6- and 9-digit prefixes, as `rules.parent_code_of`
    walks them (a shorter code names itself again). The caller builds its statement once;
    ``settings_from_joined`` makes the effective settings of the list."""
    setting = JurisdictionSetting
    return select(json_rows(dialect, setting.jurisdiction_code, setting.key, setting.value)
                  ).where(setting.jurisdiction_code.in_([
                      func.substr(place, 1, 6), func.substr(place, 1, 9), place])
                          ).scalar_subquery().label("place_settings")


def settings_from_joined(code: str, joined: list | None) -> dict:
    """The effective settings of ``code`` from what ``overrides_of_place_joinable`` read
    (None: no override anywhere, as PostgreSQL's json_agg of no rows says)."""
    chain = ancestors_root_first(code)
    by_place: dict[str, dict] = {place: {} for place in chain}
    for place, key, value in joined or ():
        if place in by_place:
            by_place[place][key] = value
    return rules.effective_settings([by_place[place] for place in chain])


def effective_settings(code: str) -> dict:
    return rules.effective_settings(_overrides_root_first(code))


def effective_settings_of(codes: Iterable[str]) -> dict[str, dict]:
    """The settings of many places in one query (a pull names every village of its cases)."""
    chains = {code: ancestors_root_first(code) for code in dict.fromkeys(codes)}
    by_place = _overrides_by_place({place for chain in chains.values() for place in chain})
    return {code: rules.effective_settings([by_place[place] for place in chain])
            for code, chain in chains.items()}


def update_settings(code: str, changes: dict, changed_by: Caller | None = None) -> dict:
    """Change settings of `code`; `changed_by` is None for the CLI and the demo seed.

    Unknown keys and wrong types are `validation-failed`; a value outside the legal
    bounds is `setting-out-of-bounds`, each error naming the rule it breaks; integrity
    thresholds changed by anyone below the county are `county-level-only`.
    """
    require(code)
    if changed_by is not None:
        refused = rules.county_only_keys(changes, rules.level_of(changed_by.jurisdiction_code))
        if refused:
            raise ProblemError(
                "county-level-only",
                "Integrity-flag thresholds watch township staff, and dropping a step of the "
                "procedure needs a regulation that drops it, so only the county sets them.",
                {key: ["only county-level administrators may change this"] for key in refused})
    problems = [p for key, value in changes.items()
                if (p := rules.check_setting(key, value)) is not None]
    if not problems:
        problems = rules.consistency_problems(
            rules.effective_settings([*_overrides_root_first(code), changes]))
    if problems:
        errors = {p.key: [p.message] for p in problems}
        if all(p.source for p in problems):
            raise ProblemError(
                "setting-out-of-bounds", "Some settings are looser than the regulations allow.",
                errors, extra={"sources": {p.key: p.source for p in problems}})
        raise ProblemError("validation-failed", "Some settings are not valid.", errors)
    before = effective_settings(code)
    for key, value in changes.items():
        row = db.session.get(JurisdictionSetting, (code, key))
        if row is None:
            db.session.add(JurisdictionSetting(
                jurisdiction_code=code, key=key, value=value, updated_at=clock.now()))
        else:
            row.value = value
            row.updated_at = clock.now()
    db.session.flush()
    after = effective_settings(code)
    old, new = audit.changed_fields(before, after)
    relaxed = {key: rules.RELAXATIONS[key][1] for key in new
               if key in rules.RELAXATIONS and new[key] == rules.RELAXATIONS[key][0]}
    if relaxed:  # the audit row names the regulation that allows the dropped step
        new = {**new, "relaxed_by_regulation": relaxed}
    audit.record("jurisdiction.settings_changed", "jurisdiction", code,
                 before=old, after=new, jurisdiction_code=code)
    return after


def list_within(scope_code: str) -> list[Jurisdiction]:
    return list(db.session.scalars(
        select(Jurisdiction).where(within(Jurisdiction.code, scope_code))
        .order_by(Jurisdiction.code)
    ))


def import_csv(text: str) -> dict:
    """Load or update a tree from CSV; all rows or none (the caller commits)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or not {"code", "name", "parent_code"} <= set(
        f.strip() for f in reader.fieldnames
    ):
        raise ProblemError("validation-failed", "The header must be: code,name,parent_code")
    reader.fieldnames = [f.strip() for f in reader.fieldnames]
    known = set(db.session.scalars(select(Jurisdiction.code)))
    rows, errors = rules.parse_import_rows(list(reader), known)
    if errors:
        raise ProblemError("validation-failed", "; ".join(errors), {"rows": errors})
    added = updated = 0
    now = clock.now()
    for row in rows:
        place = db.session.get(Jurisdiction, row.code)
        if place is None:
            db.session.add(Jurisdiction(
                code=row.code, name=row.name, level=rules.level_of(row.code),
                parent_code=row.parent_code, created_at=now, updated_at=now))
            db.session.flush()
            added += 1
        elif place.name != row.name:
            audit.record("jurisdiction.renamed", "jurisdiction", row.code,
                         before={"name": place.name}, after={"name": row.name},
                         jurisdiction_code=row.code)
            place.name = row.name
            place.updated_at = now
            updated += 1
    audit.record("jurisdiction.imported", "jurisdiction", rows[0].code if rows else "-",
                 after={"added": added, "updated": updated, "rows": len(rows)})
    return {"added": added, "updated": updated, "unchanged": len(rows) - added - updated}
