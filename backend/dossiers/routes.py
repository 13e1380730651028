from flask import Response

from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.dbtypes import writes_on_read
from backend.dossiers import rules, service
from backend.dossiers.schemas import (
    BINARY,
    DossierRequestSchema,
    DossierSchema,
    LangQuerySchema,
)
from backend.errors import ProblemError, problems

blp = Blueprint("dossiers", __name__, url_prefix="/api",
                description="The household's file (一户一档), built as a job")
watermarks = Blueprint("watermarks", __name__, url_prefix="/api/photos",
                       description="Watermarked copies of visit photos for print and export")

_HEX = set("0123456789abcdef")


@watermarks.route("/<string(length=64):sha256>/watermarked", methods=["GET"])
@signed_in
@watermarks.arguments(LangQuerySchema, location="query")
@watermarks.alt_response(200, schema=BINARY, content_type="image/jpeg", success=True,
                         description="The photo with its verified facts drawn on")
@problems(401, 404, 422)
def watermarked(query, sha256):
    """A visit photo with a watermark of verified facts only: the camera's clock (Beijing
    time) beside the server's receipt, the EXIF fix with accuracy and distance from the
    registered home, the case number, the investigators and the photo's short hash. The
    original is untouched; the copy is cached. 404 outside your scope, as for the photo."""
    caller = current_caller()
    if not set(sha256) <= _HEX:
        raise ProblemError("photo-not-found", rules.PHOTO_NOT_FOUND)
    body = service.watermarked_photo(caller, sha256, query["lang"])
    return Response(body, mimetype="image/jpeg",
                    headers={"Cache-Control": "private, max-age=86400"})


@blp.route("/households/<string:household_id>/dossiers", methods=["POST"])
@signed_in
@blp.arguments(DossierRequestSchema)
@blp.response(202, DossierSchema)
@problems(401, 403, 404, 422)
def request_dossier(payload, household_id):
    """Ask for the household's printable file. It is built by the job worker, masked for
    your roles; poll it for progress and download it when done."""
    return service.request(current_caller(), household_id, payload["lang"])


@blp.route("/dossiers/<string:dossier_id>", methods=["GET"])
@signed_in
@blp.response(200, DossierSchema)
@problems(401, 404)
def dossier_status(dossier_id):
    """Your household file's state and progress (404 for anyone else's)."""
    return service.get_own(current_caller(), dossier_id)


@blp.route("/dossiers/<string:dossier_id>/file", methods=["GET"])
@writes_on_read  # the download is audited (dossier.downloaded)
@signed_in
@blp.alt_response(200, schema=BINARY, content_type="application/pdf", success=True,
                  description="The household's file")
@problems(401, 404, 409)
def dossier_file(dossier_id):
    """The PDF of your household file; 409 while it is still being built."""
    dossier, data = service.file_of(current_caller(), dossier_id)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="household-file-{dossier.id}.pdf"',
        "Cache-Control": "private, no-store"})
