"""Check-in rules (DOMAIN.md "Recipient check-in", 003): both sides of every threshold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from backend.checkins import rules
from backend.checkins.rules import Fix, PhotoSeen, WindowSettings

SETTINGS = WindowSettings(open_day=1, close_day=20, tolerance_days=3)


def china(y, m, d, hh=12, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=rules.CHINA).astimezone(UTC)


# --- windows -------------------------------------------------------------------------------


def test_monthly_window_is_open_day_to_close_day_of_the_month():
    window = rules.window_of_period("monthly", 2026, 3, SETTINGS)
    assert (window.key, window.opens_on, window.closes_on) == (
        "2026-03", date(2026, 3, 1), date(2026, 3, 20))
    assert window.late_until_on == date(2026, 3, 23)


def test_quarterly_window_lies_in_the_first_month_of_the_quarter():
    window = rules.window_of_period("quarterly", 2026, 2, SETTINGS)
    assert (window.key, window.opens_on, window.closes_on) == (
        "2026-Q2", date(2026, 4, 1), date(2026, 4, 20))


def test_close_day_beyond_the_month_is_clamped_to_its_last_day():
    window = rules.window_of_period("monthly", 2026, 2, WindowSettings(1, 31, 0))
    assert window.closes_on == date(2026, 2, 28)


def test_window_for_uses_china_dates_on_both_sides_of_open_day():
    # 2026-03-01 00:30 in China is still February 28th in UTC.
    assert rules.window_for("monthly", china(2026, 3, 1, 0, 30), SETTINGS).key == "2026-03"
    late_feb = rules.window_for("monthly", china(2026, 2, 28, 23, 59), SETTINGS)
    assert late_feb is None  # after Feb 20 + 3 days, before Mar 1


def test_window_for_tolerance_on_both_sides():
    assert rules.window_for("monthly", china(2026, 3, 23, 23, 59), SETTINGS).key == "2026-03"
    assert rules.window_for("monthly", china(2026, 3, 24, 0, 0), SETTINGS) is None


def test_quarterly_capture_outside_the_first_month_is_outside_every_window():
    assert rules.window_for("quarterly", china(2026, 5, 5), SETTINGS) is None
    assert rules.window_for("quarterly", china(2026, 4, 5), SETTINGS).key == "2026-Q2"


def test_tolerance_reaching_into_the_next_month():
    settings = WindowSettings(open_day=10, close_day=31, tolerance_days=5)
    window = rules.window_for("monthly", china(2026, 4, 3), settings)
    assert window is not None and window.key == "2026-03"


def test_unknown_category_raises():
    with pytest.raises(ValueError):
        rules.window_of_period("weekly", 2026, 1, SETTINGS)


# --- judging -------------------------------------------------------------------------------


def test_on_time_when_captured_by_close_and_received_within_tolerance():
    window = rules.window_of_period("monthly", 2026, 3, SETTINGS)
    assert rules.judge(window, china(2026, 3, 20, 23, 59), china(2026, 3, 23, 23)) == "on_time"


def test_late_when_captured_after_close_day():
    window = rules.window_of_period("monthly", 2026, 3, SETTINGS)
    assert rules.judge(window, china(2026, 3, 21, 0, 1), china(2026, 3, 21, 0, 2)) == "late"


def test_late_when_received_after_the_tolerance_even_if_captured_in_time():
    window = rules.window_of_period("monthly", 2026, 3, SETTINGS)
    assert rules.judge(window, china(2026, 3, 10), china(2026, 3, 24, 0, 1)) == "late"


def test_outside_every_window_is_late_never_dropped():
    assert rules.judge(None, china(2026, 3, 28), china(2026, 3, 28)) == "late"


def test_windows_between_lists_windows_judged_by_now_from_enrolment():
    windows = rules.windows_between("monthly", china(2026, 1, 1, 9), china(2026, 3, 24, 0, 1),
                                    SETTINGS)
    assert [w.key for w in windows] == ["2026-01", "2026-02", "2026-03"]
    before = rules.windows_between("monthly", china(2026, 1, 1, 9), china(2026, 3, 23, 23),
                                   SETTINGS)
    assert [w.key for w in before] == ["2026-01", "2026-02"]
    mid = rules.windows_between("monthly", china(2026, 1, 20), china(2026, 3, 24, 1), SETTINGS)
    assert [w.key for w in mid] == ["2026-01", "2026-02", "2026-03"]
    after = rules.windows_between("monthly", china(2026, 1, 21), china(2026, 3, 24, 1),
                                  SETTINGS)
    assert [w.key for w in after] == ["2026-02", "2026-03"]


def test_next_window_is_the_open_one_or_the_next():
    assert rules.next_window("monthly", china(2026, 3, 20), SETTINGS).key == "2026-03"
    assert rules.next_window("monthly", china(2026, 3, 21), SETTINGS).key == "2026-04"
    assert rules.next_window("quarterly", china(2026, 5, 2), SETTINGS).key == "2026-Q3"


def test_repeated_misses_trigger_a_periodic_review_at_the_threshold():
    assert rules.consecutive_misses(["missed", "on_time", "missed", "missed"]) == 2
    assert not rules.needs_periodic_review(["missed", "on_time", "missed"], 2)
    assert rules.needs_periodic_review(["on_time", "missed", "missed"], 2)
    assert not rules.needs_periodic_review(["missed", "missed"], 3)


# --- flags ---------------------------------------------------------------------------------

HOME = (34.2600, 108.9400)


def _north_of(point, metres):
    return (point[0] + metres / 111_195, point[1])


def test_far_from_residence_on_both_sides_of_the_threshold():
    near = _north_of(HOME, 990)
    far = _north_of(HOME, 1010)
    assert rules.residence_flags(near, HOME, None, 1000) == []
    flag, = rules.residence_flags(far, HOME, None, 1000)
    assert flag.code == "far-from-residence" and flag.data["reference"] == "registered"


def test_declared_residence_counts_for_people_living_away():
    declared = (31.2304, 121.4737)  # works in Shanghai, registered in Xi'an
    assert rules.residence_flags(_north_of(declared, 100), HOME, declared, 1000) == []
    flag, = rules.residence_flags(_north_of(declared, 5000), HOME, declared, 1000)
    assert flag.data["reference"] == "declared"


def test_no_known_residence_raises_nothing():
    assert rules.residence_flags(HOME, None, None, 1000) == []


def test_dhash_of_a_gradient_and_hamming():
    rising = [[c for c in range(9)] for _ in range(8)]
    falling = [[9 - c for c in range(9)] for _ in range(8)]
    assert rules.dhash(rising) == 0
    assert rules.dhash(falling) == 2**64 - 1
    assert rules.hamming(0b1011, 0b0001) == 2
    with pytest.raises(ValueError):
        rules.dhash([[1, 2]])


def test_photo_reuse_on_both_sides_of_the_bit_threshold():
    mine = 0xFFFF_0000_FFFF_0000
    six_off, seven_off = mine ^ 0b111111, mine ^ 0b1111111
    other = PhotoSeen("b" * 64, six_off, "r2", "h2")
    flag, = rules.photo_reuse_flags("a" * 64, mine, "r1", [other], 6)
    assert flag.data["bits"] == 6 and flag.data["scope"] == "other-household"
    assert rules.photo_reuse_flags("a" * 64, mine, "r1",
                                   [PhotoSeen("b" * 64, seven_off, "r2", "h2")], 6) == []


def test_photo_reuse_own_earlier_check_in_and_own_reference():
    mine = 12345
    earlier = PhotoSeen("b" * 64, mine, "r1", "h1")
    flag, = rules.photo_reuse_flags("a" * 64, mine, "r1", [earlier], 6)
    assert flag.data["scope"] == "same-recipient"
    reference = PhotoSeen("a" * 64, mine, "r1", "h1", is_reference=True)
    assert rules.photo_reuse_flags("a" * 64, mine, "r1", [reference], 6)
    same_bytes_again = PhotoSeen("a" * 64, mine, "r1", "h1")
    assert rules.photo_reuse_flags("a" * 64, mine, "r1", [same_bytes_again], 6)
    assert rules.photo_reuse_flags("a" * 64, mine, "r1", [], 6) == []


def test_clock_skew_on_both_sides_of_the_threshold():
    received = china(2026, 3, 5, 10)
    ok = received - timedelta(minutes=9, seconds=59)
    bad = received - timedelta(minutes=10, seconds=1)
    assert rules.clock_flags(ok, ok, received, 10) == []
    flag, = rules.clock_flags(bad, bad, received, 10)
    assert flag.code == "device-clock-skew"


def test_queued_check_in_is_not_skew_when_the_send_time_agrees():
    received = china(2026, 3, 5, 10)
    captured_yesterday = received - timedelta(days=1)
    assert rules.clock_flags(captured_yesterday, received, received, 10) == []


def test_capture_in_the_future_on_both_sides():
    received = china(2026, 3, 5, 10)
    assert rules.clock_flags(received + timedelta(minutes=9), received, received, 10) == []
    codes = [f.code for f in rules.clock_flags(received + timedelta(minutes=11), received,
                                                   received, 10)]
    assert codes == ["captured-in-future"]


def test_mocked_location_zero_accuracy_exactly():
    fix = Fix(HOME, china(2026, 3, 5))
    flag, = rules.mocked_location_flags(0, fix, None, 150)
    assert flag.data["reason"] == "zero-accuracy"
    assert rules.mocked_location_flags(0.1, fix, None, 150) == []
    assert rules.mocked_location_flags(None, fix, None, 150) == []


def test_mocked_location_impossible_speed_on_both_sides():
    start = Fix(HOME, china(2026, 3, 5, 10))
    slow = Fix(_north_of(HOME, 149_000), china(2026, 3, 5, 11))
    fast = Fix(_north_of(HOME, 151_000), china(2026, 3, 5, 11))
    assert rules.mocked_location_flags(10, slow, start, 150) == []
    flag, = rules.mocked_location_flags(10, fast, start, 150)
    assert flag.data["reason"] == "impossible-speed"
    same_instant = Fix(_north_of(HOME, 10), start.captured_at)
    assert rules.mocked_location_flags(10, same_instant, start, 150)[0].data["speed_kmh"] is None


def test_new_device_only_after_a_first_check_in():
    assert rules.device_flags("d1", "k1", set()) == []
    assert rules.device_flags("d1", "k1", {"k1"}) == []
    flag, = rules.device_flags("d2", "k2", {"k1"})
    assert flag.code == "new-device"


def test_every_flag_renders_in_both_languages():
    data = {"distance_m": 1, "threshold_m": 2, "reference": "declared", "bits": 3,
            "distance": 0.7, "skew_seconds": 700, "threshold_minutes": 10, "reason": "x"}
    for code in rules.FLAG_CODES:
        for language in ("zh", "en"):
            assert rules.render_flag(code, data, language) != code
    assert rules.render_flag("nope", {}, "en") == "nope"


# --- challenge, PIN, activation ------------------------------------------------------------


def test_challenges_on_both_sides():
    assert rules.challenge_problem({"kind": "fingers", "value": 5}) is None
    assert rules.challenge_problem({"kind": "fingers", "value": 6})
    assert rules.challenge_problem({"kind": "fingers", "value": True})
    assert rules.challenge_problem({"kind": "say_number", "value": "0042"}) is None
    assert rules.challenge_problem({"kind": "say_number", "value": "42"})
    assert rules.challenge_problem({"kind": "dance"})
    for _ in range(20):
        assert rules.challenge_problem(rules.new_challenge()) is None


@pytest.mark.parametrize("pin, ok", [("204815", True), ("12345", False), ("1234567", False),
                                     ("111111", False), ("123456", False), ("654321", False),
                                     ("12345a", False), ("１２３４５６", False)])
def test_pin_rules(pin, ok):
    assert (rules.pin_problem(pin) is None) is ok


def test_activation_code_expiry_and_single_use():
    now = china(2026, 3, 5)
    expires = now + rules.ACTIVATION_VALID_FOR
    assert rules.activation_problem(expires, None, expires - timedelta(seconds=1)) is None
    assert rules.activation_problem(expires, None, expires) == "activation-code-expired"
    assert rules.activation_problem(expires, now, now) == "activation-code-used"
    code = rules.new_activation_code()
    assert len(code) == 10 and set(code) <= set(rules.ACTIVATION_ALPHABET)
    assert rules.normalise_activation_code(" ab-cd 23 ") == "ABCD23"


def test_sms_reminders_on_the_open_day_and_three_days_before_close():
    window = rules.window_of_period("monthly", 2026, 3, SETTINGS)
    reminded = [d for d in range(1, 32) if rules.is_reminder_day(window, date(2026, 3, 1) +
                                                                  timedelta(days=d - 1))]
    assert reminded == [1, 17]
