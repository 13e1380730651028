"""The supervisors' dashboard arithmetic and its SVG charts (issue 10), without the app."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from backend.cases.rules import OpenCaseCounts
from backend.reviews import charts
from backend.reviews import dashboard_rules as board
from backend.reviews.dashboard_rules import VisitTotals

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def test_metrics_of_a_village():
    visits = VisitTotals(visits=4, flags=3, sent_back=1, median_duration_minutes=30.04)
    # cumulative: >= 30 days includes >= 60 and >= 120
    m = board.metrics(visits, OpenCaseCounts(open=4, overdue=2, untouched=(3, 2, 1)))
    assert m.visits == 4
    assert m.median_duration_minutes == 30.0  # rounded to a tenth
    assert m.flags_per_100_visits == 75.0
    assert m.has_issues_rate == 0.25
    assert (m.open_cases, m.overdue_cases) == (4, 2)
    assert (m.untouched_30_days, m.untouched_60_days, m.untouched_120_days) == (3, 2, 1)


def test_empty_metrics_have_no_rates():
    m = board.metrics(board.NO_VISITS, board.NO_CASES)
    assert m.visits == 0 and m.median_duration_minutes is None
    assert m.flags_per_100_visits is None and m.has_issues_rate is None
    assert m.open_cases == m.untouched_30_days == 0


def _whole_days_untouched(last_change: datetime) -> int:
    return max(0, (NOW - last_change).days)


@pytest.mark.parametrize("age", [
    timedelta(days=30), timedelta(days=30, microseconds=-1), timedelta(days=29, hours=23),
    timedelta(days=60, seconds=1), timedelta(days=119, hours=23, minutes=59),
    timedelta(days=120), timedelta(days=400), timedelta(0), timedelta(days=-2)])
def test_a_cutoff_counts_a_case_exactly_when_its_whole_days_reach_the_mark(age):
    """The database compares last changes with the cutoffs; the dashboard means whole days
    since the last change (a change in the future, a skewed clock, is 0 days old)."""
    last_change = NOW - age
    counted = [last_change <= cutoff for cutoff in board.untouched_cutoffs(NOW)]
    assert counted == [_whole_days_untouched(last_change) >= days
                       for days in board.UNTOUCHED_DAYS]


def test_villages_add_up_to_the_total_and_every_key_is_kept():
    villages = {"v1": OpenCaseCounts(2, 1, (2, 1, 0)), "v3": OpenCaseCounts(1, 0, (0, 0, 0))}
    assert board.added_cases(villages.values()) == OpenCaseCounts(3, 1, (2, 1, 0))
    assert board.added_cases([]) == board.NO_CASES
    visits = {"v1": VisitTotals(1, 1, 0, 30.0), "v2": VisitTotals(1, 0, 1, None)}
    grouped = board.grouped(visits, villages)
    assert list(grouped) == ["v1", "v2", "v3"]
    assert grouped["v1"].visits == 1 and grouped["v1"].untouched_30_days == 2
    assert grouped["v2"].open_cases == 0 and grouped["v2"].has_issues_rate == 1.0
    assert grouped["v3"].visits == 0 and grouped["v3"].open_cases == 1


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
