"""Export rules (issue 10): the cells of one visit and the members rows (the CSV formula
guard is backend.spreadsheets, tested in test_spreadsheets.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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
    assert cells["flags"] == "stamp-far-from-home、visit-too-short"  # no words given: codes
    assert cells["team"] == "张三、李四"
    assert cells["received_at"] == "2026-11-29 16:00"  # Asia/Shanghai
    assert cells["age_days"] == 3 and cells["duration_minutes"] == 31
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


def test_words_replace_every_slug_and_the_risk_reads_as_counts():  # issue 21
    words = ex.ExportWords(
        states={"received": "待审核"}, flags={"stamp-far-from-home": "定位离登记住址太远",
                                             "visit-too-short": "入户时间太短"},
        severities={"alert": "警报", "warning": "警告", "info": "提示"},
        choices={"housing_type": {"owned": "自有住房"},
                 "members.relation": {"head": "户主", "spouse": "配偶"}})
    cells = dict(zip([k for k, _, _ in ex.VISIT_COLUMNS],
                     ex.visit_cells(visit(housing_type="owned"), NOW, SHANGHAI, words),
                     strict=True))
    assert cells["state"] == "待审核" and cells["housing_type"] == "自有住房"
    assert cells["flags"] == "定位离登记住址太远、入户时间太短"
    assert cells["risk"] == "警报 1、警告 1"  # 10100
    assert ex.ExportWords().risk(0) is None
    members = ex.member_cells(visit(), words)
    relation = [k for k, _, _ in ex.MEMBER_COLUMNS].index("relation")
    assert [row[relation] for row in members] == ["配偶", "户主"]
