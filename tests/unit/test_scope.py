"""The one scoping helper (issue 9): a row is within an area when its jurisdiction code starts
with the area's code (official division codes nest by prefix); LIKE wildcards never widen it.
Every jurisdiction-scoped query goes through it: no hand-written prefix LIKE elsewhere."""

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, String, create_engine, insert, select
from sqlalchemy.orm import declarative_base

from backend.jurisdictions.scope import within

Base = declarative_base()


class Place(Base):
    __tablename__ = "place"
    code = Column(String(12), primary_key=True)


@dataclass
class Someone:
    jurisdiction_code: str


def _codes(scope):
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(Place), [{"code": c} for c in (
            "530621", "530621100", "530621100201", "530622", "5306_1", "53062%")])
        return sorted(connection.scalars(select(Place.code).where(within(Place.code, scope))))


def test_within_a_code_is_its_subtree():
    assert _codes("530621100") == ["530621100", "530621100201"]


def test_within_accepts_anything_with_a_jurisdiction_code():
    assert _codes(Someone("530621")) == ["530621", "530621100", "530621100201"]


def test_wildcards_in_the_code_do_not_widen_the_scope():
    assert _codes("5306_") == ["5306_1"]
    assert _codes("53062%") == ["53062%"]


def test_no_query_writes_the_prefix_like_by_hand():
    backend = Path(__file__).resolve().parents[2] / "backend"
    hand_written = re.compile(r"(jurisdiction_code|\.code)\.like\(")
    offenders = [str(p.relative_to(backend)) for p in backend.rglob("*.py")
                 if p.name != "scope.py" and hand_written.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


