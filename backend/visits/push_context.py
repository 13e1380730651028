"""What a push of visits or attestations reads before it decides any record, set-wise: the
stored visits, the cases with their teams, the homes, the attesters' keys, the photos and the
villages' settings (a push about one case reads most of it in one statement, issue 23)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import Select, select

from backend.bulk import chunks
from backend.cases import service as cases
from backend.cases.service import CaseForPush
from backend.devices import service as devices
from backend.devices.service import DeviceKeyView
from backend.evidence import service as evidence
from backend.evidence.service import PhotoView
from backend.extensions import db
from backend.households import service as households
from backend.households.service import HomeView
from backend.jurisdictions import service as jurisdictions
from backend.sync.registry import PushBatch
from backend.visits import rules
from backend.visits.models import VisitRevision, VisitSubmission


@dataclass
class PushContext:
    """Everything the batch needs, loaded set-wise before any record is decided."""

    batch: PushBatch
    cases: dict[str, CaseForPush] = field(default_factory=dict)
    homes: dict[str, HomeView] = field(default_factory=dict)
    submissions: dict[str, VisitSubmission] = field(default_factory=dict)
    digests: dict[tuple[str, int], str] = field(default_factory=dict)
    keys: dict[str, DeviceKeyView] = field(default_factory=dict)
    photos: dict[str, PhotoView] = field(default_factory=dict)
    thresholds: dict[str, rules.IntegrityThresholds] = field(default_factory=dict)
    min_attesters: dict[str, int] = field(default_factory=dict)


def thresholds_of(settings: dict) -> rules.IntegrityThresholds:
    return rules.IntegrityThresholds(
        max_home_distance_m=settings["max_home_distance_m"],
        max_accuracy_m=settings["max_accuracy_m"],
        min_visit_minutes=settings["min_visit_minutes"],
        max_team_distance_m=settings["max_team_distance_m"],
        max_clock_skew_minutes=settings["max_clock_skew_minutes"],
        max_photo_distance_m=settings["max_photo_distance_m"],
        max_photo_time_gap_minutes=settings["max_photo_time_gap_minutes"],
        max_speed_kmh=settings["max_speed_kmh"],
    )


def load(batch: PushBatch, case_ids: set[str], submission_ids: set[str],
              key_ids: set[str], photo_ids: set[str],
              stored_ids: set[str] | None = None) -> PushContext:
    """Everything the batch's records need; ``stored_ids``, when known, are those of
    ``submission_ids`` stored, the only ones read again."""
    context = PushContext(batch)
    for chunk in chunks(submission_ids if stored_ids is None else submission_ids & stored_ids):
        for submission in db.session.scalars(
                select(VisitSubmission).where(VisitSubmission.id.in_(chunk))):
            context.submissions[submission.id] = submission
            case_ids.add(submission.case_id)
    settings_of: dict[str, dict] = {}
    if len(case_ids) == 1:
        settings_of = _read_the_case(context, case_ids, key_ids)
    else:
        context.cases = cases.for_push(case_ids, batch.caller)
        context.homes = households.homes({c.household_id for c in context.cases.values()})
        # Revoked keys too: an attestation under a key revoked by the time this push
        # arrived is stored but does not count, and says why (attestation-key-revoked).
        context.keys = devices.keys_by_id(key_ids)
    for chunk in chunks(context.submissions):
        for submission_id, revision, digest in db.session.execute(select(
                VisitRevision.submission_id, VisitRevision.revision, VisitRevision.digest)
                .where(VisitRevision.submission_id.in_(chunk))):
            context.digests[(submission_id, revision)] = digest
    context.photos = evidence.by_hashes(photo_ids)
    for village in {case.jurisdiction_code for case in context.cases.values()}:
        settings = settings_of.get(village) or jurisdictions.effective_settings(village)
        context.thresholds[village] = thresholds_of(settings)
        context.min_attesters[village] = settings["min_visit_team_size"]
    return context


def _read_the_case(context: PushContext, case_ids: set[str], key_ids: set[str]
                   ) -> dict[str, dict]:
    """A push about one case (a phone's one visit, or its edits): the case and its team,
    its household's home, the attesters' keys (revoked too) and the settings of its village,
    in one statement (issue 23: the fixed cost of one visit). The settings by village."""
    rows = db.session.execute(_case_with_what_a_visit_needs(
        db.session.get_bind().dialect.name), {
        **cases.for_push_parameters(sorted(case_ids), context.batch.caller),
        "key_ids": sorted(k for k in key_ids if isinstance(k, str))}).all()
    context.cases = cases.for_push_from_rows(rows)
    if not rows:  # not the caller's case: refused as such, no key is looked at
        return {}
    first = rows[0]
    home = households.home_from_joined(first.home_id, first.home_jurisdiction_code,
                                       first.home_lat, first.home_lon)
    if home is not None:
        context.homes[home.id] = home
    context.keys = devices.keys_from_joined(first.named_keys)
    return {first.jurisdiction_code: jurisdictions.settings_from_joined(
        first.jurisdiction_code, first.place_settings)}


@functools.cache
def _case_with_what_a_visit_needs(dialect: str) -> Select:
    """`cases.for_push_statement` with, on each row, the case's household home, the keys
    bound as ``key_ids`` and its village's settings: built once a dialect."""
    statement = cases.for_push_statement()
    case = statement.selected_columns
    home = households.home_locations()
    return statement.add_columns(
        home.c.id.label("home_id"), home.c.jurisdiction_code.label("home_jurisdiction_code"),
        home.c.home_lat, home.c.home_lon, devices.keys_joinable(dialect),
        jurisdictions.overrides_of_place_joinable(dialect, case.jurisdiction_code),
    ).outerjoin(home, home.c.id == case.household_id)
