"""Export rules (issue 10): the cells of one visit, the members rows, the CSV formula guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.reviews import export_rules as ex

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def visit(**answers) -> ex.ExportVisit:
    start = NOW - timedelta(days=3, hours=1)
    return ex.ExportVisit(
        "sid", "cid", "hid", "530621100201", "一村", "received", 2, 10100,
        ["stamp-far-from-home", "visit-too-short"], ["张三", "李四"], NOW - timedelta(days=3),
        start, start + timedelta(minutes=31), 1,
        {"members": [{"name": "王", "relation": "spouse", "id_number": "x1"},
                     {"name": "李", "relation": "head", "id_number": "x2", "age": 70}],
         "contact_mobile": "139****5678", "housing_area": 45.5, "appliances": ["tv", "fridge"],
         **answers},
        {"member_count": 2, "household_monthly_income": 600})


def test_visit_cells_follow_the_columns():
    cells = dict(zip([k for k, _, _ in ex.VISIT_COLUMNS],
                     ex.visit_cells(visit(), NOW, SHANGHAI), strict=True))
    assert cells["head_name"] == "李" and cells["head_id_number"] == "x2"  # the head, not row 0
    assert cells["flags"] == "stamp-far-from-home visit-too-short"
    assert cells["team"] == "张三、李四"
    assert cells["received_at"] == "2026-11-29 16:00"  # Asia/Shanghai
    assert cells["age_days"] == 3 and cells["duration_minutes"] == 31.0
    assert cells["member_count"] == 2 and cells["household_monthly_income"] == 600
    assert cells["times_sent_back"] == 1 and cells["housing_area"] == 45.5


def test_member_rows_carry_their_index():
    rows = ex.member_cells(visit())
    keys = [k for k, _, _ in ex.MEMBER_COLUMNS]
    assert [dict(zip(keys, r, strict=True))["row"] for r in rows] == [0, 1]
    assert dict(zip(keys, rows[1], strict=True))["age"] == 70
    assert ex.member_cells(visit(members="not a list")) == []


def test_headers_in_both_languages():
    assert ex.headers(ex.VISIT_COLUMNS, "zh-CN")[0] == "入户编号"
    assert ex.headers(ex.VISIT_COLUMNS, "en")[0] == "Visit ID"


@pytest.mark.parametrize(("value", "shown"), [
    ("=1+1", "'=1+1"), ("+86", "'+86"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("a=b", "a=b"), ("王", "王"), (-2, "-2"), (4.5, "4.5"), (None, ""),
    (True, "true"),
])
def test_csv_cell_guard(value, shown):
    assert ex.csv_cell(value) == shown
