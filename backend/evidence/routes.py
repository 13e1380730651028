from flask import Response, request
from flask_smorest import Blueprint

from backend.auth.guard import current_caller
from backend.errors import ProblemError
from backend.evidence import service

blp = Blueprint("photos", __name__, url_prefix="/api/photos",
                description="Visit photos, addressed by SHA-256 of their bytes")

SHA = "<string(length=64):sha256>"
_HEX = set("0123456789abcdef")


def _checked(sha256: str) -> str:
    if not set(sha256) <= _HEX:
        raise ProblemError("photo-not-found", "A photo is named by 64 lowercase hex characters.")
    return sha256


def _metadata(photo) -> dict:
    return {"sha256": photo.sha256, "format": photo.format, "width": photo.width,
            "height": photo.height, "byte_size": photo.byte_size,
            "exif_lat": photo.exif_lat, "exif_lon": photo.exif_lon,
            "exif_taken_at_local": photo.exif_taken_at_local,
            "received_at": photo.received_at.isoformat()}


@blp.route(f"/{SHA}", methods=["PUT"])
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
def exists(sha256):
    """200 when the server already holds this photo (the app then skips the upload)."""
    current_caller()
    _checked(sha256)
    return Response(status=200 if service.get(sha256) is not None else 404)


def _readable(sha256):
    caller = current_caller()
    _checked(sha256)
    if not service.can_view(caller, sha256):
        raise ProblemError("photo-not-found", "No such photo in your area.")
    return service.get(sha256)


@blp.route(f"/{SHA}", methods=["GET"])
def download(sha256):
    """The photo with every piece of metadata removed."""
    photo = _readable(sha256)
    return Response(service.read_blob(sha256, "orig"), mimetype=photo.content_type,
                    headers={"Cache-Control": "private, max-age=86400"})


@blp.route(f"/{SHA}/thumbnail", methods=["GET"])
def thumbnail(sha256):
    _readable(sha256)
    return Response(service.read_blob(sha256, "thumb"), mimetype="image/jpeg",
                    headers={"Cache-Control": "private, max-age=86400"})
