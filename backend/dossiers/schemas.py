from marshmallow import Schema, fields, validate

from backend.dossiers.rules import DOSSIER_STATES, LANGS

BINARY = {"type": "string", "format": "binary"}


class LangQuerySchema(Schema):
    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(LANGS),
                         metadata={"description": "the language of the printed words"})


class DossierRequestSchema(Schema):
    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(LANGS))


class DossierSchema(Schema):
    id = fields.String(required=True)
    household_id = fields.String(required=True)
    lang = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(DOSSIER_STATES),
                          metadata={"description": "queued, building, done or failed"})
    progress = fields.Integer(required=True, metadata={"description": "percent, 0-100"})
    step = fields.String(allow_none=True)
    requested_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    page_count = fields.Integer(allow_none=True)
    byte_size = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    file_url = fields.Method("_file_url", metadata={"description": "the PDF, once done"})

    def _file_url(self, dossier):
        return f"/api/dossiers/{dossier.id}/file" if dossier.state == "done" else None
