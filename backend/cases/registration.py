"""What cases plug into at app start: the pull's slice of assignments, households' team scope."""

from __future__ import annotations

from marshmallow import fields

from backend.cases import service
from backend.cases.schemas import CaseSchema
from backend.households import service as households
from backend.households.schemas import HouseholdSchema
from backend.sync.registry import SyncRegistry


def register(sync: SyncRegistry) -> None:
    sync.provide("assignments", ("updated_at", "last_id", "assignments", "settings"),
                 service.pull_assignments, {
                     "cases": fields.List(fields.Nested(CaseSchema)),
                     "households": fields.List(fields.Nested(HouseholdSchema)),
                     "settings": fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
                         "description": "effective settings by village code"}),
                     "case_ids": fields.List(fields.String(), metadata={
                         "description": "every assigned case id, sent when the set changed: "
                                        "delete local cases not in it"}),
                 })
    households.use_team_scope(service.household_ids_on_team)
