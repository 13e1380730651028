from marshmallow import Schema, fields

# The media types a photo may be uploaded as, and is served back as.
PHOTO_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
BINARY = {"type": "string", "format": "binary"}


class PhotoSchema(Schema):
    """What the server learned from a photo's bytes (the bytes are served stripped)."""

    sha256 = fields.String(required=True)
    format = fields.String(required=True)
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    byte_size = fields.Integer(required=True)
    exif_lat = fields.Float(allow_none=True)
    exif_lon = fields.Float(allow_none=True)
    exif_taken_at_local = fields.String(allow_none=True, metadata={
        "description": "the camera's local time, as it wrote it"})
    received_at = fields.DateTime(required=True)
