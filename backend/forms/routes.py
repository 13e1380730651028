from flask_smorest import Blueprint

from backend.auth.guard import current_caller
from backend.forms import service

blp = Blueprint("forms", __name__, url_prefix="/api/forms",
                description="Published form definitions (one definition drives server and app)")


@blp.route("", methods=["GET"])
def list_forms():
    current_caller()
    return {"items": service.published()}


@blp.route("/<string:form_id>/<int:version>", methods=["GET"])
def get_form(form_id, version):
    current_caller()
    return service.get_definition(form_id, version)
