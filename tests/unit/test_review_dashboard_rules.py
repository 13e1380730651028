"""The supervisors' dashboard arithmetic and its SVG charts (issue 10), without the app."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from backend.reviews import charts
from backend.reviews import dashboard_rules as board
from backend.reviews.dashboard_rules import CaseFacts, VisitTotals

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def case(village="530621100201", team=("a", "b"), idle_days=0, overdue=False) -> CaseFacts:
    return CaseFacts(village, frozenset(team), overdue, NOW - timedelta(days=idle_days, hours=1))


def test_metrics_of_a_village():
    visits = VisitTotals(visits=4, flags=3, sent_back=1, median_duration_minutes=30.04)
    cases = [case(idle_days=10), case(idle_days=30, overdue=True), case(idle_days=61),
             case(idle_days=200, overdue=True)]
    m = board.metrics(visits, cases, NOW)
    assert m.visits == 4
    assert m.median_duration_minutes == 30.0  # rounded to a tenth
    assert m.flags_per_100_visits == 75.0
    assert m.has_issues_rate == 0.25
    assert (m.open_cases, m.overdue_cases) == (4, 2)
    # cumulative: ≥ 30 includes ≥ 60 and ≥ 120
    assert (m.untouched_30_days, m.untouched_60_days, m.untouched_120_days) == (3, 2, 1)


def test_empty_metrics_have_no_rates():
    m = board.metrics(board.NO_VISITS, [], NOW)
    assert m.visits == 0 and m.median_duration_minutes is None
    assert m.flags_per_100_visits is None and m.has_issues_rate is None
    assert m.untouched_30_days == 0


def test_days_untouched_boundaries():
    assert board.days_untouched(NOW - timedelta(days=30), NOW) == 30
    assert board.days_untouched(NOW - timedelta(days=29, hours=23), NOW) == 29
    assert board.days_untouched(NOW + timedelta(days=2), NOW) == 0  # a skewed clock


def test_by_village_and_by_team_member():
    visits = {"v1": VisitTotals(1, 1, 0, 30.0), "v2": VisitTotals(1, 0, 1, None)}
    cases = [case("v1", ("a",), idle_days=40), case("v3", (), idle_days=1)]
    villages = board.by_village(visits, cases, NOW)
    assert list(villages) == ["v1", "v2", "v3"]
    assert villages["v1"].visits == 1 and villages["v1"].untouched_30_days == 1
    assert villages["v3"].visits == 0 and villages["v3"].open_cases == 1
    members = board.by_team_member({"a": VisitTotals(1, 1, 0, 30.0),
                                    "b": VisitTotals(2, 1, 1, 30.0),
                                    "c": VisitTotals(1, 0, 1, None)},
                                   [case("v1", ("a",), idle_days=40)], NOW)
    assert set(members) == {"a", "b", "c"}
    assert members["b"].visits == 2 and members["b"].has_issues_rate == 0.5
    assert members["a"].open_cases == 1 and members["c"].open_cases == 0


def test_groups_add_up_to_sums_and_the_median_of_all_their_durations():
    parts = [board.GroupTotals(3, 2, 1, (10.0, 40.0, 20.0)),
             board.GroupTotals(2, 0, 1, (30.0,)),  # one visit without a duration
             board.GroupTotals(1, 5, 0, ())]
    # Four durations: the mean of the two middle ones (20, 30), not either of them.
    assert board.added_up(parts) == VisitTotals(6, 7, 2, 25.0)
    assert board.added_up(parts[:1]) == VisitTotals(3, 2, 1, 20.0)
    assert board.added_up(parts[2:]) == VisitTotals(1, 5, 0, None)
    assert board.added_up([]) == VisitTotals(0, 0, 0, None)


def test_every_chart_has_words_in_both_languages():
    for language in board.LANGUAGES:
        words = board.WORDS[language]
        for metric, (fields, _unit) in board.CHARTS.items():
            assert words[metric] and words[f"desc_{metric}"]
            for field in fields:
                assert words.get(field) or len(fields) == 1
    assert set(board.WORDS["en"]) == set(board.WORDS["zh-CN"])


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (0.3, 0.5), (7, 10), (12, 20),
                                                 (21, 25), (180, 200), (1, 1)])
def test_nice_ceiling(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_bar_chart_is_accessible_and_self_contained():
    svg = charts.bar_chart("退回补正率", "按村列出 <比例> & 说明", ["一村", "二村"],
                           [charts.Series("退回补正率", [0.25, None])], unit="percent",
                           language="zh-CN")
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-title chart-desc"
    assert root.find(f"{SVG}title").text == "退回补正率"
    assert root.find(f"{SVG}desc").text == "按村列出 <比例> & 说明"  # escaped, parsed back
    for forbidden in ("<script", "href", "@import", "url(", "<style", "<foreignObject"):
        assert forbidden not in svg
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "25.0%" in texts and "–" in texts and "一村" in texts and "100.0%" in texts
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    widths = [float(r.get("width")) for r in bars]
    assert widths[1] == 0 and widths[0] == pytest.approx(500 * 0.25)


def test_grouped_bars_with_legend_scale_to_a_round_axis():
    svg = charts.bar_chart("Open cases untouched", "d", ["V1"], [
        charts.Series("≥ 30 days", [12]), charts.Series("≥ 60 days", [5]),
        charts.Series("≥ 120 days", [0])])
    root = parse(svg)
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 3
    assert [float(b.get("width")) for b in bars] == [pytest.approx(500 * 12 / 20),
                                                      pytest.approx(500 * 5 / 20), 0]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"≥ 30 days", "≥ 60 days", "≥ 120 days", "20"} <= set(texts)


@pytest.mark.parametrize(("largest", "ticks"), [
    (1, ["0", "1", "2", "3", "4"]), (0, ["0", "1", "2", "3", "4"]),
    (7, ["0", "2", "4", "6", "8"]), (13, ["0", "4", "8", "12", "16"])])
def test_a_count_axis_has_whole_ticks(largest, ticks):  # issue 21: it showed 0.2 / 0.5 / 0.8
    svg = charts.bar_chart("Cases", "d", ["V1"], [charts.Series("cases", [largest])],
                           unit="count")
    texts = [t.text for t in parse(svg).iter(f"{SVG}text")]
    assert [t for t in texts if t in ticks][:5] == ticks


def test_empty_chart_says_so():
    root = parse(charts.bar_chart("T", "D", [], [charts.Series("s", [])], no_data="暂无数据"))
    assert "暂无数据" in [t.text for t in root.iter(f"{SVG}text")]
