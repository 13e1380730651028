from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.dbtypes import UtcDateTime
from backend.encryption.columns import SealedString, keep_blind_index
from backend.extensions import db

ID_NUMBER_PURPOSE = "household_member.id_number"


class Household(db.Model):
    """A registered household (户) applying or receiving assistance."""

    __tablename__ = "household"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), nullable=False, index=True
    )
    address: Mapped[str] = mapped_column(String(200), nullable=False)
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    home_located_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_relative_of_staff: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    relative_of_staff_note: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)

    members: Mapped[list[Member]] = relationship(
        cascade="all, delete-orphan", order_by="Member.position", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}


class Member(db.Model):
    """A member of the household living together (共同生活家庭成员)."""

    __tablename__ = "household_member"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("household.id"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    relation: Mapped[str] = mapped_column(String(20), nullable=False)
    # Sealed at rest (ADR 0020); lookups by ID number compare id_number_index.
    id_number: Mapped[str | None] = mapped_column(SealedString(ID_NUMBER_PURPOSE))
    id_number_index: Mapped[str | None] = mapped_column(String(32), index=True)
    phone: Mapped[str | None] = mapped_column(SealedString("household_member.phone"))
    sex: Mapped[str | None] = mapped_column(String(6))
    birth_on: Mapped[date | None] = mapped_column(Date)


keep_blind_index(Member.id_number, "id_number_index", ID_NUMBER_PURPOSE)


class StaffRelative(db.Model):
    """A declared close relative of staff (近亲属备案, 004): 100% checks, no self-dealing."""

    __tablename__ = "household_staff_relative"

    household_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("household.id"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), primary_key=True
    )
    relation: Mapped[str] = mapped_column(String(50), nullable=False)
