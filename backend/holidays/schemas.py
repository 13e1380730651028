from marshmallow import Schema, fields, validate


class HolidayOverrideSchema(Schema):
    day_on = fields.Date()
    is_working_day = fields.Boolean(metadata={
        "description": "true: a make-up workday (调休); false: a public holiday"})
    note = fields.String(allow_none=True)
    updated_at = fields.DateTime()
    updated_by_id = fields.String(allow_none=True)


class HolidayOverrideSetSchema(Schema):
    is_working_day = fields.Boolean(required=True)
    note = fields.String(validate=validate.Length(max=200), load_default=None)


class HolidayQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100), load_default=None)
