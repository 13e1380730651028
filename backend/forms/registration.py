"""What forms plug into at app start: the pull's slice of published forms."""

from __future__ import annotations

from marshmallow import fields

from backend.forms import service
from backend.forms.schemas import FormDefinitionSchema
from backend.sync.registry import SyncRegistry


def register(sync: SyncRegistry) -> None:
    sync.provide("forms", ("forms",), service.pull_forms,
                 {"forms": fields.List(fields.Nested(FormDefinitionSchema))})
