from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from backend.forms.definition import LANGUAGES


class LabelField(fields.Dict):
    """Words by language ({"zh-CN": ..., "en": ...})."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)


class FormSectionSchema(Schema):
    name = fields.String(required=True)
    label = LabelField(required=True)
    relevant = fields.String(metadata={"description": "expression; the section shows when true"})
    # `fields` is taken by marshmallow itself, hence the other Python name.
    field_definitions = fields.List(
        fields.Dict(), required=True, attribute="fields", data_key="fields",
        metadata={"description": "field definitions (backend/forms/definition.py describes "
                                 "their shape)"})


class FormDefinitionSchema(Schema):
    """A published form version: it drives both the server's checks and the app's screens."""

    form_id = fields.String(required=True)
    version = fields.Integer(required=True)
    title = LabelField(required=True, metadata={"description": f"in {', '.join(LANGUAGES)}"})
    description = fields.String()
    context_fields = fields.List(fields.String())
    sections = fields.List(fields.Nested(FormSectionSchema), required=True)


class FormListSchema(Schema):
    items = fields.List(fields.Nested(FormDefinitionSchema), required=True)


class FormVersionSummarySchema(Schema):
    """One published version in brief, for the administrators' form desk."""

    form_id = fields.String(required=True)
    version = fields.Integer(required=True)
    title = LabelField(required=True)
    question_count = fields.Integer(required=True)
    source = fields.String(required=True, metadata={"description": "shipped or imported"})
    source_filename = fields.String(allow_none=True)
    imported_at = fields.DateTime(allow_none=True, metadata={"description": "UTC"})
    imported_by = fields.String(allow_none=True, metadata={"description": "display name"})


class FormVersionListSchema(Schema):
    items = fields.List(fields.Nested(FormVersionSummarySchema), required=True)


class FormImportSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "an .xlsx XLSForm (survey, choices, settings sheets)"})
