"""The one scoping helper: which rows lie within a jurisdiction.

Official division codes nest by prefix (county 6 digits, township 9, village 12), so a row
is within a caller's area when its jurisdiction code starts with the caller's code. Every
query that scopes by jurisdiction calls ``within`` (or, in a statement built once,
``within_bound`` with ``like_pattern``); none writes the LIKE itself.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, bindparam
from sqlalchemy.orm import InstrumentedAttribute


class HasJurisdiction(Protocol):
    @property
    def jurisdiction_code(self) -> str: ...


def _code_of(scope: str | HasJurisdiction) -> str:
    return scope if isinstance(scope, str) else scope.jurisdiction_code


def within(column: InstrumentedAttribute[str], scope: str | HasJurisdiction
           ) -> ColumnElement[bool]:
    """``column`` lies at or below ``scope`` (a code, or anything with a jurisdiction_code,
    such as a Caller). LIKE wildcards in the code are escaped."""
    return column.like(like_pattern(scope), escape="\\")


def within_bound(column: InstrumentedAttribute[str], name: str = "scope"
                 ) -> ColumnElement[bool]:
    """``within`` for a statement built once: its scope is the bound parameter ``name``,
    given ``like_pattern(scope)`` when the statement runs."""
    return column.like(bindparam(name), escape="\\")


def like_pattern(scope: str | HasJurisdiction) -> str:
    """The LIKE pattern of the rows at or below ``scope``, its wildcards escaped."""
    code = _code_of(scope)
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
