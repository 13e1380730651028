"""Demo cases decided the way the workflow decides them (issue 19: demo data that obeys its
own rules): in 文屏镇, one case on its review-stage notice and two approved recipients, each
taken in, visited by a team of two whose phones attest the visit (P-256 keys registered as a
phone registers them), its visit approved in review, its economic check returned, its panel
drawn from the village pool and held, reviewed, posted for 7 days, spot-checked by the
county and approved, by three different people.

The steps happen on the days they would have: the clock is set back to a day after the
application for the steps up to the notice, and runs again for the county's check and the
approval once the notice is over. Only `flask seed-demo` calls this (the test suite's data
is ``demo.seed``).
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlalchemy import select

from backend import clock
from backend.attestation.canonical import submission_digest
from backend.attestation.rules import attestation_message
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.devices import rules as device_rules
from backend.devices import service as devices
from backend.extensions import db

# Days between the notice's first day and the approval: the notice runs 7 days (004).
NOTICE_AND_CHECK_DAYS = 9
APPLIED_AT_LEAST_DAYS = NOTICE_AND_CHECK_DAYS + 1


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class _Phone:
    """A field worker's phone: its own P-256 key, registered with a signed challenge."""

    def __init__(self, user: Caller, device_id: str) -> None:
        self.user, self.device_id = user, device_id
        self.private = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": _b64url(numbers.x.to_bytes(32, "big")),
               "y": _b64url(numbers.y.to_bytes(32, "big"))}
        nonce = devices.issue_challenge(user.user_id, device_id).nonce
        proof = self._sign(device_rules.proof_message(user.user_id, device_id, nonce))
        self.key_id = devices.register(user.user_id, None, device_id, jwk, nonce, proof)[0].id

    def _sign(self, message: bytes) -> str:
        r, s = decode_dss_signature(self.private.sign(message, ec.ECDSA(hashes.SHA256())))
        return _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def attest(self, record: dict) -> None:
        record["attestations"].append({
            "user_id": self.user.user_id, "key_id": self.key_id,
            "signature": self._sign(attestation_message(submission_digest(record))),
            "signed_at": clock.now().isoformat()})


def _visit(case_view: dict, answers: dict, phones: list[_Phone]) -> dict:
    home = case_view["household"]
    end = clock.now() - timedelta(minutes=20)
    start = end - timedelta(minutes=35)
    stamps = [{"kind": kind, "lat": home["home_lat"], "lon": home["home_lon"],
               "accuracy_m": 12, "captured_at": at.isoformat(), "user_id": phone.user.user_id}
              for kind, at, phone in (("start", start, phones[0]), ("end", end, phones[1]))]
    record = {"type": "visit_submission", "id": str(uuid.uuid4()), "case_id": case_view["id"],
              "form_id": "household_survey", "form_version": 1, "base_revision": None,
              "started_at": start.isoformat(), "ended_at": end.isoformat(),
              "captured_at": end.isoformat(), "data": answers, "stamps": stamps,
              "photos": [], "attestations": []}
    for phone in phones:
        phone.attest(record)
    return record


def _as_recorded(members: list[dict]) -> list[dict]:
    """The members as the visit team records them: ID numbers whole, as the survey asks and
    the phone's pull gives them (the desk's view masks them, ADR 0021)."""
    from backend.households.models import Member

    stored = dict(db.session.execute(select(Member.id, Member.id_number).where(
        Member.id.in_([m["id"] for m in members]))).all())
    return [{**m, "id_number": stored.get(m["id"], m.get("id_number"))} for m in members]


