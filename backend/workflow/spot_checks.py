"""County spot checks (001/004): the month's draw with a stored seed, an auditor's
redraw, and the recorded outcomes.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.dbtypes import new_id
from backend.duties import service as duties
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.workflow import records, rules
from backend.workflow.models import SpotCheck, SpotCheckDraw


def _population(county: str, month: str
                ) -> tuple[list[rules.DrawCandidate], list[duties.CaseRef]]:
    start, end = records.month_bounds(month)
    rows = cases.summaries(scope_code=county, applied_from=start, applied_before=end)
    keyed = [(r, rules.kind_key(r.kind, r.temporary_subtype)) for r in rows]
    keyed = [(r, k) for r, k in keyed if k in rules.SPOT_CHECK_RATIO_KEY]
    already = set(db.session.scalars(select(SpotCheck.case_id).join(
        SpotCheckDraw, SpotCheckDraw.id == SpotCheck.draw_id).where(
        SpotCheckDraw.county_code == county)))
    relatives = households.relatives_of_staff({r.household_id for r, _ in keyed})
    new = [(r, k) for r, k in keyed if r.id not in already]
    return ([rules.DrawCandidate(r.id, k, r.household_id in relatives) for r, k in new],
            [duties.CaseRef(r.id, r.household_id, r.jurisdiction_code) for r, _ in new])


def _county_of(caller: Caller) -> str:
    if not caller.has(roles.COUNTY_SUPERVISOR) or len(caller.jurisdiction_code) != 6:
        raise ProblemError("forbidden", "Only the county supervisor draws and records spot "
                                        "checks.")
    return caller.jurisdiction_code


def draw_spot_checks(caller: Caller, month: str) -> SpotCheckDraw:
    """Draw the month's new cases not drawn before, with a fresh stored seed."""
    county = _county_of(caller)
    settings = jurisdictions.effective_settings(county)
    ratios = {k: float(settings[k]) for k in ("spot_check_ratio_dibao",
                                              "spot_check_ratio_temporary")}
    population, refs = _population(county, month)
    # Drawing is the county's supervision of every case in the population (003: approval
    # and supervision kept apart): one who took another duty on any of them may not draw.
    duties.take_many(caller, refs, "spot_check.draw")
    seed = secrets.token_hex(16)
    result = rules.draw_sample(population, seed, ratios)
    draw = SpotCheckDraw(id=new_id(), county_code=county, month=month, seed=seed,
                         ratios=ratios, population_sha256=result.population_sha256,
                         population_count=len(population), sampled_count=len(result.sampled),
                         drawn_by_id=caller.user_id, drawn_at=clock.now())
    db.session.add(draw)
    db.session.flush()
    rows = [{"case_id": c.case_id, "draw_id": draw.id, "is_sampled": c.case_id in
             result.sampled, "reason": result.sampled.get(c.case_id)} for c in population]
    if rows:
        db.session.execute(SpotCheck.__table__.insert(), rows)
    audit.record("spot_check.drawn", "spot_check_draw", draw.id, jurisdiction_code=county,
                 after={"month": month, "seed": seed, "population": len(population),
                        "sampled": len(result.sampled),
                        "population_sha256": result.population_sha256})
    return draw


def get_draw(caller: Caller, draw_id: str) -> SpotCheckDraw:
    draw = db.session.scalar(select(SpotCheckDraw).where(
        SpotCheckDraw.id == draw_id, within(SpotCheckDraw.county_code, caller)))
    if draw is None or not caller.has(roles.COUNTY_SUPERVISOR, roles.ADMIN):
        raise ProblemError("draw-not-found", "No such draw in your area.")
    return draw


def draw_view(draw: SpotCheckDraw, redraw: bool = False) -> dict:
    checks = db.session.scalars(select(SpotCheck).where(SpotCheck.draw_id == draw.id)
                                .order_by(SpotCheck.case_id)).all()
    answer = {"id": draw.id, "county_code": draw.county_code, "month": draw.month,
              "seed": draw.seed, "ratios": draw.ratios,
              "population_sha256": draw.population_sha256,
              "population_count": draw.population_count, "sampled_count": draw.sampled_count,
              "drawn_by_id": draw.drawn_by_id, "drawn_at": draw.drawn_at,
              "sampled": [{"case_id": c.case_id, "reason": c.reason, "outcome": c.outcome}
                          for c in checks if c.is_sampled]}
    if redraw:
        answer["redraw"] = redraw_matches(draw, list(checks))
    return answer


def redraw_matches(draw: SpotCheckDraw, checks: list[SpotCheck] | None = None) -> dict:
    """An auditor's redraw: the stored population and seed give the stored sample."""
    checks = checks if checks is not None else list(db.session.scalars(
        select(SpotCheck).where(SpotCheck.draw_id == draw.id)))
    summaries = {r.id: r for r in cases.summaries(case_ids=[c.case_id for c in checks])}
    relatives = households.relatives_of_staff({r.household_id for r in summaries.values()})
    population = [rules.DrawCandidate(
        c.case_id, rules.kind_key(summaries[c.case_id].kind,
                                  summaries[c.case_id].temporary_subtype),
        summaries[c.case_id].household_id in relatives) for c in checks]
    result = rules.draw_sample(population, draw.seed, draw.ratios)
    stored = {c.case_id for c in checks if c.is_sampled}
    return {"population_matches": result.population_sha256 == draw.population_sha256,
            "sample_matches": set(result.sampled) == stored}


def pending_spot_checks(caller: Caller) -> list[dict]:
    county = _county_of(caller)
    rows = db.session.execute(select(SpotCheck.case_id, SpotCheck.reason, SpotCheckDraw.month)
                              .join(SpotCheckDraw, SpotCheckDraw.id == SpotCheck.draw_id)
                              .where(SpotCheck.is_sampled.is_(True), SpotCheck.outcome.is_(None),
                                     SpotCheckDraw.county_code == county)
                              .order_by(SpotCheckDraw.month, SpotCheck.case_id)).all()
    return [{"case_id": r.case_id, "reason": r.reason, "month": r.month} for r in rows]


def record_spot_check(caller: Caller, case_id: str, body: dict) -> SpotCheck:
    _county_of(caller)
    case = cases.get_visible(caller, case_id)
    check = db.session.get(SpotCheck, case.id)
    if check is None or not check.is_sampled:
        raise ProblemError("spot-check-not-sampled", "This case is not in a drawn sample.")
    duties.take(caller, cases.duty_ref(case), "spot_check.record")
    before = {"outcome": check.outcome}
    check.outcome, check.note = body["outcome"], body.get("note")
    check.checked_by_id, check.checked_at = caller.user_id, clock.now()
    cases.touch(case)
    records.audit_case(case, "case.spot_check_recorded", before,
                       {"outcome": check.outcome, "note": check.note})
    return check
