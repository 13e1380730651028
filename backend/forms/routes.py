from backend.auth.guard import current_caller, signed_in
from backend.blueprint import Blueprint
from backend.errors import problems
from backend.forms import service
from backend.forms.schemas import (
    FormDefinitionSchema,
    FormImportSchema,
    FormListSchema,
    FormVersionListSchema,
)
from backend.forms.xlsform_reader import MAX_FILE_BYTES

blp = Blueprint("forms", __name__, url_prefix="/api/forms",
                description="Published form definitions (one definition drives server and app)")


@blp.route("", methods=["GET"])
@blp.response(200, FormListSchema)
@problems(401)
def list_forms():
    """Every published form version."""
    current_caller()
    return {"items": service.published()}


@blp.route("/versions", methods=["GET"])
@signed_in
@blp.response(200, FormVersionListSchema)
@problems(401, 403)
def list_versions():
    """Every published version in brief: shipped or imported, by whom and when (administrators)."""
    return {"items": service.versions(current_caller())}


@blp.route("/<string:form_id>/<int:version>", methods=["GET"])
@blp.response(200, FormDefinitionSchema)
@problems(401, 404)
def get_form(form_id, version):
    """One published form version; it never changes once published."""
    current_caller()
    return service.get_definition(form_id, version)


@blp.route("/import", methods=["POST"])
@signed_in
@blp.arguments(FormImportSchema, location="files")
@blp.response(201, FormDefinitionSchema)
@problems(401, 403, 409, 413, 422)
def import_form(files):
    """Import an XLSForm as the form's next version (county administrators).

    Phones receive it on their next sync pull; a draft keeps the version it was started with.
    Anything the form definition cannot carry is refused (422 `xlsform-invalid`), each problem
    named in `rows` with its sheet, row, column and reason; a zip bomb or an oversized file
    is 413 `xlsform-too-large`, a file that is not a workbook 422 `xlsform-unreadable`.
    """
    caller = current_caller()
    upload = files["file"]
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    return service.import_form(caller, data, upload.filename)
