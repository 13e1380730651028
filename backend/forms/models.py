"""Form versions imported at run time (XLSForm). Shipped versions stay files (service.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class FormVersion(db.Model):
    """One imported version of a form: immutable once stored, like a published file.

    A submission names ``form_id`` and ``form_version``; the row it names is never changed or
    deleted, so a draft started on version 1 still validates after version 2 is imported.
    """

    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("form_id", "version", name="uq_form_version_form_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    form_id: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    definition: Mapped[dict] = mapped_column(JSON, nullable=False)
    definition_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    source_filename: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    imported_by_id: Mapped[str] = mapped_column(String(36), ForeignKey("user_account.id"),
                                                nullable=False)
