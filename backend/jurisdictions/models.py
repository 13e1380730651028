from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class Jurisdiction(db.Model):
    """A node of county → township/street → village/community, keyed by its official code.

    Official codes nest by prefix (a village's 12 digits start with its township's 9,
    which start with its county's 6), so a subtree is `code LIKE 'prefix%'`.
    """

    __tablename__ = "jurisdiction"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class JurisdictionSetting(db.Model):
    """One setting that differs between places (DOMAIN.md), overriding the parent's."""

    __tablename__ = "jurisdiction_setting"

    jurisdiction_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
