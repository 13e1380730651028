from marshmallow import Schema, fields, validate

from backend.cases.rules import ALL_KINDS, CHANNELS, KINDS, STATUSES, TEMPORARY_SUBTYPES
from backend.households.schemas import HouseholdSchema, PageQuerySchema

UUID_TEXT = validate.Regexp(r"^[0-9a-f-]{36}$", error="must be a UUID")


class TeamMemberSchema(Schema):
    user_id = fields.String()
    display_name = fields.String(allow_none=True)


class CaseSchema(Schema):
    id = fields.String()
    case_no = fields.String(allow_none=True, metadata={
        "description": "the number people read (文屏〔2026〕低保第 0012 号); set at creation"})
    household_id = fields.String()
    jurisdiction_code = fields.String()
    kind = fields.String(validate=validate.OneOf(ALL_KINDS))
    temporary_subtype = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    channel = fields.String()
    applied_at = fields.DateTime()
    deadline_on = fields.Date(allow_none=True, metadata={
        "description": "decision due on this date (working days, Asia/Shanghai)"})
    deadline_at = fields.DateTime(allow_none=True, metadata={
        "description": "emergency aid: help due by this UTC instant (24 h after intake)"})
    is_overdue = fields.Boolean()
    is_economic_check_authorized = fields.Boolean()
    has_honesty_pledge = fields.Boolean()
    note = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    team = fields.List(fields.Nested(TeamMemberSchema))
    household = fields.Nested(HouseholdSchema)


class CaseCreateSchema(Schema):
    id = fields.String(validate=UUID_TEXT, load_default=None,
                       metadata={"description": "client-generated UUID for safe retries"})
    household_id = fields.String(required=True, validate=UUID_TEXT)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    temporary_subtype = fields.String(validate=validate.OneOf(TEMPORARY_SUBTYPES),
                                      load_default=None)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    applied_at = fields.AwareDateTime(load_default=None)
    is_economic_check_authorized = fields.Boolean(required=True)
    has_honesty_pledge = fields.Boolean(required=True)
    note = fields.String(validate=validate.Length(max=500), load_default=None)


class CaseUpdateSchema(Schema):
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    is_economic_check_authorized = fields.Boolean()
    has_honesty_pledge = fields.Boolean()
    note = fields.String(validate=validate.Length(max=500), allow_none=True)


class TeamCandidateSchema(Schema):
    user_id = fields.String()
    display_name = fields.String()
    open_cases = fields.Integer(metadata={"description": "open cases whose team they are on"})
    is_relative = fields.Boolean(metadata={
        "description": "a declared relative of the household: may not visit it (004)"})
    visits_with = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "how often they visited this village with each other investigator"})


class TeamCandidatesSchema(Schema):
    case_id = fields.String()
    min_team_size = fields.Integer()
    current = fields.List(fields.String())
    suggested = fields.List(fields.String(), metadata={
        "description": "a team that rotates pairs across the village's visits"})
    candidates = fields.List(fields.Nested(TeamCandidateSchema))


class TeamAssignSchema(Schema):
    user_ids = fields.List(fields.String(validate=UUID_TEXT), required=True,
                           validate=validate.Length(min=1, max=10))


class CaseQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(STATUSES), load_default=None)
    kind = fields.String(validate=validate.OneOf(ALL_KINDS), load_default=None)
    village = fields.String(validate=validate.Regexp(r"^\d{6,12}$"), load_default=None)
    assigned_to_me = fields.Boolean(load_default=False)
    q = fields.String(validate=validate.Length(max=50), load_default=None)


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