def seed_decided_cases(registry: Any, survey: Any) -> list[str]:
    """Take up to three 文屏镇 cases (dibao, extreme poverty, near-allowance) that have no
    visit yet and were applied for at least 10 days ago through the workflow: the first to
    its review-stage notice, the next two to approval. Returns the approved case ids."""
    from backend.cases import service as cases
    from backend.cases.models import Case
    from backend.jurisdictions import scope
    from backend.reviews import moves as review_moves
    from backend.reviews import queue as review_queue
    from backend.sync import service as sync
    from backend.visits import queries as visits
    from backend.workflow import panel, paperwork, spot_checks, transitions
    from backend.workflow.models import SpotCheck

    users = {u.username: auth.caller_for(u) for u in _users()}
    intake, reviewer = users["wenping_intake"], users["wenping_reviewer"]
    approver, county = users["wenping_approver"], users["county_supervisor"]
    fw1, fw2 = users["wenping_fw1"], users["wenping_fw2"]
    real_now = clock.now()
    # Each walk runs on its case's own days; "now" is whatever it was before (the real time,
    # or the time a test froze).
    now_before = clock.frozen_at()
    candidates = [c for c in db.session.scalars(select(Case).where(
        scope.within(Case.jurisdiction_code, "530621100"),
        Case.kind.in_(("dibao", "extreme_poverty", "low_income_margin")),
        Case.status.in_(("accepted", "investigating")),
        Case.applied_at <= real_now - timedelta(days=APPLIED_AT_LEAST_DAYS))
        .order_by(Case.applied_at, Case.id)) if not visits.attesters_by_visit(c.id)]
    chosen = [c for c in candidates
              if cases.views([c], intake)[0]["household"]["home_lat"] is not None][:3]
    approved: list[str] = []
    phones: list[_Phone] | None = None
    try:
        for index, case in enumerate(chosen):
            clock.freeze(case.applied_at + timedelta(days=1))
            if phones is None:
                phones = [_Phone(fw1, "demo-phone-fw1"), _Phone(fw2, "demo-phone-fw2")]
            _pool_for(intake, case.jurisdiction_code)
            if not case.team:
                cases.assign_team(intake, case.id, _etag(case), [fw1.user_id, fw2.user_id])
            view = cases.views([case], intake)[0]
            record = _visit(view, survey(_as_recorded(view["household"]["members"]), case.kind),
                            phones)
            result = sync.push(registry, fw1, phones[0].device_id, None, [record])[0]
            assert result["status"] == "accepted", result
            db.session.flush()
            review = review_queue.get_visible(reviewer, record["id"])
            review_moves.move(reviewer, record["id"], f'"{review.version}"', "approved", [])
            paperwork.record_economic_check(intake, case.id, _etag(case), {
                "requested_at": case.applied_at, "returned_at": clock.now(),
                "result": "eligible"})
            panel.draw_panel(reviewer, case.id, _etag(case), None)
            transitions.transition(reviewer, case.id, _etag(case), {"to": "panel_review"})
            transitions.transition(reviewer, case.id, _etag(case), {
                "to": "reviewing", "panel": _held(case), "proposal": {
                    "per_capita_income_yuan": Decimal(300)}})
            transitions.transition(reviewer, case.id, _etag(case), {"to": "public_notice"})
            if index == 0:
                continue  # 张秀英's household stays on its notice, as a real one would
            clock.freeze(now_before)
            month = case.applied_at.astimezone(clock.SHANGHAI).strftime("%Y-%m")
            if db.session.get(SpotCheck, case.id) is None:
                spot_checks.draw_spot_checks(county, month)
            check = db.session.get(SpotCheck, case.id)
            if check is not None and check.is_sampled and check.outcome is None:
                spot_checks.record_spot_check(county, case.id, {"outcome": "confirmed",
                                                                "note": "入户核实无误"})
            transitions.transition(approver, case.id, _etag(case), {
                "to": "approved", "bank_account": f"62220202001122{index:05d}",
                "review_tier": "yearly"})
            approved.append(case.id)
    finally:
        clock.freeze(now_before)
    return approved


def _users() -> list:
    from backend.auth.models import User

    return list(db.session.scalars(select(User)))


def _etag(case: Any) -> str:
    return f'"{case.version}"'


def _pool_for(intake: Caller, village: str) -> None:
    """A village's deliberation pool (004: at least 30, township cadres, group leaders)."""
    from backend.demo import GIVEN, SURNAMES
    from backend.workflow import panel

    if len(panel.pool(intake, village)) >= 30:
        return
    panel.replace_pool(intake, village, [
        *({"name": f"{SURNAMES[i % len(SURNAMES)]}{GIVEN[(i * 7) % len(GIVEN)]}",
           "role": "villager"} for i in range(26)),
        {"name": "镇干部李明", "role": "township_cadre"},
        {"name": "镇干部赵强", "role": "township_cadre"},
        {"name": "镇干部孙丽", "role": "township_cadre"},
        {"name": "一组组长王福", "role": "group_leader"},
        {"name": "二组组长陈海", "role": "group_leader"},
        {"name": "镇纪委刘正", "role": "discipline_officer"}])


def _held(case: Any) -> dict:
    """The drawn panel as it met today: every member present and signed on screen."""
    from backend.workflow import panel
    from backend.workflow.models import CaseWorkflow

    wf = db.session.get(CaseWorkflow, case.id)
    assert wf is not None, "a case in panel review has its workflow row"
    signature = {"kind": "scan", "sha256": "5" * 64}  # the signed sheet, scanned
    return {"held_on": clock.today_in_china(), "opinion": "同意纳入",
            "attendance": {m.id: {"status": "present", "signature": signature}
                           for m in panel.drawn_members(wf)}}
