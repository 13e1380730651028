from flask_smorest import Blueprint

from backend.auth.guard import current_caller
from backend.errors import problems
from backend.forms import service
from backend.forms.schemas import FormDefinitionSchema, FormListSchema

blp = Blueprint("forms", __name__, url_prefix="/api/forms",
                description="Published form definitions (one definition drives server and app)")


@blp.route("", methods=["GET"])
@blp.response(200, FormListSchema)
@problems(401)
def list_forms():
    """Every published form version."""
    current_caller()
    return {"items": service.published()}


@blp.route("/<string:form_id>/<int:version>", methods=["GET"])
@blp.response(200, FormDefinitionSchema)
@problems(401, 404)
def get_form(form_id, version):
    """One published form version; it never changes once published."""
    current_caller()
    return service.get_definition(form_id, version)
