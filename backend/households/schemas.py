from marshmallow import Schema, fields, validate

from backend.households.rules import RELATIONS


class MemberCreateSchema(Schema):
    id = fields.String(validate=validate.Regexp(r"^[0-9a-f-]{36}$"), load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    id_number = fields.String(validate=validate.Length(equal=18), load_default=None)
    phone = fields.String(validate=validate.Length(equal=11), load_default=None)


class MemberSchema(Schema):
    id = fields.String()
    name = fields.String()
    relation = fields.String()
    id_number = fields.String(allow_none=True, metadata={"description": "masked unless needed"})
    phone = fields.String(allow_none=True, metadata={"description": "masked unless needed"})
    sex = fields.String(allow_none=True)
    birth_on = fields.Date(allow_none=True, metadata={
        "description": "only for roles that see the full resident ID (it would give a masked "
                       "one back); everyone sees `age`"})
    age = fields.Integer(allow_none=True, metadata={"description": "completed years today"})


class StaffRelativeSchema(Schema):
    user_id = fields.String(required=True, validate=validate.Length(equal=36))
    relation = fields.String(required=True, validate=validate.Length(min=1, max=50))


class HouseholdCreateSchema(Schema):
    id = fields.String(validate=validate.Regexp(r"^[0-9a-f-]{36}$"), load_default=None,
                       metadata={"description": "client-generated UUID for safe retries"})
    jurisdiction_code = fields.String(required=True, validate=validate.Regexp(r"^\d{12}$"))
    address = fields.String(required=True, validate=validate.Length(min=2, max=200))
    home_lat = fields.Float(validate=validate.Range(-90, 90), load_default=None)
    home_lon = fields.Float(validate=validate.Range(-180, 180), load_default=None)
    is_relative_of_staff = fields.Boolean(load_default=False)
    relative_of_staff_note = fields.String(validate=validate.Length(max=200), load_default=None)
    staff_relatives = fields.List(fields.Nested(StaffRelativeSchema), load_default=list,
                                  validate=validate.Length(max=10))
    members = fields.List(fields.Nested(MemberCreateSchema), required=True,
                          validate=validate.Length(min=1, max=30))


class RelativeOfStaffSchema(Schema):
    is_relative_of_staff = fields.Boolean(required=True)
    relative_of_staff_note = fields.String(validate=validate.Length(max=200), load_default=None,
                                           allow_none=True)


class HouseholdSchema(Schema):
    id = fields.String()
    jurisdiction_code = fields.String()
    village_name = fields.String(allow_none=True)
    address = fields.String()
    head_name = fields.String(allow_none=True)
    home_lat = fields.Float(allow_none=True)
    home_lon = fields.Float(allow_none=True)
    is_relative_of_staff = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    members = fields.List(fields.Nested(MemberSchema))


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class HouseholdQuerySchema(PageQuerySchema):
    village = fields.String(validate=validate.Regexp(r"^\d{6,12}$"), load_default=None)
    q = fields.String(validate=validate.Length(max=50), load_default=None)


class HouseholdPageSchema(Schema):
    items = fields.List(fields.Nested(HouseholdSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
