from marshmallow import Schema, fields


class JurisdictionSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)


class SettingsSchema(Schema):
    code = fields.String()
    settings = fields.Dict(keys=fields.String())


class SettingsUpdateSchema(Schema):
    settings = fields.Dict(keys=fields.String(), required=True)
