from flask import Response, request

from backend.auth.guard import current_caller
from backend.blueprint import Blueprint
from backend.errors import ProblemError, problem_response, problems
from backend.evidence import service
from backend.evidence.schemas import BINARY, PHOTO_MEDIA_TYPES, PhotoSchema

blp = Blueprint("photos", __name__, url_prefix="/api/photos",
                description="Visit photos, addressed by SHA-256 of their bytes")

SHA = "<string(length=64):sha256>"
_HEX = set("0123456789abcdef")
# One answer for a missing photo and for one the caller may not see.
NOT_FOUND = "No such photo in your area; upload it if it is yours."


def _checked(sha256: str) -> str:
    if not set(sha256) <= _HEX:
        raise ProblemError("photo-not-found", NOT_FOUND)
    return sha256


def _metadata(photo) -> dict:
    return {"sha256": photo.sha256, "format": photo.format, "width": photo.width,
            "height": photo.height, "byte_size": photo.byte_size,
            "exif_lat": photo.exif_lat, "exif_lon": photo.exif_lon,
            "exif_taken_at_local": photo.exif_taken_at_local,
            "received_at": photo.received_at}


def _image_responses(func):
    """Document a 200 that is the image itself, in any of the accepted formats."""
    for media_type in PHOTO_MEDIA_TYPES:
        func = blp.alt_response(200, schema=BINARY, content_type=media_type, success=True,
                                description="The image, every piece of metadata removed")(func)
    return func


@blp.route(f"/{SHA}", methods=["PUT"])
@blp.doc(requestBody={"required": True, "description": "the photo's raw bytes",
                      "content": {media_type: {"schema": BINARY}
                                  for media_type in PHOTO_MEDIA_TYPES}})
@blp.response(201, PhotoSchema)
@blp.alt_response(200, schema=PhotoSchema, success=True,
                  description="The server already held these bytes (a safe retry)")
@problems(401, 404, 413, 415, 422)
def upload(sha256):
    """Upload a photo's raw bytes. Idempotent: the same bytes again is a no-op (200)."""
    caller = current_caller()
    _checked(sha256)
    declared = (request.content_type or "").split(";")[0].strip().lower()
    raw = request.get_data(cache=False)
    photo, created = service.upload(caller, sha256, raw, declared or None,
                                    request.headers.get("X-Device-Id"))
    return _metadata(photo), 201 if created else 200


@blp.route(f"/{SHA}", methods=["HEAD"])
@blp.response(200, description="The server holds this photo: skip the upload")
@problems(401, 404)
def exists(sha256):
    """200 when the server holds this photo and you may see it (you uploaded it, or it is in
    a visit you may see): the app then skips the upload. Otherwise 404, the same whether the
    photo is missing or someone else's, so a hash reveals nothing."""
    caller = current_caller()
    _checked(sha256)
    if not service.can_view(caller, sha256):
        return problem_response("photo-not-found", NOT_FOUND)
    return Response(status=200)


def _readable(sha256):
    caller = current_caller()
    _checked(sha256)
    if not service.can_view(caller, sha256):
        raise ProblemError("photo-not-found", NOT_FOUND)
    return service.get(sha256)


@blp.route(f"/{SHA}", methods=["GET"])
@_image_responses
@problems(401, 404)
def download(sha256):
    """The photo with every piece of metadata removed."""
    photo = _readable(sha256)
    return Response(service.read_blob(sha256, "orig"), mimetype=photo.content_type,
                    headers={"Cache-Control": "private, max-age=86400"})


@blp.route(f"/{SHA}/thumbnail", methods=["GET"])
@blp.alt_response(200, schema=BINARY, content_type="image/jpeg", success=True,
                  description="A small JPEG, metadata removed")
@problems(401, 404)
def thumbnail(sha256):
    """A small JPEG of the photo for lists."""
    _readable(sha256)
    return Response(service.read_blob(sha256, "thumb"), mimetype="image/jpeg",
                    headers={"Cache-Control": "private, max-age=86400"})
